"""The call aggregate, every state against every event (`callcenter.acd.calls`).

Each scenario brings a call to one of its states through real events; each event is then
applied to it. The table says where the call goes (anything not listed stays where it is);
`World.check` says what must hold after any step: legs tracked are the call's live legs, the
book holds exactly the waiting calls at their own place in line, the agent's state matches the
call's, a call ends once. Then the pairs that matter most are looked at effect by effect, and
a hypothesis run throws random event sequences (out of order, repeated) at a call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from call_world import CALLER, QDEF, World
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.acd import effects as fx
from callcenter.acd.agents import AgentState, PauseReason
from callcenter.acd.calls import Call, CallbackPolicy, CallState, LineFacts, Step

S = CallState
POLICY = CallbackPolicy(max_attempts=3, retry_after_s=60)
POLICY_RETRY = timedelta(seconds=POLICY.retry_after_s)
STALE_AGENT, STALE_CITIZEN = "a9-c1", "cb9-c1"


def facts() -> LineFacts:
    return LineFacts(2, 90.0, 1)


# ------------------------------------------------------------------ events
def _entry(w: World, c: Call):
    return w.book.get(c.call_id) or c.entry()


EVENTS: dict[str, Callable[[World, Call], Step]] = {
    "offer": lambda w, c: c.offer(*w.free_agent(), w.tick()),
    "originate ok": lambda w, c: c.agent_leg_created(c.agent_leg or STALE_AGENT, "seat01", w.tick()),
    "originate refused": lambda w, c: c.originate_failed(c.agent_leg or STALE_AGENT, w.tick()),
    "ringback due": lambda w, c: c.ringback_due(c.agent_leg or STALE_AGENT),
    "agent answers": lambda w, c: c.agent_answered(c.agent_leg or STALE_AGENT, w.tick()),
    "stale agent leg answers": lambda w, c: c.agent_answered(STALE_AGENT, w.tick()),
    "caller hangs up": lambda w, c: c.caller_gone(w.tick()),
    "agent leg hangs up": lambda w, c: c.agent_leg_gone(c.agent_leg or STALE_AGENT, "normal", w.tick(),
                                                        policy=POLICY),
    "old agent leg hangs up": lambda w, c: c.agent_leg_gone(STALE_AGENT, "normal", w.tick(), policy=POLICY),
    "agent leg hangs up, rating on": lambda w, c: c.agent_leg_gone(c.agent_leg or STALE_AGENT, "normal", w.tick(),
                                                                   "A", POLICY),
    "citizen answers": lambda w, c: c.citizen_answered(c.citizen_leg or STALE_CITIZEN, w.tick()),
    "citizen leg hangs up": lambda w, c: c.citizen_leg_gone(c.citizen_leg or STALE_CITIZEN, "User busy", w.tick(),
                                                            POLICY, w.citizen_cause),
    "old citizen leg hangs up": lambda w, c: c.citizen_leg_gone(STALE_CITIZEN, "User busy", w.tick(), POLICY, 19),
    "caller presses 1": lambda w, c: c.dtmf("1", w.tick()),
    "caller presses 2": lambda w, c: c.dtmf("2", w.tick()),
    "ticker": lambda w, c: c.waiting_tick(w.tick(), _entry(w, c), QDEF, facts),
    "retry due": lambda w, c: c.retry_due(w.tick(61)),
    "playback finished": lambda w, c: c.playback_finished(c.playback_id or "p-none"),
    "other playback finished": lambda w, c: c.playback_finished("p-other"),
    "playback refused": lambda w, c: c.play_failed(c.playback_id or "p-none"),
    "first round done": lambda w, c: c.first_round_done(),
    "agent's phone dies": lambda w, c: c.agent_lost(w.tick()),
    # a leg vanishes between an answer and its add to the bridge: Asterisk refuses the add
    "caller gone as the agent answers": lambda w, c: refused_add(w, c, "agent", "caller"),
    "agent leg gone as it answers": lambda w, c: refused_add(w, c, "agent", "agent"),
    "bridge refuses the answer, no leg gone": lambda w, c: refused_add(w, c, "agent", ""),
    "citizen gone as it answers": lambda w, c: refused_add(w, c, "citizen", "citizen"),
    "agent leg gone as the citizen answers": lambda w, c: refused_add(w, c, "citizen", "agent"),
}


def refused_add(w: World, c: Call, who: str, gone: str) -> Step:
    """`who` answers and its `AddToBridge` is refused, the `gone` leg having just vanished: the
    executor stops the answer's step at the refused request and reports which of its legs are gone."""
    if who == "agent":
        step = c.agent_answered(c.agent_leg or STALE_AGENT, w.tick())
    else:
        step = c.citizen_answered(c.citizen_leg or STALE_CITIZEN, w.tick())
    w.run(c, step, refused=fx.AddToBridge)
    [add] = [e for e in step.effects if isinstance(e, fx.AddToBridge)] or [None]
    if add is None:  # no add asked for: nothing to refuse
        return Step(c.state)
    legs = {"caller": c.call_id, "agent": c.agent_leg, "citizen": c.citizen_leg}
    return c.bridge_add_failed([leg for leg in add.channels if leg == legs.get(gone)], w.tick(0), POLICY)

