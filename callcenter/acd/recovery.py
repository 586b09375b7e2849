"""Restart safety: rebuild the ACD's view from PostgreSQL and ARI when the controller (re)connects.

Asterisk keeps channels in Stasis while no WebSocket holds the app, but queues no events for
it. On connect: bridged calls stay up and are tracked again, waiting callers are re-queued in
their original order, accepted callbacks keep their place, calls whose channels vanished are
closed, and agents are put back in the state their calls say they are in. What to do with
each call and agent is decided in `callcenter.acd.restart` (pure); this module reads
PostgreSQL and ARI, and the leg audit turns a leg gone missing into its hang-up event.
"""

from __future__ import annotations

from datetime import datetime

from callcenter.acd.agents import AgentState
from callcenter.acd.calls import CallState
from callcenter.acd.effects import AgentAction, CallbackRecord, Disposition, RecordEvent
from callcenter.acd.repository import restore_agent
from callcenter.acd.requested import OUTBOUND_LINE
from callcenter.acd.restart import (
    FALLBACK_CONTEXT,
    StoredCall,
    fallback_callers,
    restore,
    settle_agents,
    stale_feature_channels,
)
from callcenter.acd.service import AcdService, AgentSlot
from callcenter.infra.ari import AriEvent
from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every
from callcenter.infra.phones import canonical_caller

log = get_logger("acd.recovery")


async def load_agents(svc: AcdService) -> None:
    for row in await svc.repo.load_logged_in():
        if row["agent_id"] in svc.slots:
            continue
        try:
            agent = svc.roster.make_agent(row["agent_id"], row["seat_id"])
        except (KeyError, ValueError):
            log.warning("agent_seat_unknown", agent=row["agent_id"], seat=row["seat_id"])
            continue
        svc.slots[agent.agent_id] = AgentSlot(restore_agent(agent, row), row["interface"])


async def resync(svc: AcdService, stasis) -> None:
    app = await svc.ari.get(f"/applications/{svc.app}")
    live = set(app.get("channel_ids") or [])
    channels = await svc.ari.get("/channels")  # every channel: the fallback's callers among them
    await svc.ari.safe(svc.ari.post(f"/applications/{svc.app}/subscription", eventSource="endpoint:PJSIP"))
    if not svc.slots:
        await load_agents(svc)
    # calls this process tracked whose channels ended while the events were not flowing
    for call in list(svc.calls.values()):
        for leg in (call.caller_leg, call.agent_leg, call.citizen_leg):
            if leg and leg in svc.legs and leg not in live:
                await stasis.on_event(_destroyed(leg, svc.app))
    if not svc.calls:
        await _restore_calls(svc, live)
    await _record_fallback_calls(svc, channels)
    for channel_id in stale_feature_channels(channels, svc.app):
        log.warning("stale_feature_call_ended", channel=channel_id)
        await svc.hangup(channel_id)
    _settle_agents(svc)
    # reachability may have changed while disconnected
    for slot in list(svc.slots.values()):
        if slot.interface.startswith("PJSIP/") and slot.agent.logged_in:
            await svc.set_reachable(slot.agent.seat_id, await svc.endpoint_online(slot.agent.seat_id))
    await _retap(svc)
    svc.live_view.publish_queues()
    await svc.assign()
    svc.resyncs += 1
    log.info("acd_resynced", calls=len(svc.calls), queued=len(svc.book), agents=len(svc.slots))


async def _retap(svc: AcdService) -> None:
    """Taps left by a previous controller go; calls still bridged are transcribed again."""
    transcriber = svc.transcriber()
    if transcriber is None:
        return
    bridged = [c for c in svc.calls.values() if c.state is CallState.BRIDGED and c.agent_leg]
    try:
        await transcriber.audit([c.call_id for c in bridged])
    except Exception as exc:  # noqa: BLE001 - transcription never holds up the calls
        log.warning("transcription_audit_failed", error=str(exc))
        return
    for c in bridged:
        transcriber.call_bridged(c.call_id, c.citizen_leg if c.callback and c.citizen_leg else c.call_id,
                                 c.agent_leg or "", line=c.line)


async def _restore_calls(svc: AcdService, live: set[str]) -> None:
    rows = await svc.records.pool.fetch(
        "SELECT * FROM calls WHERE ended_at IS NULL AND queue IS NOT NULL ORDER BY queue_seq NULLS LAST, entered_at"
    )
    for row in rows:
        call_id = row["call_id"]
        legs = await svc.records.pool.fetch(
            "SELECT channel_id, answered_at, ended_at FROM call_legs WHERE call_id=$1", call_id)
        stored = StoredCall(
            call_id, row["caller"], row["queue"], row["skill"] or "general", row["priority"],
            row["queue_seq"] or svc.book.next_seq(), row["queued_at"] or row["entered_at"],
            attempts=row["attempts"] or 0, callback_waiting=row["callback_state"] == CallbackRecord.WAITING,
            answered=row["answered_at"] is not None, agent_id=row["agent_id"], seat_id=row["seat_id"],
            line=row["line"] or row["dnis"] or "",
            open_legs=tuple((leg["channel_id"], leg["answered_at"] is not None) for leg in legs if leg["ended_at"] is None),
            past_legs=tuple(leg["channel_id"] for leg in legs if leg["ended_at"] is not None))
        call, step = restore(stored, live, svc.clock())
        if call.state is not CallState.ENDED:
            svc.calls[call_id] = call
        await svc.executor.run(call, step)
    # callbacks another feature requested die with the controller: their requester (the dialler,
    # whose lease on the attempt runs out) counts the attempt interrupted and tries again
    for row in await svc.records.pool.fetch(
            "SELECT call_id FROM calls WHERE ended_at IS NULL AND line = $1 AND queue IS NULL", OUTBOUND_LINE):
        now = svc.clock()
        svc.journal.write("requested callback end", lambda c=row["call_id"], t=now: svc.records.update(
            c, RecordEvent.ENDED, at=t, ended_at=t, disposition=Disposition.CALLBACK_FAILED))


