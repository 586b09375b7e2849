"""Restart safety: rebuild the ACD's view from PostgreSQL and ARI when the controller (re)connects.

Asterisk keeps channels in Stasis while no WebSocket holds the app, but queues no events for
it. On connect: bridged calls stay up and are tracked again, waiting callers are re-queued in
their original order, accepted callbacks keep their place, calls whose channels vanished are
closed, and agents are put back in the state their calls say they are in.
"""

from __future__ import annotations

from callcenter.acd.agents import AgentState
from callcenter.acd.repository import restore_agent
from callcenter.acd.service import AcdService, AgentSlot, CallSession
from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every

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
    await svc.ari.safe(svc.ari.post(f"/applications/{svc.app}/subscription", eventSource="endpoint:PJSIP"))
    if not svc.slots:
        await load_agents(svc)
    # calls this process tracked whose channels ended while the events were not flowing
    for session in list(svc.calls.values()):
        for leg in (session.call_id, session.agent_leg, session.citizen_leg):
            if leg and leg in svc.legs and leg not in live:
                await stasis.on_event(_destroyed(leg, svc.app))
    if not svc.calls:
        await _restore_calls(svc, live)
    await _settle_agents(svc)
    # reachability may have changed while disconnected
    for slot in list(svc.slots.values()):
        if slot.interface.startswith("PJSIP/") and slot.agent.logged_in:
            await svc.set_reachable(slot.agent.seat_id, await svc.endpoint_online(slot.agent.seat_id))
    svc.publish_queues()
    await svc.assign()
    log.info("acd_resynced", calls=len(svc.calls), queued=len(svc.book), agents=len(svc.slots))


async def _restore_calls(svc: AcdService, live: set[str]) -> None:
    rows = await svc.records.pool.fetch(
        "SELECT * FROM calls WHERE ended_at IS NULL AND queue IS NOT NULL ORDER BY queue_seq NULLS LAST, entered_at"
    )
    for row in rows:
        call_id = row["call_id"]
        session = CallSession(call_id, row["caller"], row["queue"], row["skill"] or "general",
                              priority=row["priority"], attempts=row["attempts"] or 0)
        legs = await svc.records.pool.fetch(
            "SELECT channel_id, kind, answered_at FROM call_legs WHERE call_id=$1 AND ended_at IS NULL", call_id)
        answered = [leg for leg in legs if leg["answered_at"] and leg["channel_id"] in live]
        svc.seq_of[call_id] = row["queue_seq"] or svc.book.next_seq()
        svc.entered_of[call_id] = row["queued_at"] or row["entered_at"]
        if row["callback_state"] == "waiting":
            session.callback = True
            svc.enqueue(session, entered_at=svc.entered_of[call_id], seq=svc.seq_of[call_id])
            continue
        if call_id not in live:
            await svc.records.update(call_id, "ended", at=svc.clock(), ended_at=svc.clock(), disposition="lost")
            continue
        if row["answered_at"] and answered:
            leg = answered[0]["channel_id"]
            session.state, session.agent_id, session.agent_leg = "bridged", row["agent_id"], leg
            session.bridge_id = f"{call_id}-b"
            svc.calls[call_id] = session
            svc.legs[call_id] = (call_id, "caller")
            svc.legs[leg] = (call_id, "agent")
            continue
        for leg in legs:  # an offer that was ringing when we went away: start it again
            if leg["channel_id"] in live:
                await svc.hangup(leg["channel_id"])
        svc.enqueue(session, entered_at=svc.entered_of[call_id], seq=svc.seq_of[call_id])
        await svc.moh(session, True)


async def _settle_agents(svc: AcdService) -> list[str]:
    """Put agents in the state their calls say they are in; returns the agents freed (ringing or
    on a call that no longer exists)."""
    busy = {s.agent_id for s in svc.calls.values() if s.state in ("bridged", "offering", "callback_agent")}
    freed = []
    for slot in svc.slots.values():
        a = slot.agent
        if a.agent_id in busy:
            if a.state is AgentState.RINGING and any(
                    s.agent_id == a.agent_id and s.state == "bridged" for s in svc.calls.values()):
                svc.transition(slot, "answer")
            continue
        if a.state is AgentState.RINGING:
            svc.transition(slot, "offer_cancelled")
            freed.append(a.agent_id)
        elif a.state is AgentState.ON_CALL:
            svc.transition(slot, "hangup")
            freed.append(a.agent_id)
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
        freed = await _settle_agents(svc)
        if freed:
            log.warning("stuck_agents_freed", agents=freed)
            self.repaired += len(freed)
            await svc.assign()
        svc.republish_live()  # a Redis restart empties the live view; this refills it

    async def run(self, interval: float = 15.0) -> None:
        # a failure here is Asterisk away: the resync on reconnect covers it
        await every(interval, self.run_once, log=log, failed="leg_audit_failed", traceback=False)


def _destroyed(channel_id: str, app: str):
    from callcenter.infra.ari import AriEvent

    raw = {"type": "ChannelDestroyed", "channel": {"id": channel_id}, "cause_txt": "gone while disconnected"}
    return AriEvent("ChannelDestroyed", app, "", raw)
