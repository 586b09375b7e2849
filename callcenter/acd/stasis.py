"""ARI events in for the ACD: callers entering the queue, agent legs answering, hang-ups at
any moment, DTMF for the callback offer, playbacks, and SIP reachability of seats."""

from __future__ import annotations

import asyncio

from callcenter.acd.agents import AgentState
from callcenter.acd.service import AcdService, CallSession
from callcenter.infra.ari import AriEvent
from callcenter.infra.logging import get_logger

log = get_logger("acd.stasis")

IVR_VARS = ("IVR_QUEUE", "IVR_SKILL", "IVR_PRIORITY", "IVR_DEPARTMENT", "IVR_LINE", "IVR_LANGUAGE", "DNIS")


def _int(value: str | None, default: int = 0) -> int:
    try:
        return max(0, min(9, int(value or default)))
    except ValueError:
        return default


class AcdStasis:
    # ChannelDestroyed: an agent leg that never answered never enters Stasis, so no StasisEnd
    EVENTS = frozenset({"StasisStart", "StasisEnd", "ChannelDestroyed", "ChannelDtmfReceived",
                        "PlaybackFinished", "EndpointStateChange"})

    def __init__(self, svc: AcdService, callbacks=None):
        self.svc = svc
        self.callbacks = callbacks  # callcenter.acd.callbacks.CallbackDialer, set by the plugin

    async def on_event(self, event: AriEvent) -> None:
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            await handler(event)

    # ------------------------------------------------------------ StasisStart
    async def _on_StasisStart(self, event: AriEvent) -> None:
        kind = event.args[0] if event.args else ""
        if kind == "inbound":
            await self.inbound(event)
        elif kind in ("agent", "cbagent"):
            await self.agent_answered(event, callback=kind == "cbagent")
        elif kind == "citizen" and self.callbacks is not None:
            await self.callbacks.citizen_answered(event)

    async def _vars(self, event: AriEvent) -> dict[str, str]:
        """The IVR's choices: from the snapshot's channelvars (ari.conf), else one GET each."""
        carried = (event.channel or {}).get("channelvars")
        if isinstance(carried, dict):
            return {n: str(carried.get(n) or "") for n in IVR_VARS}
        channel_id = event.channel_id or ""

        async def one(name: str) -> tuple[str, str]:
            res = await self.svc.ari.safe(self.svc.ari.get(f"/channels/{channel_id}/variable", variable=name))
            return name, (res or {}).get("value", "") if isinstance(res, dict) else ""

        return dict(await asyncio.gather(*(one(n) for n in IVR_VARS)))

    async def inbound(self, event: AriEvent) -> None:
        svc = self.svc
        ch = event.channel or {}
        call_id = ch["id"]
        caller = (ch.get("caller") or {}).get("number", "")
        v = await self._vars(event)
        queue = v["IVR_QUEUE"] if svc.roster.queue(v["IVR_QUEUE"] or "") else "general"
        qdef = svc.roster.queue(queue)
        skill = v["IVR_SKILL"] or (qdef.skill if qdef else "general")
        session = CallSession(call_id, caller, queue, skill, priority=_int(v["IVR_PRIORITY"]))
        now = svc.clock()
        qc = svc.enqueue(session, entered_at=now)
        svc.seq_of[call_id], svc.entered_of[call_id] = qc.seq, now
        log.info("call_queued", call_id=call_id, caller=caller, queue=queue, skill=skill,
                 priority=session.priority, position=svc.book.position_of(call_id))
        dnis = v["DNIS"] or (ch.get("dialplan") or {}).get("exten", "")
        line = v["IVR_LINE"] or None
        vars_doc = {k: val for k, val in v.items() if val}
        svc.journal.write("call start", lambda: svc.records.call_started(
            call_id, caller=caller, dnis=dnis, at=now, vars=vars_doc, line=line))
        svc.journal.write("call queued", lambda: svc.records.update(
            call_id, "queued", at=now, queue=queue, skill=skill, priority=session.priority, queued_at=now,
            queue_seq=qc.seq))
        await svc.assign()
        if ch.get("state") != "Up":  # the IVR has normally answered already
            await svc.ari.safe(svc.ari.post(f"/channels/{call_id}/answer"))
        if session.state == "queued":
            await svc.moh(session, True)
        svc.publish_queues()

    async def agent_answered(self, event: AriEvent, *, callback: bool) -> None:
        svc = self.svc
        leg = event.channel_id or ""
        call_id = event.args[1] if len(event.args) > 1 else ""
        session = svc.calls.get(call_id)
        if session is None or session.agent_leg != leg:
            log.info("stale_agent_leg", leg=leg, call_id=call_id)
            await svc.hangup(leg)
            return
        slot = svc.slots.get(session.agent_id or "")
        now = svc.clock()
        svc.cancel_ringback(leg)
        if slot is not None and slot.agent.state is AgentState.RINGING:
            svc.transition(slot, "answer")
        bridge = f"{call_id}-b"
        session.bridge_id = bridge
        await svc.ari.post("/bridges", type="mixing", bridgeId=bridge, name=f"call {call_id}", idempotent=True)
        if callback and self.callbacks is not None:
            await svc.ari.post(f"/bridges/{bridge}/addChannel", channel=leg)
            await self.callbacks.dial_citizen(session)
            return
        session.state = "bridged"
        session.answered_at = now
        await svc.moh(session, False)
        if session.playback_id:
            await svc.ari.safe(svc.ari.delete(f"/playbacks/{session.playback_id}"))
        await svc.ari.post(f"/bridges/{bridge}/addChannel", channel=f"{call_id},{leg}")
        agent_id, seat = session.agent_id, slot.agent.seat_id if slot else None
        log.info("call_answered", call_id=call_id, agent=agent_id, seat=seat)
        svc.journal.write("answered", lambda: svc.records.update(
            call_id, "answered", at=now, answered_at=now, agent_id=agent_id, seat_id=seat))
        svc.journal.write("leg answered", lambda: svc.records.leg_update(leg, answered_at=now))

    # -------------------------------------------------------------- hang-ups
    async def _on_StasisEnd(self, event: AriEvent) -> None:
        # a channel in the app is unsubscribed at StasisEnd: its ChannelDestroyed never comes
        await self._on_ChannelDestroyed(event)

    async def _on_ChannelDestroyed(self, event: AriEvent) -> None:
        svc = self.svc
        channel = event.channel_id or ""
        owner = svc.legs.pop(channel, None)
        if owner is None:
            return
        call_id, role = owner
        cause = str(event.raw.get("cause_txt") or event.raw.get("cause") or "")
        session = svc.calls.get(call_id)
        if session is None:
            return
        if role == "caller":
            await self.caller_gone(session, cause)
        elif role == "agent":
            await self.agent_gone(session, channel, cause)
        elif role == "citizen" and self.callbacks is not None:
            await self.callbacks.citizen_gone(session, channel, cause)

    async def caller_gone(self, session: CallSession, cause: str) -> None:
        svc = self.svc
        now = svc.clock()
        if session.state == "callback_wait":
            return  # the citizen hung up after accepting a callback: keeps the place in line
        if session.state == "queued":
            if session.call_id in svc.book:
                svc.book.remove(session.call_id)
            disposition = "abandoned"
        elif session.state == "offering":
            slot = svc.slots.get(session.agent_id or "")
            leg = session.agent_leg
            session.agent_leg = None
            svc.legs.pop(leg or "", None)
            await svc.hangup(leg)
            if slot is not None and slot.agent.state is AgentState.RINGING:
                svc.transition(slot, "offer_cancelled")
            disposition = "abandoned"
        else:
            await self.end_bridged(session, hang_up=session.agent_leg)
            disposition = "answered"
        self.finish(session, disposition, now)
        await svc.assign()

    async def agent_gone(self, session: CallSession, leg: str, cause: str) -> None:
        svc = self.svc
        if session.agent_leg != leg:
            return
        slot = svc.slots.get(session.agent_id or "")
        if session.state in ("offering", "callback_agent") and (
                slot is None or slot.agent.state is AgentState.RINGING):
            log.info("agent_no_answer", call_id=session.call_id, agent=session.agent_id, cause=cause)
            await svc.agent_leg_failed(session.call_id, leg, cause=cause or "no answer")
            return
        other = session.citizen_leg if session.callback else session.call_id
        await self.end_bridged(session, hang_up=other)
        self.finish(session, "answered", svc.clock())
        await svc.assign()

    async def end_bridged(self, session: CallSession, *, hang_up: str | None) -> None:
        svc = self.svc
        slot = svc.slots.get(session.agent_id or "")
        if slot is not None and slot.agent.state is AgentState.ON_CALL:
            if session.answered_at is not None:
                talk = (svc.clock() - session.answered_at).total_seconds()
                svc.handle_times.append(talk + slot.agent.config.wrap_up_s)
            svc.transition(slot, "hangup")
        elif slot is not None and slot.agent.state is AgentState.RINGING:
            svc.transition(slot, "offer_cancelled")
        if hang_up:
            svc.legs.pop(hang_up, None)
            await svc.hangup(hang_up)
        if session.bridge_id:
            await svc.ari.safe(svc.ari.delete(f"/bridges/{session.bridge_id}"))
        now = svc.clock()
        if session.agent_leg:
            agent_leg = session.agent_leg
            svc.legs.pop(agent_leg, None)
            svc.journal.write("leg end", lambda: svc.records.leg_update(agent_leg, ended_at=now))

    def finish(self, session: CallSession, disposition: str, now) -> None:
        svc = self.svc
        session.state = "ended"
        svc.calls.pop(session.call_id, None)
        svc.seq_of.pop(session.call_id, None)
        svc.entered_of.pop(session.call_id, None)
        call_id = session.call_id
        log.info("call_ended", call_id=call_id, disposition=disposition)
        svc.journal.write("ended", lambda: svc.records.update(
            call_id, "ended", at=now, ended_at=now, disposition=disposition))
        svc.publish_queues()

    # --------------------------------------------------- DTMF, playbacks, SIP
    async def _on_ChannelDtmfReceived(self, event: AriEvent) -> None:
        if self.callbacks is not None:
            await self.callbacks.dtmf(event.channel_id or "", str(event.raw.get("digit", "")))

    async def _on_PlaybackFinished(self, event: AriEvent) -> None:
        svc = self.svc
        pb = event.raw.get("playback") or {}
        target = str(pb.get("target_uri", ""))
        if not target.startswith("channel:"):
            return
        session = svc.calls.get(target[len("channel:"):])
        if session is None or session.playback_id != pb.get("id"):
            return
        session.playback_id = None
        if self.callbacks is not None and await self.callbacks.after_playback(session):
            return
        if session.state == "queued":
            await svc.moh(session, True)

    async def _on_EndpointStateChange(self, event: AriEvent) -> None:
        ep = event.raw.get("endpoint") or {}
        if ep.get("technology") == "PJSIP" and isinstance(ep.get("resource"), str):
            await self.svc.set_reachable(ep["resource"], ep.get("state") == "online")