async def _record_fallback_calls(svc: AcdService, channels: list[dict]) -> None:
    """Callers the app_queue fallback took while no controller held the app get their row, and
    the app follows their channels to close it (`AcdStasis` on ChannelDestroyed)."""
    ids = {ch.get("id") for ch in channels}
    for row in await svc.records.pool.fetch(  # followed before, ended while nobody listened
            "SELECT call_id FROM calls WHERE line = $1 AND queue IS NULL AND ended_at IS NULL", FALLBACK_CONTEXT):
        if row["call_id"] not in ids:
            svc.end_fallback_call(row["call_id"])
    for ch in fallback_callers(channels, svc.fallback_calls):
        channel_id, now = ch["id"], svc.clock()
        svc.fallback_calls.add(channel_id)
        at = _asterisk_time(ch.get("creationtime")) or now
        caller = canonical_caller((ch.get("caller") or {}).get("number"))
        svc.journal.write("fallback call", lambda c=channel_id, n=caller, t=at: svc.records.call_started(
            c, caller=n, dnis="", at=t, vars={"fallback": "app_queue"}, line=FALLBACK_CONTEXT))
        await svc.ari.safe(svc.ari.post(f"/applications/{svc.app}/subscription", eventSource=f"channel:{channel_id}"))
        log.warning("fallback_call_recorded", call_id=channel_id)


def _asterisk_time(value: object) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None


def _settle_agents(svc: AcdService) -> list[str]:
    """Put agents in the state their calls say they are in; returns the agents freed (ringing or
    on a call that no longer exists)."""
    freed = []
    for transition in settle_agents(((s.agent.agent_id, s.agent.state) for s in svc.slots.values()),
                                    svc.calls.values()):
        svc.executor.agent(transition)
        if transition.action is not AgentAction.ANSWER:
            freed.append(transition.agent_id)
    return freed


class LegAudit:
    """Catches what a lost event would leave behind: a stuck agent is the most reported defect
    of contact centers. Every `interval` seconds the channels the ACD tracks are checked
    against the app's channels in Asterisk; a leg missing twice in a row (so never one that is
    still being originated) is ended as if its hang-up event had come, and agents left ringing
    or on a call that no longer exists are freed. The live view in Redis is rewritten too."""

    def __init__(self, svc: AcdService, stasis) -> None:
        self.svc, self.stasis = svc, stasis
        self._missing: set[str] = set()
        self.repaired = 0

    async def run_once(self) -> None:
        svc = self.svc
        app = await svc.ari.get(f"/applications/{svc.app}")
        live = set(app.get("channel_ids") or [])
        missing = {leg for leg in svc.legs if leg not in live}
        gone, self._missing = missing & self._missing, missing - self._missing
        for leg in gone:
            if leg in svc.legs:
                log.warning("lost_leg_repaired", leg=leg, call_id=svc.legs[leg][0], role=svc.legs[leg][1])
                self.repaired += 1
                await self.stasis.on_event(_destroyed(leg, svc.app))
        busy = set(svc.busy_elsewhere)
        for seat in busy:  # a fallback call on the seat ended without an endpoint event
            await svc.endpoint_online(seat)
        for seat in _unreachable_seats(svc):  # a phone registered again without an endpoint event
            if await svc.endpoint_online(seat):
                log.warning("seat_online_missed", seat=seat)
                await svc.set_reachable(seat, True)
        freed = _settle_agents(svc)
        if freed:
            log.warning("stuck_agents_freed", agents=freed)
            self.repaired += len(freed)
        if freed or busy - svc.busy_elsewhere:
            await svc.assign()
        svc.live_view.republish()  # a Redis restart empties the live view; this refills it

    async def run(self, interval: float = 15.0) -> None:
        # a failure here is Asterisk away: the resync on reconnect covers it
        await every(interval, self.run_once, log=log, failed="leg_audit_failed", traceback=False)


def _unreachable_seats(svc: AcdService) -> list[str]:
    return sorted({s.agent.seat_id for s in svc.slots.values() if s.agent.logged_in
                   and s.agent.state is AgentState.UNREACHABLE and s.interface.startswith("PJSIP/")})


def _destroyed(channel_id: str, app: str) -> AriEvent:
    raw = {"type": "ChannelDestroyed", "channel": {"id": channel_id}, "cause_txt": "gone while disconnected"}
    return AriEvent("ChannelDestroyed", app, "", raw)
