"""Callbacks that keep the caller's place in line (排队回拨) and the periodic queue ticker.

A caller who waited past the queue's `max_wait_s` is offered a callback; pressing 1 keeps the
place in line and hangs up. When the call reaches the head and an agent is free, the agent is
rung first, then the citizen is dialled and bridged to the agent. No duplicate callbacks: the
call id is the key, and a callback is one `QueuedCall` in the book until it is finished.
"""

from __future__ import annotations

from datetime import timedelta

from callcenter.acd.policy import (
    announced_wait_minutes,
    announcement_due,
    estimated_wait,
    should_offer_callback,
)
from callcenter.acd.service import AcdService, CallSession
from callcenter.infra.ari import TRUNK_FORMATS, AriError, AriEvent
from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every

log = get_logger("acd.callbacks")


def position_prompt(position: int) -> str:
    ahead = position - 1
    if ahead <= 0:
        return "queue_next"
    return f"queue_position_{ahead}" if ahead <= 10 else "queue_position_more"


def wait_prompt(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    return f"wait_minutes_{minutes}" if minutes <= 10 else "wait_minutes_more"


def announcement(position: int, recent_aht_s: float | None, agents_serving: int) -> list[str]:
    """What a waiting caller hears: the callers ahead, then the expected wait when it can be
    estimated (position x recent handle time / agents serving the skill)."""
    prompts = [position_prompt(position)]
    if position > 1:
        wait = wait_prompt(announced_wait_minutes(estimated_wait(position, recent_aht_s, agents_serving)))
        if wait is not None:
            prompts.append(wait)
    return prompts


class CallbackDialer:
    def __init__(self, svc: AcdService, stasis, *, max_attempts: int = 3, retry_after_s: float = 60.0):
        self.svc = svc
        self.stasis = stasis
        self.max_attempts = max_attempts
        self.retry_after = timedelta(seconds=retry_after_s)

    async def offer(self, session: CallSession) -> None:
        self.svc.book.mark_callback_offered(session.call_id)
        await self.svc.play(session, "callback_offer")

    async def dtmf(self, channel: str, digit: str) -> None:
        svc = self.svc
        session = svc.calls.get(channel)
        qc = svc.book.get(channel)
        if session is None or qc is None or session.state != "queued" or not qc.callback_offered:
            return
        if digit != "1":
            return
        svc.book.accept_callback(channel)
        session.callback = True
        session.state = "callback_wait"
        now = svc.clock()
        log.info("callback_accepted", call_id=channel, position=svc.book.position_of(channel))
        svc.journal.write("callback", lambda: svc.records.update(channel, "callback_accepted", at=now,
                                                                  callback_state="waiting"))
        if session.playback_id:
            await svc.ari.safe(svc.ari.delete(f"/playbacks/{session.playback_id}"))
        await svc.play(session, "callback_accepted")
        svc.publish_queues()

    async def after_playback(self, session: CallSession) -> bool:
        if session.callback and session.state == "callback_wait":
            await self.svc.hangup(session.call_id)  # the place in line stays in the book
            return True
        return False

    async def dial_citizen(self, session: CallSession) -> None:
        svc = self.svc
        leg = f"cb{session.attempts}-{session.call_id}"
        session.citizen_leg = leg
        svc.legs[leg] = (session.call_id, "citizen")
        try:
            await svc.ari.post("/channels", endpoint=f"Local/{session.caller}@outbound/n", app=svc.app,
                               appArgs=f"citizen,{session.call_id}", channelId=leg, callerId="12345", formats=TRUNK_FORMATS,
                               timeout=30, idempotent=False)
        except AriError as exc:
            log.warning("callback_dial_failed", call_id=session.call_id, error=str(exc))
            await self.citizen_gone(session, leg, "dial failed")

    async def citizen_answered(self, event: AriEvent) -> None:
        svc = self.svc
        leg = event.channel_id or ""
        session = svc.calls.get(event.args[1] if len(event.args) > 1 else "")
        if session is None or session.citizen_leg != leg or not session.bridge_id:
            await svc.hangup(leg)
            return
        session.state = "bridged"
        await svc.ari.post(f"/bridges/{session.bridge_id}/addChannel", channel=leg)
        now = svc.clock()
        agent_id, call_id = session.agent_id, session.call_id
        slot = svc.slots.get(agent_id or "")
        seat = slot.agent.seat_id if slot else None
        log.info("callback_connected", call_id=call_id, agent=agent_id)
        svc.journal.write("callback answered", lambda: svc.records.update(
            call_id, "answered", at=now, answered_at=now, agent_id=agent_id, seat_id=seat,
            callback_state="connected"))

    async def citizen_gone(self, session: CallSession, leg: str, cause: str) -> None:
        svc = self.svc
        svc.legs.pop(leg, None)
        if session.state == "bridged":
            await self.stasis.end_bridged(session, hang_up=session.agent_leg)
            self.stasis.finish(session, "answered", svc.clock())
            await svc.assign()
            return
        # the citizen did not answer the callback: free the agent, retry later or give up
        await self.stasis.end_bridged(session, hang_up=session.agent_leg)
        session.citizen_leg = session.agent_leg = session.agent_id = session.bridge_id = None
        now = svc.clock()
        if session.attempts >= self.max_attempts:
            self.stasis.finish(session, "callback_failed", now)
        else:
            session.retry_at = now + self.retry_after
            session.state = "callback_parked"
            log.info("callback_retry_later", call_id=session.call_id, attempts=session.attempts, cause=cause)
        await svc.assign()

    async def tick(self) -> None:
        svc = self.svc
        now = svc.clock()
        for slot in list(svc.slots.values()):
            event = slot.agent.tick(now)
            if event is not None:
                svc.record_agent(slot, event)
        for qc in svc.book.ordered_all():
            session = svc.calls.get(qc.call_id)
            qdef = svc.roster.queue(qc.queue)
            if session is None or qdef is None or session.state != "queued" or session.playback_id:
                continue
            if should_offer_callback(qc, now, qdef):
                await self.offer(session)
            elif announcement_due(qc, now, qdef, session.last_announced):
                session.last_announced = now
                await svc.play(session, *announcement(svc.book.position_of(qc.call_id), svc.recent_aht_s(),
                                                      svc.agents_serving(qc.skill)))
        for session in list(svc.calls.values()):
            if session.state == "callback_parked" and session.retry_at and session.retry_at <= now:
                session.retry_at = None
                svc.enqueue(session, entered_at=svc.entered_of.get(session.call_id, now),
                            seq=svc.seq_of.get(session.call_id))
        await svc.assign()

    async def run(self, interval: float = 0.5) -> None:
        await every(interval, self.tick, log=log, failed="acd_tick_failed")