# ------------------------------------------------------------------ scenarios: one per state
# each scenario is the path of events (below) that brings a new call to its state
QUEUED = ["first round done"]  # no agent free: music
QUEUED_OFFERED = [*QUEUED, "ticker", "playback finished"]  # max_wait 0: the callback offer played
OFFERING = ["offer", "originate ok", "first round done"]  # routed at once
CALLBACK_WAIT = [*QUEUED_OFFERED, "caller presses 1", "playback finished", "caller hangs up"]
CALLBACK_AGENT = [*CALLBACK_WAIT, "offer", "originate ok"]
CALLBACK_DIALING = [*CALLBACK_AGENT, "agent answers"]
SCENARIOS: dict[str, tuple[list[str], CallState]] = {
    "queued": (QUEUED, S.QUEUED), "queued_offered": (QUEUED_OFFERED, S.QUEUED), "offering": (OFFERING, S.OFFERING),
    "bridged": ([*OFFERING, "agent answers"], S.BRIDGED), "callback_wait": (CALLBACK_WAIT, S.CALLBACK_WAIT),
    "callback_agent": (CALLBACK_AGENT, S.CALLBACK_AGENT), "callback_dialing": (CALLBACK_DIALING, S.CALLBACK_DIALING),
    "callback_bridged": ([*CALLBACK_DIALING, "citizen answers"], S.BRIDGED),
    "callback_parked": ([*CALLBACK_DIALING, "citizen leg hangs up"], S.CALLBACK_PARKED),
    "ended": ([*QUEUED, "caller hangs up"], S.ENDED),
}


def build(w: World, scenario: str) -> Call:
    c = w.arrive()
    for event in SCENARIOS[scenario][0]:
        w.run(c, EVENTS[event](w, c))
    return c


# where each event takes a call (scenario -> state); every other pair leaves the state as it is
MOVES: dict[str, dict[str, CallState]] = {
    "offer": {"queued": S.OFFERING, "queued_offered": S.OFFERING, "callback_wait": S.CALLBACK_AGENT},
    "originate refused": {"offering": S.QUEUED, "callback_agent": S.CALLBACK_WAIT},
    "agent answers": {"offering": S.BRIDGED, "callback_agent": S.CALLBACK_DIALING},
    "caller hangs up": {"queued": S.ENDED, "queued_offered": S.ENDED, "offering": S.ENDED, "bridged": S.ENDED},
    # the agent leaving while the citizen still rings: the citizen is not reached (parked, as unanswered)
    "agent leg hangs up": {"offering": S.QUEUED, "callback_agent": S.CALLBACK_WAIT, "bridged": S.ENDED,
                           "callback_dialing": S.CALLBACK_PARKED, "callback_bridged": S.ENDED},
    "agent leg hangs up, rating on": {"offering": S.QUEUED, "callback_agent": S.CALLBACK_WAIT, "bridged": S.ENDED,
                                      "callback_dialing": S.CALLBACK_PARKED, "callback_bridged": S.ENDED},
    "citizen answers": {"callback_dialing": S.BRIDGED},
    "citizen leg hangs up": {"callback_dialing": S.CALLBACK_PARKED, "callback_bridged": S.ENDED},
    "caller presses 1": {"queued_offered": S.CALLBACK_WAIT},
    "retry due": {"callback_parked": S.CALLBACK_WAIT},
    "agent's phone dies": {"bridged": S.QUEUED},
    "caller gone as the agent answers": {"offering": S.ENDED, "callback_agent": S.CALLBACK_WAIT},
    "agent leg gone as it answers": {"offering": S.QUEUED, "callback_agent": S.CALLBACK_WAIT},
    "bridge refuses the answer, no leg gone": {"offering": S.QUEUED, "callback_agent": S.CALLBACK_WAIT},
    "citizen gone as it answers": {"callback_dialing": S.CALLBACK_PARKED},
    "agent leg gone as the citizen answers": {"callback_dialing": S.CALLBACK_PARKED},
}
assert set(MOVES) <= set(EVENTS) and all(set(m) <= set(SCENARIOS) for m in MOVES.values())


def test_the_scenarios_cover_every_state() -> None:
    assert {state for _, state in SCENARIOS.values()} == set(CallState)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_reaches_its_state(scenario: str) -> None:
    w = World()
    c = build(w, scenario)
    assert c.state is SCENARIOS[scenario][1]
    w.check(c)


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_state_against_every_event(scenario: str, event: str) -> None:
    w = World()
    c = build(w, scenario)
    before = (len(w.requests), c.seq, c.entered_at)
    step = w.run(c, EVENTS[event](w, c))
    expected = MOVES.get(event, {}).get(scenario, SCENARIOS[scenario][1])
    assert step.state is expected and c.state is expected
    w.check(c)
    assert (c.seq, c.entered_at) == before[1:]  # the place in line never changes
    if scenario == "ended":  # nothing of a finished call is touched again; a stray leg is hung up
        assert all(isinstance(e, fx.Hangup) for e in w.requests[before[0]:])
    if expected is S.ENDED and scenario != "ended":
        assert isinstance(w.requests[-1], fx.Assign)  # the agent it freed takes the next call


# ------------------------------------------------------------------ the pairs that matter, in detail
def requests_of(step: Step) -> list[fx.Effect]:
    return [e for e in step.effects if not isinstance(e, (fx.Note, fx.RecordCall, fx.RecordLeg, fx.RecordLegUpdate,
                                                          fx.TrackLeg, fx.ForgetLeg, fx.PublishQueues))]


