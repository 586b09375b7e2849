"""A fake world for the call aggregate: a real queue book, real agents, a leg index and a list
of the ARI requests and records the effects asked for (no I/O, no mocks). `World.run` applies
a step's effects the way `callcenter.acd.executor` does; `World.check` states what must hold
after every step, whatever came before."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from callcenter.acd import effects as fx
from callcenter.acd.agents import Agent, AgentState, IllegalAgentTransition
from callcenter.acd.calls import RINGING, WAITING, Arrival, Call, CallState, Step
from callcenter.acd.policy import QueueBook, QueueDef
from callcenter.acd.requested import CallbackRequest, RequestedCall

T0 = datetime(2026, 1, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
CALLER = "13912345678"
# callback offered at once, announcements every second
QDEF = QueueDef(name="general", skill="general", max_wait_s=0, announce_every_s=1)
BOOKKEEPING = (fx.TrackLeg, fx.ForgetLeg, fx.Forget, fx.Enqueue, fx.Dequeue, fx.MarkQueued, fx.AgentTransition,
               fx.PublishQueues, fx.RecordStart, fx.RecordCall, fx.RecordLeg, fx.RecordLegUpdate, fx.Note,
               fx.StartRingback, fx.CancelRingback)


class World:
    def __init__(self) -> None:
        self.now = T0
        self.book = QueueBook()
        self.legs: dict[str, tuple[str, str]] = {}
        self.calls: dict[str, Call] = {}
        self.agents: dict[str, Agent] = {}
        for agent_id, seat in (("1001", "seat01"), ("1002", "seat02")):
            agent = Agent(agent_id, seat, "A")
            agent.login(T0 - timedelta(minutes=5), True)
            self.agents[agent_id] = agent
        self.requests: list[fx.Effect] = []  # ARI requests and Assign, in order
        self.records: list[fx.Effect] = []  # journal writes, in order
        self.last: Step = Step(CallState.QUEUED)
        self.tapped: dict[str, tuple[str, str]] = {}  # call -> (party, agent leg) being transcribed
        self.reports: list[fx.ReportCallback] = []  # what requested callbacks told their requester
        self.rated: dict[str, fx.RateAfterCall] = {}  # caller channel -> its hand-over to the rating
        self.citizen_cause: int | None = 17  # Q.850 cause a citizen's unanswered leg ends with (17 busy)

    def tick(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def free_agent(self) -> tuple[str, str]:
        """An available agent and its seat (routing offers only to those)."""
        free = [a for a in self.agents.values() if a.state is AgentState.AVAILABLE] or list(self.agents.values())
        return free[0].agent_id, free[0].seat_id

    def arrive(self, call_id: str = "c1") -> Call:
        call, step = Call.arrive(Arrival(call_id, CALLER, "general", "general", up=False),
                                 self.book.next_seq(), self.now)
        self.calls[call_id] = call
        self.run(call, step)
        return call

    def request(self, call_id: str = "c1", max_attempts: int = 1, line: str = "") -> RequestedCall:
        """A callback asked for by the outbound dialler (`callcenter.acd.requested`)."""
        req = CallbackRequest(call_id, CALLER, "general", "general", f"missed:{call_id}", max_attempts=max_attempts,
                              line=line)
        call, step = RequestedCall.request(req, self.book.next_seq(), self.now)
        self.calls[call_id] = call
        self.run(call, step)
        return call

    def run(self, call: Call, step: Step, refused: type | None = None) -> Step:
        """Apply the step; an ARI request of kind `refused` fails, and the executor stops the step
        there (what followed it assumed it succeeded)."""
        assert step.state is call.state
        self.last = step
        for e in step.effects:
            if refused is not None and isinstance(e, refused):
                self.requests.append(e)
                break
            if isinstance(e, fx.TrackLeg):
                self.legs[e.channel] = (e.call_id, e.role)
            elif isinstance(e, fx.ForgetLeg):
                self.legs.pop(e.channel, None)
            elif isinstance(e, fx.Forget):
                self.calls.pop(e.call_id, None)
                for leg in e.legs:
                    self.legs.pop(leg, None)
            elif isinstance(e, fx.Enqueue):
                self.book.add(e.entry)
            elif isinstance(e, fx.Dequeue):
                if e.call_id in self.book:
                    self.book.remove(e.call_id)
            elif isinstance(e, fx.MarkQueued):
                self.book.update(e.call_id, callback_offered=e.callback_offered, callback=e.callback)
            elif isinstance(e, fx.AgentTransition):
                agent = self.agents.get(e.agent_id)
                if agent is not None and e.action is not fx.AgentAction.OFFER and agent.current_call_id != e.call_id:
                    agent = None  # as the executor: the agent is on another call by now
                try:
                    if agent is not None and e.action is fx.AgentAction.OFFER:
                        agent.offer(e.call_id, self.now)
                    elif agent is not None:
                        getattr(agent, e.action.value)(self.now)
                except IllegalAgentTransition:
                    pass  # as the executor: the agent is not where the call thought
            elif isinstance(e, fx.Transcribe):
                assert e.call_id not in self.tapped, "tapped twice"
                self.tapped[e.call_id] = (e.party, e.agent_leg)
            elif isinstance(e, fx.StopTranscribing):
                self.tapped.pop(e.call_id, None)
            elif isinstance(e, fx.ReportCallback):
                self.reports.append(e)
            elif isinstance(e, fx.RateAfterCall):
                assert e.channel not in self.rated, "handed over twice"
                self.rated[e.channel] = e
                self.requests.append(e)
            elif isinstance(e, BOOKKEEPING):
                self.records.append(e)
            else:
                self.requests.append(e)
        return step

    def effects(self, kind: type) -> list:
        return [e for e in self.last.effects if isinstance(e, kind)]

    def check(self, call: Call) -> None:
        """What holds after any step."""
        live = {leg for leg in (call.caller_leg, call.agent_leg, call.citizen_leg) if leg}
        mine = {leg for leg, (call_id, _) in self.legs.items() if call_id == call.call_id}
        if call.state is CallState.ENDED:
            assert call.call_id not in self.calls and not mine and call.call_id not in self.book
        else:
            assert mine == live, (call.state, mine, live)
            assert (call.call_id in self.book) == (call.state in WAITING), call.state
        for entry in (e.entry for e in call_effects(self.last, fx.Enqueue)):
            assert (entry.seq, entry.entered_at) == (call.seq, call.entered_at)  # its own place in line
        busy = {a.agent_id: a.state for a in self.agents.values() if a.current_call_id == call.call_id
                and a.state in (AgentState.RINGING, AgentState.ON_CALL)}
        if call.state in RINGING:
            assert busy == {call.agent_id: AgentState.RINGING}, (call.state, busy)
        elif call.state in (CallState.BRIDGED, CallState.CALLBACK_DIALING):
            assert busy == {call.agent_id: AgentState.ON_CALL}, (call.state, busy)
        else:
            assert not busy, (call.state, busy)
        # every agent-leg row of the call is closed but the one still ringing or talking (defect 10)
        opened = {e.leg for e in self.records if isinstance(e, fx.RecordLeg) and e.call_id == call.call_id}
        closed = {e.leg for e in self.records if isinstance(e, fx.RecordLegUpdate) and e.ended_at}
        assert opened - closed <= {call.agent_leg}, (call.state, opened - closed)
        # transcribed exactly while the two parties talk, and the taps are on the talking legs
        if call.state is CallState.BRIDGED:
            assert self.tapped.get(call.call_id) == (call.citizen_leg or call.call_id, call.agent_leg), call
        else:
            assert call.call_id not in self.tapped, call.state
        ended = [e for e in self.records if isinstance(e, fx.RecordCall) and e.event == fx.RecordEvent.ENDED
                 and e.call_id == call.call_id]
        assert len(ended) == (call.state is CallState.ENDED)
        # a requested callback tells its requester once that the citizen answered (never before
        # the two talk) and once how it ended, when it ends; an inbound call tells nobody
        reports = [r.event for r in self.reports if r.call_id == call.call_id]
        ends = [r for r in reports if r is not fx.CallbackEvent.CONNECTED]
        assert len(ends) == (call.state is CallState.ENDED and isinstance(call, RequestedCall)), reports
        assert reports.count(fx.CallbackEvent.CONNECTED) <= 1
        if fx.CallbackEvent.CONNECTED in reports and ends:
            assert ends == [fx.CallbackEvent.REACHED], reports
        # the requester learns why a callback did not reach the citizen: the cause its last leg
        # ended with (busy is not "no answer"; none known when it vanished as it answered or the
        # dial was refused), and no cause when the agent left or it was reached or withdrawn
        for r in (r for r in self.reports if r.call_id == call.call_id):
            if r.event is fx.CallbackEvent.NO_ANSWER and ended[0].fields["disposition"] == fx.Disposition.CALLBACK_FAILED:
                assert r.cause in (self.citizen_cause, None), r
            else:
                assert r.cause is None, r
        # a caller handed to the post-call rating: the call ended answered by its agent, the ACD
        # tracks the channel no more and never hangs it up (the rating owns it now)
        handed = self.rated.get(call.call_id)
        if handed is not None:
            assert call.state is CallState.ENDED and not call.callback and call.caller_leg is None
            assert handed.channel not in self.legs
            assert not any(isinstance(e, fx.Hangup) and e.channel == handed.channel for e in self.requests)
            assert not any(handed.channel in e.legs for e in self.last.effects if isinstance(e, fx.Forget))
            assert ended[0].fields["disposition"] == fx.Disposition.ANSWERED
            answered = [e for e in self.records if isinstance(e, fx.RecordCall) and e.event == fx.RecordEvent.ANSWERED]
            assert answered and answered[-1].fields["agent_id"] == handed.agent_id
        # a call's row ended as answered says who answered (not so if the bridge refused it), and a
        # callback is never reported or recorded connected without its agent: one whose agent hangs
        # up while the citizen's phone still rings did not reach the citizen (defect: "answered")
        answered = [e for e in self.records if isinstance(e, fx.RecordCall) and e.event == fx.RecordEvent.ANSWERED
                    and e.call_id == call.call_id]
        if ended and ended[0].fields["disposition"] == fx.Disposition.ANSWERED:
            assert answered and all(e.fields.get("agent_id") for e in answered), answered
        if call.callback and ended and ended[0].fields["disposition"] == fx.Disposition.ANSWERED:
            assert any(e.fields.get("callback_state") == fx.CallbackRecord.CONNECTED for e in answered), answered
        for r in (r for r in self.reports if r.call_id == call.call_id):
            if r.event in (fx.CallbackEvent.CONNECTED, fx.CallbackEvent.REACHED):
                assert r.agent_id, r


def call_effects(step: Step, kind: type) -> list:
    return [e for e in step.effects if isinstance(e, kind)]
