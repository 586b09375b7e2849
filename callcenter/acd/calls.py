"""The call aggregate: a call's states and every decision about it (pure: no I/O, no clock).

`Call` is to an ACD call what `callcenter.ivr.runner` is to the IVR: each method takes one
event (the caller hung up, the agent's leg answered, the originate failed, a callback is due,
the audit found a leg gone, ...) with the time it happened, moves the call to its new state
and returns a `Step`: that state plus the effects to carry out, in order
(`callcenter.acd.effects`). `callcenter.acd.stasis` turns ARI events into these calls and
`callcenter.acd.executor` carries the effects out. An event that no longer fits the call (a
stale agent leg answering, a leg's hang-up after the call moved on, a duplicate destroy, a
callback due for a call no longer parked) changes nothing, or only hangs the stray leg up.

The states and the events that move a call between them are in `callcenter.acd.states`.
A call keeps its place in line (`seq`, `entered_at`) for its whole life: every requeue
(`_requeue`) puts it back where it was. The names the call's record in PostgreSQL uses (its
events, dispositions, callback states) are in `callcenter.acd.effects`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callcenter.acd import effects as fx
from callcenter.acd.arrival import Arrival, CallbackPolicy, LineFacts
from callcenter.acd.effects import AgentAction, CallbackRecord, Disposition, Effect, LegRole, RecordEvent
from callcenter.acd.policy import QueuedCall, QueueDef, announcement, announcement_due, should_offer_callback
from callcenter.acd.states import RINGING, WAITING, WITH_AGENT, CallState, Step

__all__ = ["RINGING", "WAITING", "WITH_AGENT", "Call", "CallState", "Step"]


@dataclass(eq=False)
class Call:
    call_id: str  # the caller's channel id
    caller: str
    queue: str
    skill: str
    entered_at: datetime  # its place in line: entry time and arrival order, kept for requeues
    seq: int
    priority: int = 0
    state: CallState = CallState.QUEUED
    attempts: int = 0  # agent offers so far
    callback: bool = False
    callback_offered: bool = False
    caller_leg: str | None = None  # the caller's channel while it is there
    agent_id: str | None = None
    seat_id: str | None = None
    agent_leg: str | None = None
    citizen_leg: str | None = None  # a callback's leg to the citizen
    bridge_id: str | None = None
    playback_id: str | None = None
    moh: bool = False  # music on hold is playing to the caller
    last_announced: datetime | None = None
    retry_at: datetime | None = None
    answered_at: datetime | None = None
    line: str = ""  # the line dialled (a line may forbid transcription)
    _out: list[Effect] = field(default_factory=list, repr=False)

    # ------------------------------------------------------------ helpers
    def _step(self) -> Step:
        out, self._out = tuple(self._out), []
        return Step(self.state, out)

    def _do(self, *effects: Effect) -> None:
        self._out.extend(effects)

    def entry(self) -> QueuedCall:
        """The call's place in the queue book."""
        return QueuedCall(self.call_id, self.queue, self.skill, self.entered_at, self.seq,
                          priority=self.priority, callback=self.callback, caller=self.caller)

    def _requeue(self) -> None:
        """Back to its own place in line (the one requeue of the ACD)."""
        self.agent_id = self.seat_id = self.agent_leg = None
        self.state = CallState.CALLBACK_WAIT if self.callback else CallState.QUEUED
        self.callback_offered = False
        self._do(fx.Enqueue(self.entry()))

    def _moh(self, on: bool) -> None:
        if self.moh != on:
            self.moh = on
            self._do(fx.Moh(self.call_id, on))

    def _play(self, prompts: tuple[str, ...], now: datetime) -> None:
        self.playback_id = f"{self.call_id}-p{int(now.timestamp() * 1000)}"
        self._moh(False)
        self._do(fx.Play(self.call_id, self.playback_id, prompts))

    def _hangup(self, leg: str | None) -> None:
        if leg:
            self._do(fx.ForgetLeg(leg), fx.Hangup(leg))

    def _end_with_agent(self, hang_up: str | None, now: datetime) -> None:
        """The conversation (or the callback's dialling) is over: agent to wrap-up, the other
        leg hung up, the bridge gone, the agent's leg closed in the record."""
        if self.agent_id:
            talk = (now - self.answered_at).total_seconds() if self.answered_at else None
            self._do(fx.AgentTransition(self.agent_id, AgentAction.HANGUP, self.call_id, talk))
        self._hangup(hang_up)
        if self.bridge_id:
            self._do(fx.StopTranscribing(self.call_id), fx.DestroyBridge(self.bridge_id))
        if self.agent_leg:
            self._do(fx.ForgetLeg(self.agent_leg), fx.RecordLegUpdate(self.agent_leg, ended_at=now))

    def _finish(self, disposition: Disposition, now: datetime) -> None:
        legs = tuple(leg for leg in (self.caller_leg, self.agent_leg, self.citizen_leg) if leg)
        self.state = CallState.ENDED
        self.caller_leg = self.agent_leg = self.citizen_leg = None
        self._do(fx.Forget(self.call_id, legs), fx.Note("call_ended", {"call_id": self.call_id, "disposition": disposition}),
                 fx.RecordCall(self.call_id, RecordEvent.ENDED, now, {"ended_at": now, "disposition": disposition}),
                 fx.PublishQueues())

    def _leg_failed(self, leg: str, cause: str, action: AgentAction, now: datetime) -> None:
        """The agent's leg ended before it answered: the agent as `action` says, the call back
        to its place in line."""
        if leg != self.agent_leg or self.state not in RINGING:
            return
        if self.agent_id:
            self._do(fx.AgentTransition(self.agent_id, action, self.call_id))
        self._do(fx.RecordLegUpdate(leg, ended_at=now, cause=cause))
        self._requeue()

    # ------------------------------------------------------------ arrival and routing
    @classmethod
    def arrive(cls, a: Arrival, seq: int, now: datetime) -> tuple[Call, Step]:
        """A caller entered the ACD: into the book, recorded, offered if an agent is free
        (then `first_round_done`)."""
        call = cls(a.call_id, a.caller, a.queue, a.skill, now, seq, priority=a.priority, caller_leg=a.call_id,
                   line=a.line or a.dnis)
        call._do(fx.TrackLeg(a.call_id, a.call_id, LegRole.CALLER), fx.Enqueue(call.entry(), first=True),
                 fx.RecordStart(a.call_id, a.caller, a.dnis, a.line, now, a.vars),
                 fx.RecordCall(a.call_id, RecordEvent.QUEUED, now, {
                     "queue": a.queue, "skill": a.skill, "priority": a.priority, "queued_at": now,
                     "queue_seq": seq}),
                 fx.Assign())
        if not a.up:  # the IVR has normally answered already
            call._do(fx.Answer(a.call_id))
        return call, call._step()

    def first_round_done(self) -> Step:
        """Not offered at once: music while waiting."""
        if self.state is CallState.QUEUED:
            self._moh(True)
        self._do(fx.PublishQueues())
        return self._step()

    def offer(self, agent_id: str, seat_id: str, now: datetime) -> Step:
        """Routing picked an agent: ring the seat."""
        if self.state not in WAITING:
            self._do(fx.Dequeue(self.call_id))  # not waiting any more: out of the book
            return self._step()
        self.attempts += 1
        leg = f"a{self.attempts}-{self.call_id}"
        self.agent_id, self.seat_id, self.agent_leg = agent_id, seat_id, leg
        self.state = CallState.CALLBACK_AGENT if self.callback else CallState.OFFERING
        self._do(fx.Dequeue(self.call_id), fx.TrackLeg(leg, self.call_id, LegRole.AGENT),
                 fx.AgentTransition(agent_id, AgentAction.OFFER, self.call_id), fx.OriginateAgent(leg, agent_id, self.callback))
        return self._step()

    def agent_leg_created(self, leg: str, seat_id: str | None, now: datetime) -> Step:
        self._do(fx.RecordLeg(self.call_id, leg, seat_id, now))
        if leg != self.agent_leg:  # the call moved on while the originate was on its way
            self._hangup(leg)
            self._do(fx.RecordLegUpdate(leg, ended_at=now, cause="call moved on"))
        elif self.state is CallState.OFFERING and self.agent_leg == leg and not self.moh:
            self._do(fx.StartRingback(leg))
        return self._step()

    def originate_failed(self, leg: str, now: datetime) -> Step:
        """Asterisk refused the agent's leg (or made it late): not the agent's fault. No new
        offer from here: the ticker offers again within half a second (one attempt a round)."""
        if leg == self.agent_leg and self.state not in RINGING:
            return self._step()  # made after all (a time-out), and answered: the call goes on
        self._do(fx.Hangup(leg), fx.ForgetLeg(leg))
        self._leg_failed(leg, "originate failed", AgentAction.OFFER_CANCELLED, now)
        return self._step()

    def ringback_due(self, leg: str) -> Step:
        if self.state is CallState.OFFERING and self.agent_leg == leg:
            self._moh(True)
        return self._step()

    def agent_answered(self, leg: str, now: datetime) -> Step:
        if leg != self.agent_leg:
            self._do(fx.Note("stale_agent_leg", {"leg": leg, "call_id": self.call_id}), fx.Hangup(leg))
            return self._step()
        if self.state not in RINGING:
            return self._step()  # a duplicate
        self.bridge_id = f"{self.call_id}-b"
        self._do(fx.CancelRingback(leg), fx.CreateBridge(self.bridge_id))
        answer = fx.AgentTransition(self.agent_id or "", AgentAction.ANSWER, self.call_id)  # once its leg is in
        if self.callback:
            self.state, self.citizen_leg = CallState.CALLBACK_DIALING, f"cb{self.attempts}-{self.call_id}"
            self._do(fx.AddToBridge(self.bridge_id, (leg,)), answer,
                     fx.TrackLeg(self.citizen_leg, self.call_id, LegRole.CITIZEN), fx.OriginateCitizen(self.citizen_leg, self.caller))
            return self._step()
        self.state, self.answered_at = CallState.BRIDGED, now
        self._moh(False)
        if self.playback_id:
            self._do(fx.StopPlayback(self.playback_id))
            self.playback_id = None
        self._do(fx.AddToBridge(self.bridge_id, (self.call_id, leg)), answer,
                 fx.Transcribe(self.call_id, self.call_id, leg, self.line),
                 fx.Note("call_answered", {"call_id": self.call_id, "agent": self.agent_id, "seat": self.seat_id}),
                 fx.RecordCall(self.call_id, RecordEvent.ANSWERED, now, {
                     "answered_at": now, "agent_id": self.agent_id, "seat_id": self.seat_id}),
                 fx.RecordLegUpdate(leg, answered_at=now))
        return self._step()

    def bridge_add_failed(self, gone: Collection[str], now: datetime, policy: CallbackPolicy) -> Step:
        """An answer's `AddToBridge` was refused, a leg having just vanished (`gone`: those found gone); the
        executor dropped the rest of that step. Nobody talked: the answer is undone, the loss handled as before."""
        if self.state not in (CallState.BRIDGED, CallState.CALLBACK_DIALING) or not self.bridge_id:
            return self._step()
        if self.callback and self.state is CallState.BRIDGED:  # the citizen's add: not answered, then
            self.state, leg = CallState.CALLBACK_DIALING, self.citizen_leg or ""
            self._hangup(leg)  # still up if the agent's leg is the one gone
            return self.citizen_leg_gone(leg, "gone as it answered", now, policy)
        self.state = CallState.CALLBACK_AGENT if self.callback else CallState.OFFERING  # the agent still rings
        self._do(fx.DestroyBridge(self.bridge_id))
        self.bridge_id = self.citizen_leg = self.answered_at = None
        if self.caller_leg in gone:  # abandoned, as when the caller hangs up while the agent rings
            return self.caller_gone(now)
        self._hangup(self.agent_leg)  # gone, or answered a call that cannot be put through: to its place
        self._leg_failed(self.agent_leg or "", "gone as it answered", AgentAction.OFFER_CANCELLED, now)
        self._moh(self.state is CallState.QUEUED)
        return self._step()

    # ------------------------------------------------------------ hang-ups
    def caller_gone(self, now: datetime) -> Step:
        self.caller_leg = None
        self._do(fx.ForgetLeg(self.call_id))
        if self.callback:
            return self._step()  # a callback goes on without the first call's channel
        # in line or ringing again after its agent's phone died: answered already, not abandoned
        left = Disposition.ANSWERED if self.answered_at else Disposition.ABANDONED
        if self.state is CallState.QUEUED:
            self._do(fx.Dequeue(self.call_id))
            self._finish(left, now)
        elif self.state is CallState.OFFERING:
            leg, self.agent_leg = self.agent_leg, None
            self._hangup(leg)
            if leg:
                self._do(fx.RecordLegUpdate(leg, ended_at=now, cause="caller hung up"))
            self._do(fx.AgentTransition(self.agent_id or "", AgentAction.OFFER_CANCELLED, self.call_id))
            self._finish(left, now)
        elif self.state is CallState.BRIDGED:
            self._end_with_agent(self.agent_leg, now)
            self._finish(Disposition.ANSWERED, now)
        else:
            return self._step()
        self._do(fx.Assign())
        return self._step()

    def agent_leg_gone(self, leg: str, cause: str, now: datetime, rating_team: str | None = None,
                       policy: CallbackPolicy | None = None) -> Step:
        """`rating_team`: the agent's team when the post-call rating is on (None: off); `policy`:
        a callback's, for an agent who leaves while the citizen's phone still rings."""
        self._do(fx.ForgetLeg(leg))
        if leg != self.agent_leg:
            return self._step()  # an old leg, or its second event
        if self.state in RINGING:
            self._do(fx.Note("agent_no_answer", {"call_id": self.call_id, "agent": self.agent_id, "cause": cause}))
            self._leg_failed(leg, cause or "no answer", AgentAction.NO_ANSWER, now)
        elif self.state is CallState.BRIDGED and rating_team is not None and not self.callback and self.caller_leg:
            self._hand_over_for_rating(self.caller_leg, rating_team, now)
            self._finish(Disposition.ANSWERED, now)
        elif self.state is CallState.BRIDGED:
            self._end_with_agent(self.citizen_leg if self.callback else self.call_id, now)
            self._finish(Disposition.ANSWERED, now)
        elif self.state is CallState.CALLBACK_DIALING:  # nobody to put the citizen through to: stop the ringing
            self._do(fx.Note("callback_agent_gone", {"call_id": self.call_id, "agent": self.agent_id, "cause": cause}))
            leg, self.citizen_leg = self.citizen_leg, None
            self._dial_unanswered(leg, cause or "agent hung up", now, policy or CallbackPolicy())
        else:
            return self._step()
        self._do(fx.Assign())
        return self._step()

    def _dial_unanswered(self, hang_up: str | None, cause: str, now: datetime, policy: CallbackPolicy) -> None:
        """The citizen was dialled and not reached (no answer, busy, or the agent left while it rang):
        the agent to wrap-up, the other leg hung up; parked for a retry, or failed after the last."""
        self._end_with_agent(hang_up, now)
        self.agent_leg = self.agent_id = self.seat_id = self.bridge_id = None
        if self.attempts >= policy.max_attempts:
            self._finish(Disposition.CALLBACK_FAILED, now)
        else:
            self.retry_at = now + timedelta(seconds=policy.retry_after_s)
            self.state = CallState.CALLBACK_PARKED
            self._do(fx.Note("callback_retry_later", {"call_id": self.call_id, "attempts": self.attempts,
                                                   "cause": cause}))

    def _hand_over_for_rating(self, caller: str, team: str, now: datetime) -> None:
        """The agent hung up first: the caller stays on for the post-call rating (坐席服务评价),
        untracked before it leaves the app (its StasisEnd is no hang-up), never hung up here."""
        agent, seat = self.agent_id or "", self.seat_id or ""
        self._end_with_agent(None, now)
        self.caller_leg = None
        self._do(fx.ForgetLeg(caller), fx.RateAfterCall(caller, self.call_id, agent, seat, team),
                 fx.Note("rating_handover", {"call_id": self.call_id, "agent": agent}))

    def agent_lost(self, now: datetime) -> Step:
        """The agent's phone died mid-call (its seat went offline, no hang-up came): the caller
        is not left in dead air but goes back to the front of the line with an apology."""
        if self.state is not CallState.BRIDGED or self.callback or not self.caller_leg:
            return self._step()
        leg = self.agent_leg
        self._end_with_agent(None, now)
        self._hangup(leg)
        self.bridge_id, self.priority = None, 9
        self._do(fx.Note("agent_lost", {"call_id": self.call_id, "agent": self.agent_id}))
        self._requeue()
        self._play(("agent_lost",), now)
        self._do(fx.Assign())
        return self._step()

    def citizen_leg_gone(self, leg: str, cause: str, now: datetime, policy: CallbackPolicy, q850: int | None = None) -> Step:
        self._do(fx.ForgetLeg(leg))
        if leg != self.citizen_leg:
            return self._step()
        self.citizen_leg = None
        if self.state is CallState.BRIDGED:
            self._end_with_agent(self.agent_leg, now)
            self._finish(Disposition.ANSWERED, now)
        elif self.state is CallState.CALLBACK_DIALING:  # the citizen did not answer the callback
            self._dial_unanswered(self.agent_leg, cause, now, policy)
        else:
            return self._step()
        self._do(fx.Assign())
        return self._step()

    # ------------------------------------------------------------ callbacks
    def citizen_answered(self, leg: str, now: datetime) -> Step:
        if self.state is not CallState.CALLBACK_DIALING or leg != self.citizen_leg or not self.bridge_id:
            self._do(fx.Hangup(leg))
            return self._step()
        self.state = CallState.BRIDGED
        self._do(fx.AddToBridge(self.bridge_id, (leg,)), fx.Transcribe(self.call_id, leg, self.agent_leg or "", self.line),
                 fx.Note("callback_connected", {"call_id": self.call_id, "agent": self.agent_id}),
                 fx.RecordCall(self.call_id, RecordEvent.ANSWERED, now, {
                     "answered_at": now, "agent_id": self.agent_id, "seat_id": self.seat_id,
                     "callback_state": CallbackRecord.CONNECTED}))
        return self._step()

    def dtmf(self, digit: str, now: datetime) -> Step:
        """1 after the callback offer: the call keeps its place, the caller may hang up."""
        if self.state is not CallState.QUEUED or not self.callback_offered or digit != "1":
            return self._step()
        self.callback, self.state = True, CallState.CALLBACK_WAIT
        self._do(fx.MarkQueued(self.call_id, callback_offered=True, callback=True),
                 fx.Note("callback_accepted", {"call_id": self.call_id}),
                 fx.RecordCall(self.call_id, RecordEvent.CALLBACK_ACCEPTED, now,
                            {"callback_state": CallbackRecord.WAITING}))
        if self.playback_id:
            self._do(fx.StopPlayback(self.playback_id))
        self._play(("callback_accepted",), now)
        self._do(fx.PublishQueues())
        return self._step()

    def waiting_tick(self, now: datetime, entry: QueuedCall, qdef: QueueDef,
                     facts: Callable[[], LineFacts]) -> Step:
        """The ticker's look at a waiting caller: a callback offer, else an announcement."""
        if self.state is not CallState.QUEUED or self.playback_id:
            return self._step()
        if should_offer_callback(entry, now, qdef):
            self.callback_offered = True
            self._do(fx.MarkQueued(self.call_id, callback_offered=True))
            self._play(("callback_offer",), now)
        elif announcement_due(entry, now, qdef, self.last_announced):
            self.last_announced = now
            f = facts()
            self._play(tuple(announcement(f.position, f.recent_aht_s, f.agents_serving)), now)
        return self._step()

    def retry_due(self, now: datetime) -> Step:
        if self.state is CallState.CALLBACK_PARKED and self.retry_at is not None and self.retry_at <= now:
            self.retry_at = None
            self._requeue()
        return self._step()

    def playback_finished(self, playback_id: str) -> Step:
        if playback_id != self.playback_id:
            return self._step()
        self.playback_id = None
        if self.callback:
            if self.caller_leg:
                self._do(fx.Hangup(self.caller_leg))  # the place in line stays in the book
        elif self.state is CallState.QUEUED:
            self._moh(True)
        return self._step()

    def play_failed(self, playback_id: str) -> Step:
        """Nothing was played: as if it had finished (music back on, announced again later)."""
        return self.playback_finished(playback_id)