def test_a_call_routed_at_once_costs_five_ari_requests() -> None:
    """What the benchmark counts: originate, bridge, add both; hang up the agent, drop the bridge."""
    w = World()
    c = w.arrive()
    w.requests.clear()
    w.run(c, c.offer("1001", "seat01", w.now))
    w.run(c, c.agent_leg_created("a1-c1", "seat01", w.now))
    w.run(c, c.first_round_done())
    w.run(c, c.agent_answered("a1-c1", w.tick()))
    w.run(c, c.caller_gone(w.tick(30)))
    ari = [e for e in w.requests if not isinstance(e, fx.Assign)]
    assert ari == [fx.OriginateAgent("a1-c1", "1001", False), fx.CreateBridge("c1-b"),
                   fx.AddToBridge("c1-b", ("c1", "a1-c1")), fx.Hangup("a1-c1"), fx.DestroyBridge("c1-b")]
    assert w.agents["1001"].state is AgentState.WRAP_UP


def test_arrival_is_recorded_in_order_and_answered_when_needed() -> None:
    w = World()
    c = w.arrive()
    kinds = [type(e) for e in w.last.effects]
    assert kinds == [fx.TrackLeg, fx.Enqueue, fx.RecordStart, fx.RecordCall, fx.Assign, fx.Answer]
    assert w.last.effects[1] == fx.Enqueue(c.entry(), first=True)
    assert w.run(c, c.first_round_done()).effects == (fx.Moh("c1", True), fx.PublishQueues())


def test_caller_hangs_up_while_the_agent_rings_frees_the_agent_without_a_missed_call() -> None:
    w = World()
    c = build(w, "offering")
    step = w.run(c, c.caller_gone(w.tick()))
    assert fx.Hangup("a1-c1") in step.effects and w.agents["1001"].state is AgentState.AVAILABLE
    [ended] = [e for e in step.effects if isinstance(e, fx.RecordCall)]
    assert ended.fields["disposition"] == fx.Disposition.ABANDONED
    assert fx.RecordLegUpdate("a1-c1", ended_at=w.now, cause="caller hung up") in step.effects  # defect 10


def test_an_agent_leg_made_after_the_caller_left_is_hung_up_and_its_row_closed() -> None:
    """Defect 10: the caller hangs up while the originate is on its way; the leg row written
    after it must not stay open (nor the agent's phone ring on)."""
    w = World()
    c = w.arrive()
    w.run(c, c.offer("1001", "seat01", w.now))
    w.run(c, c.caller_gone(w.tick()))
    step = w.run(c, c.agent_leg_created("a1-c1", "seat01", w.tick()))
    assert step.effects == (fx.RecordLeg("c1", "a1-c1", "seat01", w.now), fx.ForgetLeg("a1-c1"), fx.Hangup("a1-c1"),
                            fx.RecordLegUpdate("a1-c1", ended_at=w.now, cause="call moved on"))
    w.check(c)


def test_no_answer_pauses_the_agent_and_puts_the_call_back_in_its_place() -> None:
    w = World()
    w.arrive("c0")  # an earlier caller: c1 must come back behind it, not at the end
    c = build(w, "offering")
    later = w.arrive("c2")
    step = w.run(c, c.agent_leg_gone("a1-c1", "", w.tick(15)))
    agent = w.agents["1001"]
    assert agent.state is AgentState.PAUSED and agent.pause_reason is PauseReason.MISSED_CALL
    assert fx.RecordLegUpdate("a1-c1", ended_at=w.now, cause="no answer") in step.effects
    assert [q.call_id for q in w.book.ordered_all()] == ["c0", "c1", later.call_id]
    assert isinstance(step.effects[-1], fx.Assign)


def test_a_refused_originate_is_not_the_agents_fault_and_waits_for_the_next_round() -> None:
    w = World()
    c = w.arrive()
    w.run(c, c.offer("1001", "seat01", w.now))
    step = w.run(c, c.originate_failed("a1-c1", w.now))
    assert step.effects[0] == fx.Hangup("a1-c1")  # in case Asterisk made it late
    assert w.agents["1001"].state is AgentState.AVAILABLE and c.state is S.QUEUED
    assert not any(isinstance(e, fx.Assign) for e in step.effects)  # one originate a round


def test_the_caller_hears_music_only_when_the_agent_rings_for_long() -> None:
    w = World()
    c = w.arrive()
    w.run(c, c.offer("1001", "seat01", w.now))
    assert fx.StartRingback("a1-c1") in w.run(c, c.agent_leg_created("a1-c1", "seat01", w.now)).effects
    assert w.run(c, c.ringback_due("a1-c1")).effects == (fx.Moh("c1", True),)
    answered = w.run(c, c.agent_answered("a1-c1", w.tick()))
    assert fx.Moh("c1", False) in answered.effects and fx.CancelRingback("a1-c1") in answered.effects
    assert w.run(c, c.ringback_due("a1-c1")).effects == ()  # a timer that fires late


