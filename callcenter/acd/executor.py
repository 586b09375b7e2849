"""Carries out what the call aggregate decided (`callcenter.acd.effects`), in list order.

Bookkeeping effects (the queue book, the leg index, agents' state machines, the journal, logs,
timers) are applied at once; ARI requests are awaited one after the other. `start()` applies
the effects up to the first request and hands back the rest to await: `assign()` uses it so
that every agent it offers a call is ringing before any originate is sent. The outcome of an
originate or a playback is fed back to the aggregate, whose answer is carried out in turn; a
failed request whose answer replaces what followed it in its step (`SUPERSEDED`: an add to the
bridge refused because a leg just vanished) ends that step there.

A leg can vanish between any event and the requests it leads to (a caller gives up the moment
its agent answers). Each request allows for it: answering, music, playbacks, hang-ups and the
bridge's removal expect "already gone" (`AriClient.safe`); a refused originate or add to the
bridge is reported back to the call (`originate_failed`, `citizen_leg_gone`, `bridge_add_failed`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from callcenter.acd import effects as fx
from callcenter.acd.agents import IllegalAgentTransition
from callcenter.acd.calls import Call, Step
from callcenter.infra.ari import TRUNK_FORMATS, AriError, AriUnavailable
from callcenter.infra.logging import get_logger

if TYPE_CHECKING:
    from callcenter.acd.service import AcdService

log = get_logger("acd")

CITIZEN_RING_S = 30
RATING_CONTEXT = "rating-direct"  # asterisk_conf/extensions.conf: back into the app as `rating,...`


def _reported(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("callback_report_failed", error=repr(task.exception()))
# what Asterisk answers when a channel in the request is gone (400) or leaving Stasis (422)
REFUSED_AS_GONE = (400, 422)
SUPERSEDED = object()  # what an awaited effect returns when the rest of its step no longer holds


def ringback_key(leg: str) -> str:
    return f"ringback {leg}"


class Executor:
    def __init__(self, svc: AcdService) -> None:
        self.svc = svc
        self._now: dict[type, Callable[[Call, Any], None]] = {
            fx.TrackLeg: self._track, fx.ForgetLeg: self._forget_leg, fx.Forget: self._forget,
            fx.Enqueue: self._enqueue, fx.Dequeue: self._dequeue, fx.MarkQueued: self._mark_queued,
            fx.AgentTransition: lambda _call, e: self.agent(e), fx.PublishQueues: self._publish,
            fx.RecordStart: self._record_start, fx.RecordCall: self._record_call, fx.RecordLeg: self._record_leg,
            fx.RecordLegUpdate: self._record_leg_update, fx.Note: self._note,
            fx.StartRingback: self._start_ringback, fx.CancelRingback: self._cancel_ringback,
            fx.Transcribe: self._transcribe, fx.StopTranscribing: self._stop_transcribing,
            fx.ReportCallback: self._report_callback,
        }
        self._awaited: dict[type, Callable[[Call, Any], Awaitable[object]]] = {
            fx.OriginateAgent: self._originate_agent, fx.OriginateCitizen: self._originate_citizen,
            fx.Answer: self._answer, fx.CreateBridge: self._create_bridge, fx.AddToBridge: self._add_to_bridge,
            fx.DestroyBridge: self._destroy_bridge, fx.Hangup: self._hangup, fx.Moh: self._moh,
            fx.Play: self._play, fx.StopPlayback: self._stop_playback, fx.Assign: self._assign,
            fx.RateAfterCall: self._rate_after_call,
        }

    async def run(self, call: Call, step: Step) -> None:
        rest = self.start(call, step.effects)
        if rest is not None:
            await rest

    def start(self, call: Call, effects: Sequence[fx.Effect]) -> Awaitable[None] | None:
        """Apply the effects up to the first ARI request; the rest is returned, to be awaited."""
        for i, effect in enumerate(effects):
            now = self._now.get(type(effect))
            if now is None:
                return self._rest(call, effects[i:])
            now(call, effect)
        return None

    async def _rest(self, call: Call, effects: Sequence[fx.Effect]) -> None:
        for effect in effects:
            now = self._now.get(type(effect))
            if now is not None:
                now(call, effect)
            elif await self._awaited[type(effect)](call, effect) is SUPERSEDED:
                return

    # ------------------------------------------------------------ bookkeeping
    def _track(self, _call: Call, e: fx.TrackLeg) -> None:
        self.svc.legs[e.channel] = (e.call_id, e.role)

    def _forget_leg(self, _call: Call, e: fx.ForgetLeg) -> None:
        self.svc.legs.pop(e.channel, None)

    def _forget(self, call: Call, e: fx.Forget) -> None:
        if self.svc.calls.get(e.call_id) is call:
            del self.svc.calls[e.call_id]
        for leg in e.legs:
            self.svc.legs.pop(leg, None)

    def _enqueue(self, _call: Call, e: fx.Enqueue) -> None:
        book = self.svc.book
        book.add(e.entry)
        if e.first:
            q = e.entry
            log.info("call_queued", call_id=q.call_id, caller=q.caller, queue=q.queue, skill=q.skill,
                     priority=q.priority, position=book.position_of(q.call_id))

    def _dequeue(self, _call: Call, e: fx.Dequeue) -> None:
        if e.call_id in self.svc.book:
            self.svc.book.remove(e.call_id)

    def _mark_queued(self, _call: Call, e: fx.MarkQueued) -> None:
        if e.call_id in self.svc.book:
            self.svc.book.update(e.call_id, callback_offered=e.callback_offered, callback=e.callback)

    def agent(self, e: fx.AgentTransition) -> None:
        """The transition a call implies for its agent, unless the agent is no longer where the
        call thought (e.g. already freed by the leg audit, and maybe offered another call since)."""
        svc = self.svc
        slot = svc.slots.get(e.agent_id)
        if slot is None or (e.call_id and e.action is not fx.AgentAction.OFFER
                            and slot.agent.current_call_id != e.call_id):
            return
        try:
            if e.action is fx.AgentAction.OFFER:
                svc.transition(slot, "offer", e.call_id)
            else:
                svc.transition(slot, e.action.value)
        except IllegalAgentTransition:
            return
        if e.action is fx.AgentAction.HANGUP and e.talk_s is not None:
            svc.handle_times.append(e.talk_s + slot.agent.config.wrap_up_s)

    def _transcribe(self, _call: Call, e: fx.Transcribe) -> None:
        transcriber = self.svc.transcriber()
        if transcriber is not None:
            transcriber.call_bridged(e.call_id, e.party, e.agent_leg, line=e.line)

    def _stop_transcribing(self, _call: Call, e: fx.StopTranscribing) -> None:
        transcriber = self.svc.transcriber()
        if transcriber is not None:
            transcriber.call_ended(e.call_id)

    def _report_callback(self, _call: Call, e: fx.ReportCallback) -> None:
        """Tell the requesters of a callback how it went, never holding up the call."""
        for listener in self.svc.callback_listeners:
            task = asyncio.create_task(listener(e), name=f"acd-callback-report-{e.call_id}")
            self.svc.background.add(task)
            task.add_done_callback(self.svc.background.discard)
            task.add_done_callback(_reported)

    def _publish(self, _call: Call, _e: fx.PublishQueues) -> None:
        self.svc.live_view.publish_queues()

    def _record_start(self, _call: Call, e: fx.RecordStart) -> None:
        records = self.svc.records
        self.svc.journal.write("call start", lambda: records.call_started(
            e.call_id, caller=e.caller, dnis=e.dnis, at=e.at, vars=e.vars, line=e.line))

    def _record_call(self, _call: Call, e: fx.RecordCall) -> None:
        records = self.svc.records
        self.svc.journal.write(f"call {e.event}", lambda: records.update(e.call_id, e.event, at=e.at, **e.fields))

    def _record_leg(self, _call: Call, e: fx.RecordLeg) -> None:
        records = self.svc.records
        self.svc.journal.write("leg", lambda: records.leg(e.call_id, e.leg, "agent", seat_id=e.seat_id, at=e.at))

    def _record_leg_update(self, _call: Call, e: fx.RecordLegUpdate) -> None:
        records = self.svc.records
        self.svc.journal.write("leg update", lambda: records.leg_update(
            e.leg, answered_at=e.answered_at, ended_at=e.ended_at, cause=e.cause))

    def _note(self, _call: Call, e: fx.Note) -> None:
        log.info(e.event, **e.fields)

    def _start_ringback(self, call: Call, e: fx.StartRingback) -> None:
        """Music for a caller whose agent's phone still rings after `ringback_after_s`; the check
        runs in order with the call's events, so it never races the agent answering."""
        svc, key = self.svc, ringback_key(e.leg)

        async def check() -> None:
            if svc.calls.get(call.call_id) is call:
                await self.run(call, call.ringback_due(e.leg))

        def due() -> None:
            svc.timers.pop(key, None)
            if svc.order is not None:
                svc.order.in_order(call.call_id, check, "ringback")

        svc.timers[key] = asyncio.get_running_loop().call_later(svc.ringback_after_s, due)

    def _cancel_ringback(self, _call: Call, e: fx.CancelRingback) -> None:
        self.svc.cancel_timer(ringback_key(e.leg))

    # ------------------------------------------------------------ ARI
    async def _originate_agent(self, call: Call, e: fx.OriginateAgent) -> None:
        svc = self.svc
        slot = svc.slots[e.agent_id]
        kind = "cbagent" if e.callback else "agent"
        # the agent leg speaks what the caller speaks (as Dial does); a callback has no caller yet
        media = {"formats": TRUNK_FORMATS} if e.callback else {"originator": call.call_id}
        try:
            endpoint = svc.phones.dial(slot.interface, slot.agent.seat_id)  # the browser phone if registered
            await svc.ari.post("/channels", endpoint=endpoint, app=svc.app, **media,
                               appArgs=f"{kind},{call.call_id}", channelId=e.leg, quiet=REFUSED_AS_GONE,
                               callerId=call.caller or "12345", timeout=svc.ring_timeout_s, idempotent=False)
        except AriError as exc:
            # the caller (the originator) may have just hung up: 400 `Provided originator channel was
            # not found`; its hang-up event ends the call, in order with the call's other events
            gone = await self._gone(exc, () if e.callback else (call.call_id,))
            (log.info if gone else log.warning)("agent_originate_failed", agent=e.agent_id, call_id=call.call_id,
                                                status=exc.status, error=exc.message, gone=gone)
            await self.run(call, call.originate_failed(e.leg, svc.clock()))
            return
        await self.run(call, call.agent_leg_created(e.leg, slot.agent.seat_id, svc.clock()))

    async def _originate_citizen(self, call: Call, e: fx.OriginateCitizen) -> None:
        svc = self.svc
        try:
            await svc.ari.post("/channels", endpoint=f"Local/{e.number}@outbound/n", app=svc.app,
                               appArgs=f"citizen,{call.call_id}", channelId=e.leg, callerId="12345",
                               formats=TRUNK_FORMATS, timeout=CITIZEN_RING_S, idempotent=False)
        except AriError as exc:
            log.warning("callback_dial_failed", call_id=call.call_id, error=str(exc))
            await self.run(call, call.citizen_leg_gone(e.leg, "dial failed", svc.clock(), svc.callback_policy))

    async def _answer(self, _call: Call, e: fx.Answer) -> None:
        await self.svc.ari.safe(self.svc.ari.post(f"/channels/{e.channel}/answer"))

    async def _create_bridge(self, call: Call, e: fx.CreateBridge) -> None:
        await self.svc.ari.post("/bridges", type="mixing", bridgeId=e.bridge_id, name=f"call {call.call_id}",
                                idempotent=True)

    async def _add_to_bridge(self, call: Call, e: fx.AddToBridge) -> object:
        """Asterisk adds none of the legs if one is gone (400 `Channel not found`) or leaving (422 not
        in Stasis): the call is told which are gone and decides anew; the rest of the answer's step
        (the agent on the call, the tap, the record of the answer) is not carried out."""
        svc, ari = self.svc, self.svc.ari
        try:
            await ari.post(f"/bridges/{e.bridge_id}/addChannel", channel=",".join(e.channels), quiet=REFUSED_AS_GONE)
            return None
        except AriUnavailable:
            raise  # Asterisk unreachable: the resync on reconnect settles the call
        except AriError as exc:
            gone = await self._gone(exc, e.channels)
            (log.info if gone else log.warning)("bridge_add_failed", call_id=call.call_id, status=exc.status,
                                                error=exc.message, gone=gone)
            await self.run(call, call.bridge_add_failed(gone, svc.clock(), svc.callback_policy))
            return SUPERSEDED

    async def _gone(self, exc: AriError, channels: Sequence[str]) -> list[str]:
        """After a refused request: which of its channels Asterisk no longer has. A refusal they
        explain is expected (counted as tolerated, not as an ARI error)."""
        ari = self.svc.ari
        gone = [] if isinstance(exc, AriUnavailable) else [
            c for c in channels if await ari.safe(ari.get(f"/channels/{c}")) is None]
        if gone:
            ari.tolerated += 1
        return gone

    async def _destroy_bridge(self, _call: Call, e: fx.DestroyBridge) -> None:
        await self.svc.ari.safe(self.svc.ari.delete(f"/bridges/{e.bridge_id}"))

    async def _hangup(self, _call: Call, e: fx.Hangup) -> None:
        await self.svc.hangup(e.channel)

    async def _moh(self, call: Call, e: fx.Moh) -> None:
        """Music is never a reason to drop the rest of a step (the announcement after it, routing)."""
        ari = self.svc.ari
        try:
            if e.on:
                await ari.safe(ari.post(f"/channels/{e.channel}/moh", mohClass="default"))
            else:
                await ari.safe(ari.delete(f"/channels/{e.channel}/moh"))
        except AriError as exc:
            log.warning("moh_failed", call_id=call.call_id, on=e.on, status=exc.status, error=exc.message)

    async def _play(self, call: Call, e: fx.Play) -> None:
        ari = self.svc.ari
        media = ",".join(f"sound:callcenter/{p}" for p in e.prompts)
        try:
            if await ari.safe(ari.post(f"/channels/{e.channel}/play", media=media, playbackId=e.playback_id)):
                return
        except AriError as exc:  # a 412, a time-out, Asterisk away: nothing plays, the caller must not sit in silence
            log.warning("playback_failed", call_id=call.call_id, status=exc.status, error=exc.message)
        await self.run(call, call.play_failed(e.playback_id))

    async def _stop_playback(self, _call: Call, e: fx.StopPlayback) -> None:
        await self.svc.ari.safe(self.svc.ari.delete(f"/playbacks/{e.playback_id}"))

    async def _rate_after_call(self, _call: Call, e: fx.RateAfterCall) -> None:
        """Two requests: RATING_ARGS on the caller's channel, then `continue` into the rating
        context (Asterisk takes the channel out of its bridge and the app; it comes back as
        `rating,...`, the surveys feature's). A caller already gone (404) is nothing to do; any
        other refusal must not leave the caller in dead air, untracked: it is hung up as before."""
        ari = self.svc.ari
        args = ",".join((e.call_id, e.agent_id, e.seat_id, e.team))
        try:
            await ari.post(f"/channels/{e.channel}/variable", variable="RATING_ARGS", value=args, idempotent=True)
            await ari.post(f"/channels/{e.channel}/continue", context=RATING_CONTEXT, extension="s", priority=1)
        except AriError as exc:
            log.info("rating_handover_failed", call_id=e.call_id, status=exc.status, error=exc.message)
            if exc.status != 404:
                with contextlib.suppress(AriError):
                    await self.svc.hangup(e.channel)

    async def _assign(self, _call: Call, _e: fx.Assign) -> None:
        await self.svc.assign()
