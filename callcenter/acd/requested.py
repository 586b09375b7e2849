"""Callbacks that another feature asks the ACD to make (pure, like `callcenter.acd.calls`).

The outbound dialler (漏话回拨, agent-driven 回访) does not dial a citizen itself when a person
must talk: it asks the ACD for a callback. `RequestedCall.request` makes a call that starts
where a queued caller who accepted the queue's callback offer is (`CALLBACK_WAIT`): in the
book with no channel, so the ACD's own routing reserves an agent first (its phone rings, the
agent answers) and only then dials the citizen with caller ID 12345, exactly as for the
queue's own callbacks. Its priority is below every inbound call (`priority < 0`): a waiting
caller always gets the next free agent first.

What differs from the queue's callback is that someone waits for the outcome: every requested
call carries its `origin` (e.g. ``missed:12``, ``survey:7``) and reports, once each, that the
citizen answered (`CONNECTED`) and how it ended (`REACHED`, `NO_ANSWER`, `AGENT_GONE`,
`CANCELLED`) in a `ReportCallback` effect; a `NO_ANSWER` carries the Q.850 cause of the
citizen's last leg, so the requester tells a busy citizen (17) from one who did not answer (19);
`AGENT_GONE`: the agent hung up while the citizen's phone rang (its leg is hung up; not reached,
no fault of the citizen's: the requester retries). It dials the citizen at most `max_attempts` times (the requester
usually asks for one and keeps its own retry policy), and `cancel` withdraws it while no
agent talks for it yet (the citizen called in meanwhile).

Its row in `calls` has `line = 'outbound'` and no `queue`: it is not an inbound call, so the
inbound figures, the missed-call scan and the restart's restore (queued calls only) skip it. The
call itself carries the line of the call it is about (`CallbackRequest.line`: the missed call's, or
the one the ticket was filed from): an outbound call is recorded and transcribed exactly when a call
on that line is (`Settings.records(line)`), and "" (not known) is the main line's rule.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from callcenter.acd import effects as fx
from callcenter.acd.arrival import CallbackPolicy
from callcenter.acd.calls import Call, CallState, Step
from callcenter.acd.effects import AgentAction, CallbackEvent, CallbackRecord, Disposition, RecordEvent

OUTBOUND_LINE = "outbound"  # the `line` of a requested callback's row in `calls`
CANCELLABLE = frozenset({CallState.CALLBACK_WAIT, CallState.CALLBACK_PARKED, CallState.CALLBACK_AGENT})


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """A callback asked for by another feature (validated: bad input raises ValueError)."""

    call_id: str  # the requester's id for it (the dialler's attempt id): one call per id
    number: str  # the citizen's number, digits
    queue: str
    skill: str
    origin: str  # whom to tell the outcome, e.g. 'missed:12'
    priority: int = -1  # below inbound (0..9)
    max_attempts: int = 1  # citizen dials before it ends as not reached
    line: str = ""  # the line of the call it is about: decides recording and transcription

    def __post_init__(self) -> None:
        if not self.call_id or not self.origin or not self.queue or not self.skill:
            raise ValueError("a callback needs an id, an origin, a queue and a skill")
        if not self.number.isdigit() or not 3 <= len(self.number) <= 20:
            raise ValueError("the number to call back must be 3 to 20 digits")
        if self.priority >= 0:
            raise ValueError("a requested callback ranks below inbound calls (priority < 0)")
        if not 1 <= self.max_attempts <= 10:
            raise ValueError("max_attempts must be 1..10")


@dataclass(eq=False)
class RequestedCall(Call):
    origin: str = ""
    max_attempts: int = 1
    citizen_cause: int | None = None  # Q.850 cause of the citizen's last leg that ended unanswered
    agent_left: bool = False  # the last dial ended because the agent hung up while the citizen's phone rang

    @classmethod
    def request(cls, r: CallbackRequest, seq: int, now: datetime) -> tuple[RequestedCall, Step]:
        """Into the book as an accepted callback (no channel yet), recorded, offered if an
        agent is free."""
        call = cls(r.call_id, r.number, r.queue, r.skill, now, seq, priority=r.priority,
                   state=CallState.CALLBACK_WAIT, callback=True, origin=r.origin, max_attempts=r.max_attempts,
                   line=r.line)
        call._do(fx.Enqueue(call.entry(), first=True),
                 fx.RecordStart(r.call_id, r.number, "", OUTBOUND_LINE, now, {"origin": r.origin}),
                 fx.RecordCall(r.call_id, RecordEvent.CALLBACK_ACCEPTED, now, {
                     "skill": r.skill, "priority": r.priority, "queue_seq": seq,
                     "callback_state": CallbackRecord.WAITING}),
                 fx.Note("callback_requested", {"call_id": r.call_id, "origin": r.origin, "skill": r.skill}),
                 fx.PublishQueues(), fx.Assign())
        return call, call._step()

    def cancel(self, now: datetime) -> Step:
        """Withdrawn by its requester: ends as cancelled unless the citizen is already being
        dialled or talks (then it runs to its end, which is reported as usual)."""
        if self.state not in CANCELLABLE:
            return self._step()
        if self.state is CallState.CALLBACK_WAIT:
            self._do(fx.Dequeue(self.call_id))
        elif self.state is CallState.CALLBACK_AGENT:  # the agent's phone rings for it: stop it
            leg, self.agent_leg = self.agent_leg, None
            self._hangup(leg)
            if leg:
                self._do(fx.CancelRingback(leg), fx.RecordLegUpdate(leg, ended_at=now, cause="callback cancelled"))
            self._do(fx.AgentTransition(self.agent_id or "", AgentAction.OFFER_CANCELLED, self.call_id))
            self.agent_id = self.seat_id = None
        self._finish(Disposition.CANCELLED, now)
        self._do(fx.Assign())
        return self._step()

    def citizen_answered(self, leg: str, now: datetime) -> Step:
        before = self.state
        step = super().citizen_answered(leg, now)
        if before is CallState.CALLBACK_DIALING and self.state is CallState.BRIDGED:
            report = fx.ReportCallback(self.call_id, self.origin, CallbackEvent.CONNECTED, self.agent_id)
            return Step(step.state, (*step.effects, report))
        return step

    def citizen_leg_gone(self, leg: str, cause: str, now: datetime, policy: CallbackPolicy,
                         q850: int | None = None) -> Step:
        if leg == self.citizen_leg and self.state is CallState.CALLBACK_DIALING:
            self.citizen_cause, self.agent_left = q850, False
        return super().citizen_leg_gone(leg, cause, now, replace(policy, max_attempts=self.max_attempts), q850)

    def agent_leg_gone(self, leg: str, cause: str, now: datetime, rating_team: str | None = None,
                       policy: CallbackPolicy | None = None) -> Step:
        """Never handed to the post-call rating (the citizen did not call in); an agent who hangs
        up while the citizen's phone rings ends the dial: reported `AGENT_GONE`, for a retry."""
        if leg == self.agent_leg and self.state is CallState.CALLBACK_DIALING:
            self.citizen_cause, self.agent_left = None, True
        return super().agent_leg_gone(leg, cause, now, rating_team,
                                      replace(policy or CallbackPolicy(), max_attempts=self.max_attempts))

    def _finish(self, disposition: Disposition, now: datetime) -> None:
        if self.state is CallState.BRIDGED:  # the citizen answered (a requested call has no caller leg)
            event = CallbackEvent.REACHED
        elif disposition is Disposition.CANCELLED:
            event = CallbackEvent.CANCELLED
        elif self.agent_left:
            event = CallbackEvent.AGENT_GONE
        else:
            event = CallbackEvent.NO_ANSWER
        cause = self.citizen_cause if event is CallbackEvent.NO_ANSWER and self.citizen_leg is None else None
        super()._finish(disposition, now)
        self._do(fx.ReportCallback(self.call_id, self.origin, event, self.agent_id, cause))