def test_bridged_call_ends_with_wrap_up_and_the_talk_time_for_the_estimate() -> None:
    w = World()
    c = build(w, "bridged")
    step = w.run(c, c.agent_leg_gone("a1-c1", "normal", w.tick(90)))
    [hangup] = [e for e in step.effects if isinstance(e, fx.AgentTransition)]
    assert hangup.action is fx.AgentAction.HANGUP and hangup.talk_s == 90.0
    assert requests_of(step)[1:] == [fx.Hangup("c1"), fx.StopTranscribing("c1"), fx.DestroyBridge("c1-b"),
                                     fx.Forget("c1", ("c1", "a1-c1")), fx.Assign()]
    assert w.agents["1001"].state is AgentState.WRAP_UP


def test_agent_hangs_up_first_with_the_rating_on_hands_the_caller_over_not_hung_up() -> None:
    w = World()
    c = build(w, "bridged")
    step = w.run(c, c.agent_leg_gone("a1-c1", "normal", w.tick(60), "A"))
    assert requests_of(step)[1:] == [fx.StopTranscribing("c1"), fx.DestroyBridge("c1-b"),
                                     fx.RateAfterCall("c1", "c1", "1001", "seat01", "A"),
                                     fx.Forget("c1", ("a1-c1",)), fx.Assign()]
    assert not [e for e in step.effects if isinstance(e, fx.Hangup)]
    assert w.agents["1001"].state is AgentState.WRAP_UP and "c1" not in w.legs
    w.check(c)
    # the caller's channel leaves the app afterwards (and later hangs up): none of the ACD's business
    assert requests_of(w.run(c, c.caller_gone(w.tick()))) == []
    w.check(c)


def test_caller_hanging_up_first_or_a_callback_is_never_handed_to_the_rating() -> None:
    w = World()
    c = build(w, "bridged")
    w.run(c, c.caller_gone(w.tick()))
    assert requests_of(w.run(c, c.agent_leg_gone("a1-c1", "normal", w.tick(), "A"))) == []  # its destroy
    assert not w.rated
    w = World()
    c = build(w, "callback_bridged")
    step = w.run(c, c.agent_leg_gone("a1-c1", "normal", w.tick(), "A"))
    assert fx.Hangup("cb1-c1") in step.effects and not w.rated  # the called-back citizen: as before


def test_stale_and_duplicate_leg_events_change_nothing() -> None:
    w = World()
    c = build(w, "bridged")
    assert w.run(c, c.agent_answered(STALE_AGENT, w.tick())).effects[-1] == fx.Hangup(STALE_AGENT)
    w.run(c, c.agent_leg_gone("a1-c1", "normal", w.tick()))
    assert requests_of(w.run(c, c.agent_leg_gone("a1-c1", "normal", w.tick()))) == []  # its StasisEnd too
    assert requests_of(w.run(c, c.caller_gone(w.tick()))) == []  # the caller's leg, after the end
    w.check(c)


def test_callback_accepted_keeps_the_place_and_hangs_the_caller_up_after_the_prompt() -> None:
    w = World()
    c = build(w, "queued_offered")
    step = w.run(c, c.dtmf("1", w.tick()))
    assert fx.MarkQueued("c1", callback_offered=True, callback=True) in step.effects
    assert any(isinstance(e, fx.Play) and e.prompts == ("callback_accepted",) for e in step.effects)
    assert w.book.get("c1").callback
    assert w.run(c, c.playback_finished(c.playback_id or "")).effects == (fx.Hangup("c1"),)
    assert w.run(c, c.caller_gone(w.tick())).state is S.CALLBACK_WAIT


def test_callback_rings_the_agent_first_then_dials_the_citizen() -> None:
    w = World()
    c = build(w, "callback_agent")
    assert w.last.effects == (fx.RecordLeg("c1", "a1-c1", "seat01", w.now),)  # no music: nobody listens
    step = w.run(c, c.agent_answered("a1-c1", w.tick()))
    assert requests_of(step)[-4:] == [fx.CreateBridge("c1-b"), fx.AddToBridge("c1-b", ("a1-c1",)),
                                      fx.AgentTransition("1001", fx.AgentAction.ANSWER, "c1"),
                                      fx.OriginateCitizen("cb1-c1", CALLER)]
    step = w.run(c, c.citizen_answered("cb1-c1", w.tick()))
    [record] = [e for e in step.effects if isinstance(e, fx.RecordCall)]
    assert record.fields["callback_state"] == fx.CallbackRecord.CONNECTED


def test_a_callback_not_answered_is_parked_then_retried_then_given_up() -> None:
    w = World()
    c = build(w, "callback_parked")
    assert c.retry_at == w.now + POLICY_RETRY and w.agents["1001"].state is AgentState.WRAP_UP
    assert w.run(c, c.retry_due(w.tick(30))).effects == ()  # not yet
    for attempt in (2, 3):
        w.run(c, c.retry_due(w.tick(61)))
        assert c.state is S.CALLBACK_WAIT and w.book.get("c1").callback
        w.agents["1001"].wrap_up_done(w.now)
        w.run(c, c.offer("1001", "seat01", w.now))
        w.run(c, c.agent_answered(f"a{attempt}-c1", w.tick()))
        w.run(c, c.citizen_leg_gone(f"cb{attempt}-c1", "busy", w.tick(), POLICY))
        w.check(c)
    assert c.state is S.ENDED
    [ended] = [e for e in w.records if isinstance(e, fx.RecordCall) and e.event == fx.RecordEvent.ENDED]
    assert ended.fields["disposition"] == fx.Disposition.CALLBACK_FAILED


def test_waiting_callers_hear_the_offer_once_then_their_position() -> None:
    w = World()
    c = build(w, "queued")
    offer = w.run(c, c.waiting_tick(w.tick(), w.book.get("c1"), QDEF, facts))
    assert offer.effects[0] == fx.MarkQueued("c1") and fx.Moh("c1", False) in offer.effects
    assert w.run(c, c.waiting_tick(w.tick(), w.book.get("c1"), QDEF, facts)).effects == ()  # still playing
    w.run(c, c.playback_finished(c.playback_id or ""))
    [play] = [e for e in w.run(c, c.waiting_tick(w.tick(), w.book.get("c1"), QDEF, facts)).effects
              if isinstance(e, fx.Play)]
    assert play.prompts == ("queue_position_1", "wait_minutes_3")
    # a refused playback: the caller is back on music (not left in silence), announced again later
    assert w.run(c, c.play_failed(play.playback_id)).effects == (fx.Moh("c1", True),) and c.playback_id is None


# ------------------------------------------------------------------ random sequences
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(sorted(EVENTS)), max_size=25))
def test_any_sequence_of_events_keeps_the_call_consistent(events: list[str]) -> None:
    w = World()
    c = w.arrive()
    for name in events:
        w.run(c, EVENTS[name](w, c))
        w.check(c)
        for agent in w.agents.values():  # the world frees agents as time passes
            if agent.state is AgentState.WRAP_UP:
                agent.wrap_up_done(w.now)
            elif agent.state is AgentState.PAUSED:
                agent.unpause(w.now)


def test_a_dead_agent_phone_puts_the_caller_first_in_line_with_an_apology() -> None:
    """Issue 10, also seen: a softphone killed mid-call left the citizen in dead air."""
    w = World()
    w.arrive("c0")  # waiting before c1 arrived: c1 goes ahead of it now
    c = build(w, "bridged")
    step = w.run(c, c.agent_lost(w.tick(20)))
    assert c.state is S.QUEUED and w.agents["1001"].state is AgentState.WRAP_UP
    assert [q.call_id for q in w.book.ordered_all()][0] == "c1"
    assert fx.Hangup("a1-c1") in step.effects and fx.DestroyBridge("c1-b") in step.effects
    assert fx.RecordLegUpdate("a1-c1", ended_at=w.now) in step.effects
    [play] = [e for e in step.effects if isinstance(e, fx.Play)]
    assert play.prompts == ("agent_lost",) and isinstance(step.effects[-1], fx.Assign)
    w.check(c)
    step = w.run(c, c.caller_gone(w.tick()))  # hangs up while waiting again: it was answered
    [ended] = [e for e in step.effects if isinstance(e, fx.RecordCall)]
    assert ended.fields["disposition"] == fx.Disposition.ANSWERED


def test_a_requeued_answered_call_that_hangs_up_while_offered_again_stays_answered() -> None:
    """After a dead phone the call was answered already: hanging up while the next agent's
    phone rings is no abandonment (its record keeps ANSWERED, as when it hangs up in line)."""
    w = World()
    c = build(w, "bridged")
    w.run(c, c.agent_lost(w.tick(20)))
    agent_id, seat = w.free_agent()
    w.run(c, c.offer(agent_id, seat, w.tick()))
    assert c.state is S.OFFERING and c.answered_at is not None
    step = w.run(c, c.caller_gone(w.tick()))
    [ended] = [e for e in step.effects if isinstance(e, fx.RecordCall)]
    assert ended.fields["disposition"] == fx.Disposition.ANSWERED
    assert w.agents[agent_id].state is AgentState.AVAILABLE


# ------------------------------------------------------------------ callbacks requested by the dialler
# (`callcenter.acd.requested`): born in CALLBACK_WAIT with no channel; every state against every
# event (and `cancel`), with what the requester is told
REQ_EVENTS = {**EVENTS, "cancel": lambda w, c: c.cancel(w.tick())}
REQ_AGENT = ["offer", "originate ok"]
REQ_DIALING = [*REQ_AGENT, "agent answers"]
REQ_SCENARIOS: dict[str, tuple[list[str], CallState, int]] = {  # path, state, max citizen dials
    "wait": ([], S.CALLBACK_WAIT, 1), "agent": (REQ_AGENT, S.CALLBACK_AGENT, 1),
    "dialing": (REQ_DIALING, S.CALLBACK_DIALING, 1), "bridged": ([*REQ_DIALING, "citizen answers"], S.BRIDGED, 1),
    "parked": ([*REQ_DIALING, "citizen leg hangs up"], S.CALLBACK_PARKED, 2),
    "not reached": ([*REQ_DIALING, "citizen leg hangs up"], S.ENDED, 1),
}
REQ_MOVES: dict[str, dict[str, CallState]] = {
    "offer": {"wait": S.CALLBACK_AGENT},
    "originate refused": {"agent": S.CALLBACK_WAIT},
    "agent answers": {"agent": S.CALLBACK_DIALING},
    "agent leg hangs up": {"agent": S.CALLBACK_WAIT, "dialing": S.ENDED, "bridged": S.ENDED},
    # a requested callback is a callback: the citizen is never handed to the post-call rating
    "agent leg hangs up, rating on": {"agent": S.CALLBACK_WAIT, "dialing": S.ENDED, "bridged": S.ENDED},
    "citizen answers": {"dialing": S.BRIDGED},
    "citizen leg hangs up": {"dialing": S.ENDED, "bridged": S.ENDED},
    "retry due": {"parked": S.CALLBACK_WAIT},
    "cancel": {"wait": S.ENDED, "agent": S.ENDED, "parked": S.ENDED},
    # a leg vanishes as it answers: as for the queue's own callbacks (one citizen dial: not parked)
    "caller gone as the agent answers": {"agent": S.CALLBACK_WAIT},
    "agent leg gone as it answers": {"agent": S.CALLBACK_WAIT},
    "bridge refuses the answer, no leg gone": {"agent": S.CALLBACK_WAIT},
    "citizen gone as it answers": {"dialing": S.ENDED},
    "agent leg gone as the citizen answers": {"dialing": S.ENDED},
}


def build_requested(w: World, scenario: str) -> Call:
    path, _, max_attempts = REQ_SCENARIOS[scenario]
    c = w.request(max_attempts=max_attempts)
    for event in path:
        w.run(c, REQ_EVENTS[event](w, c))
    return c


@pytest.mark.parametrize("event", REQ_EVENTS)
@pytest.mark.parametrize("scenario", REQ_SCENARIOS)
def test_a_requested_callback_in_every_state_against_every_event(scenario: str, event: str) -> None:
    w = World()
    c = build_requested(w, scenario)
    assert c.state is REQ_SCENARIOS[scenario][1]
    w.check(c)
    before = len(w.requests)
    step = w.run(c, REQ_EVENTS[event](w, c))
    expected = REQ_MOVES.get(event, {}).get(scenario, REQ_SCENARIOS[scenario][1])
    assert step.state is expected and c.state is expected
    w.check(c)
    if scenario == "not reached":
        assert all(isinstance(e, fx.Hangup) for e in w.requests[before:])
    elif expected is S.ENDED:
        assert isinstance(w.requests[-1], fx.Assign)


def test_a_requested_callback_waits_below_inbound_and_reserves_the_agent_before_dialling() -> None:
    w = World()
    c = w.request("cb")
    assert c.state is S.CALLBACK_WAIT and c.caller_leg is None and w.requests == [fx.Assign()]
    [start] = [e for e in w.records if isinstance(e, fx.RecordStart)]
    assert (start.caller, start.line, start.vars) == (CALLER, "outbound", {"origin": "missed:cb"})
    inbound = w.arrive("c1")  # arrives later, still goes first
    assert [q.call_id for q in w.book.ordered_all()] == ["c1", "cb"]
    w.run(inbound, inbound.caller_gone(w.tick()))
    w.run(c, c.offer("1001", "seat01", w.tick()))
    assert requests_of(w.last)[-1] == fx.OriginateAgent("a1-cb", "1001", True)  # the agent first
    w.run(c, c.agent_leg_created("a1-cb", "seat01", w.tick()))
    w.run(c, c.agent_answered("a1-cb", w.tick()))
    assert requests_of(w.last)[-1] == fx.OriginateCitizen("cb1-cb", CALLER)  # then the citizen
    w.run(c, c.citizen_answered("cb1-cb", w.tick()))
    assert w.reports == [fx.ReportCallback("cb", "missed:cb", fx.CallbackEvent.CONNECTED, "1001")]
    w.run(c, c.citizen_leg_gone("cb1-cb", "normal", w.tick(), POLICY))
    assert w.reports[-1] == fx.ReportCallback("cb", "missed:cb", fx.CallbackEvent.REACHED, "1001")
    assert w.agents["1001"].state is AgentState.WRAP_UP
    w.check(c)


def test_a_requested_callback_is_recorded_and_transcribed_on_the_rule_of_the_line_it_is_about() -> None:
    """Its row's line is 'outbound' (the inbound figures skip it), but the taps are told the line
    of the call it is about, so an outbound call on a line that does not record is not recorded."""
    w = World()
    c = w.request("cb", line="12329")
    [start] = [e for e in w.records if isinstance(e, fx.RecordStart)]
    assert start.line == "outbound"
    w.run(c, c.offer("1001", "seat01", w.tick()))
    w.run(c, c.agent_leg_created("a1-cb", "seat01", w.tick()))
    w.run(c, c.agent_answered("a1-cb", w.tick()))
    step = w.run(c, c.citizen_answered("cb1-cb", w.tick()))
    [tap] = [e for e in step.effects if isinstance(e, fx.Transcribe)]
    assert (tap.party, tap.agent_leg, tap.line) == ("cb1-cb", "a1-cb", "12329")


def test_a_requested_callback_not_answered_ends_after_its_own_attempts_not_the_queues() -> None:
    w = World()
    c = build_requested(w, "not reached")  # one citizen dial asked for; the queue's policy allows 3
    ended = [e for e in w.records if isinstance(e, fx.RecordCall) and e.event == fx.RecordEvent.ENDED]
    assert ended[0].fields["disposition"] == fx.Disposition.CALLBACK_FAILED
    assert [r.event for r in w.reports] == [fx.CallbackEvent.NO_ANSWER] and c.citizen_leg is None


@pytest.mark.parametrize(("q850", "how"), [(17, "busy"), (19, "no answer"), (None, "dial refused")])
def test_a_requested_callback_not_reached_tells_the_requester_why(q850: int | None, how: str) -> None:
    """Issue 13: a busy citizen was recorded as no_answer, the report carried no cause. The cause
    reported is the last dial's (the first one here did not answer: 19)."""
    w = World()
    w.citizen_cause = 19
    c = build_requested(w, "parked")  # two dials asked for: after the first, parked for a retry
    assert w.reports == []
    w.run(c, c.retry_due(w.tick(61)))
    for event in REQ_DIALING:
        w.run(c, REQ_EVENTS[event](w, c))
    w.citizen_cause = q850
    step = w.run(c, c.citizen_leg_gone(c.citizen_leg or "", how, w.tick(), POLICY, q850))
    assert c.state is S.ENDED and w.reports == [
        fx.ReportCallback("c1", "missed:c1", fx.CallbackEvent.NO_ANSWER, None, q850)]
    assert w.reports[0] in step.effects
    w.check(c)


def test_the_agent_leaving_while_the_citizen_rings_hangs_the_citizen_up_and_reports_agent_gone() -> None:
    """Defect: the agent hung up while the citizen's phone rang and the callback was recorded
    answered with no agent (the dialler heard "no answer", as if the citizen had not picked up)."""
    w = World()
    c = build_requested(w, "dialing")
    step = w.run(c, c.agent_leg_gone(c.agent_leg or "", "normal", w.tick(), policy=POLICY))
    assert c.state is S.ENDED and fx.Hangup("cb1-c1") in step.effects  # the citizen's phone stops ringing
    assert w.reports == [fx.ReportCallback("c1", "missed:c1", fx.CallbackEvent.AGENT_GONE, None)]
    [ended] = [e for e in w.records if isinstance(e, fx.RecordCall) and e.event == fx.RecordEvent.ENDED]
    assert ended.fields["disposition"] == fx.Disposition.CALLBACK_FAILED
    assert not [e for e in w.records if isinstance(e, fx.RecordCall) and e.event == fx.RecordEvent.ANSWERED]
    assert w.agents["1001"].state is AgentState.WRAP_UP
    w.check(c)


def test_a_queue_callback_whose_agent_leaves_while_the_citizen_rings_is_parked_for_a_retry() -> None:
    w = World()
    c = build(w, "callback_dialing")
    step = w.run(c, c.agent_leg_gone("a1-c1", "normal", w.tick(), policy=POLICY))
    assert c.state is S.CALLBACK_PARKED and c.retry_at == w.now + POLICY_RETRY
    assert fx.Hangup("cb1-c1") in step.effects and c.citizen_leg is None and c.agent_id is None
    w.check(c)


def test_cancelling_while_the_agent_rings_frees_the_agent_without_a_missed_call() -> None:
    w = World()
    c = build_requested(w, "agent")
    step = w.run(c, c.cancel(w.tick()))
    assert fx.Hangup("a1-c1") in step.effects and w.agents["1001"].state is AgentState.AVAILABLE
    assert w.reports == [fx.ReportCallback("c1", "missed:c1", fx.CallbackEvent.CANCELLED, None)]
    [ended] = [e for e in w.records if isinstance(e, fx.RecordCall) and e.event == fx.RecordEvent.ENDED]
    assert ended.fields["disposition"] == fx.Disposition.CANCELLED
    assert w.run(c, c.cancel(w.tick())).effects == ()  # once


def test_a_callback_request_is_validated() -> None:
    from callcenter.acd.requested import CallbackRequest

    for bad in ({"number": "13x"}, {"priority": 0}, {"origin": ""}, {"max_attempts": 0}):
        with pytest.raises(ValueError):
            CallbackRequest(**({"call_id": "x", "number": CALLER, "queue": "general", "skill": "general",
                                "origin": "missed:1"} | bad))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted(REQ_EVENTS)), max_size=25), st.integers(1, 3))
def test_any_sequence_of_events_keeps_a_requested_callback_consistent(events: list[str], max_attempts: int) -> None:
    w = World()
    c = w.request(max_attempts=max_attempts)
    for name in events:
        w.run(c, REQ_EVENTS[name](w, c))
        w.check(c)
        for agent in w.agents.values():
            if agent.state is AgentState.WRAP_UP:
                agent.wrap_up_done(w.now)
            elif agent.state is AgentState.PAUSED:
                agent.unpause(w.now)


def test_the_line_dialled_goes_with_the_tap_so_a_line_can_forbid_transcription() -> None:
    from callcenter.acd.arrival import Arrival

    w = World()
    for call_id, arrival in (("c1", Arrival("c1", CALLER, "general", "general", dnis="12345", line="12329")),
                             ("c2", Arrival("c2", CALLER, "general", "general", dnis="12345"))):
        c, step = Call.arrive(arrival, w.book.next_seq(), w.now)
        w.calls[call_id] = c
        w.run(c, step)
        w.run(c, c.offer("1001", "seat01", w.now))
        w.run(c, c.agent_leg_created(f"a1-{call_id}", "seat01", w.now))
        answered = w.run(c, c.agent_answered(f"a1-{call_id}", w.tick()))
        [tap] = [e for e in answered.effects if isinstance(e, fx.Transcribe)]
        assert tap.line == ("12329" if call_id == "c1" else "12345")  # the merged line, else the number dialled
        w.run(c, c.caller_gone(w.tick(5)))


# ------------------------------------------------------------------ a leg vanishes as the call is answered
RECORDS = (fx.RecordCall, fx.RecordLeg, fx.RecordLegUpdate)


def test_caller_gone_as_the_agent_answers_is_recorded_as_a_hang_up_while_ringing() -> None:
    """Seen under load (bench_acd at 80-90 calls/s): the caller gives up the moment the agent
    answers; `addChannel` answered 400 `Channel not found` and the handler failed with the call
    BRIDGED: the row closed as answered without its agent, the agent on a call that never was."""
    ringing = World()
    c = build(ringing, "offering")
    ringing.run(c, c.caller_gone(ringing.tick()))
    w = World()
    c = build(w, "offering")
    w.run(c, EVENTS["caller gone as the agent answers"](w, c))
    w.check(c)
    assert c.state is S.ENDED and w.agents["1001"].state is AgentState.AVAILABLE  # offer cancelled
    assert [e for e in w.records if isinstance(e, RECORDS)] == [e for e in ringing.records if isinstance(e, RECORDS)]
    [ended] = [e for e in w.records if isinstance(e, fx.RecordCall) and e.event == fx.RecordEvent.ENDED]
    assert ended.fields["disposition"] == fx.Disposition.ABANDONED
    assert requests_of(w.last) == [fx.DestroyBridge("c1-b"), fx.Hangup("a1-c1"),
                                   fx.AgentTransition("1001", fx.AgentAction.OFFER_CANCELLED, "c1"),
                                   fx.Forget("c1", ()), fx.Assign()]
    assert c.call_id not in w.tapped and not w.legs
    # the hang-ups that come after it find the call over
    assert requests_of(w.run(c, c.caller_gone(w.tick()))) == []
    assert requests_of(w.run(c, c.agent_leg_gone("a1-c1", "normal", w.tick()))) == []


def test_an_answer_that_cannot_be_put_through_sends_the_caller_back_to_its_place() -> None:
    """The agent's leg vanishes (or the add is refused for no gone leg): the caller has talked to
    nobody, so it goes back to its place in line with music, and the agent is not blamed."""
    for gone in ("agent leg gone as it answers", "bridge refuses the answer, no leg gone"):
        w = World()
        w.arrive("c0")
        c = build(w, "offering")
        w.run(c, EVENTS[gone](w, c))
        w.check(c)
        assert c.state is S.QUEUED and c.answered_at is None and c.bridge_id is None
        assert [q.call_id for q in w.book.ordered_all()] == ["c0", "c1"]
        assert w.agents["1001"].state is AgentState.AVAILABLE
        assert fx.Hangup("a1-c1") in w.last.effects and fx.DestroyBridge("c1-b") in w.last.effects
        assert fx.RecordLegUpdate("a1-c1", ended_at=w.now, cause="gone as it answered") in w.last.effects
        assert fx.Moh("c1", True) in w.last.effects
        assert not [e for e in w.records if isinstance(e, fx.RecordCall) and e.event == fx.RecordEvent.ANSWERED]
        assert requests_of(w.run(c, c.agent_leg_gone("a1-c1", "normal", w.tick()))) == []  # its StasisEnd
        w.run(c, c.offer("1002", "seat02", w.tick()))  # and the next agent gets it
        assert c.agent_leg == "a2-c1"
        w.check(c)


def test_a_callback_whose_citizen_vanishes_as_it_answers_is_a_callback_not_answered() -> None:
    for gone in ("citizen gone as it answers", "agent leg gone as the citizen answers"):
        w = World()
        c = build(w, "callback_dialing")
        w.run(c, EVENTS[gone](w, c))
        w.check(c)
        assert c.state is S.CALLBACK_PARKED and w.agents["1001"].state is AgentState.WRAP_UP
        assert fx.Hangup("cb1-c1") in w.last.effects and fx.Hangup("a1-c1") in w.last.effects
        assert fx.DestroyBridge("c1-b") in w.last.effects
        assert not [e for e in w.records if isinstance(e, fx.RecordCall) and e.event == fx.RecordEvent.ANSWERED]


def test_a_callback_agent_leg_refused_by_the_bridge_waits_for_the_next_agent() -> None:
    w = World()
    c = build(w, "callback_agent")
    w.run(c, EVENTS["agent leg gone as it answers"](w, c))
    w.check(c)
    assert c.state is S.CALLBACK_WAIT and c.citizen_leg is None and w.book.get("c1").callback
    assert w.agents["1001"].state is AgentState.AVAILABLE
    assert not any(isinstance(e, fx.OriginateCitizen) for e in w.requests)  # the citizen is not dialled


def test_a_citizen_vanishing_as_it_answers_reports_no_cause() -> None:
    """No Q.850 cause is known for a leg that was gone when the bridge took it: none reported,
    which the requester takes as no answer (not busy)."""
    w = World()
    c = build_requested(w, "dialing")
    w.run(c, REQ_EVENTS["citizen gone as it answers"](w, c))
    assert c.state is S.ENDED
    assert [(r.event, r.cause) for r in w.reports if r.event is not fx.CallbackEvent.CONNECTED] == [
        (fx.CallbackEvent.NO_ANSWER, None)]
    w.check(c)
