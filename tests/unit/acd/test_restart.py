"""After a restart or a lost event (`callcenter.acd.restart`): which open calls come back and how,
and which agents their calls no longer account for."""

from __future__ import annotations

from datetime import timedelta

from call_world import T0

from callcenter.acd import effects as fx
from callcenter.acd.agents import AgentState
from callcenter.acd.calls import Call, CallState
from callcenter.acd.restart import StoredCall, restore, settle_agents

NOW = T0 + timedelta(minutes=10)


def stored(**kw) -> StoredCall:
    return StoredCall(**{"call_id": "c1", "caller": "13800000001", "queue": "general", "skill": "general",
                         "priority": 0, "seq": 7, "entered_at": T0, **kw})


def test_a_bridged_call_stays_up_and_is_tracked_again() -> None:
    call, step = restore(stored(answered=True, agent_id="1001", seat_id="seat01",
                                open_legs=(("a1-c1", True),)), {"c1", "a1-c1"}, NOW)
    assert call.state is CallState.BRIDGED and (call.agent_leg, call.bridge_id) == ("a1-c1", "c1-b")
    assert step.effects == (fx.TrackLeg("c1", "c1", fx.LegRole.CALLER), fx.TrackLeg("a1-c1", "c1", fx.LegRole.AGENT))


def test_a_ringing_offer_is_hung_up_and_the_caller_waits_again_in_its_place() -> None:
    call, step = restore(stored(open_legs=(("a1-c1", False), ("a0-c1", False))), {"c1", "a1-c1"}, NOW)
    assert call.state is CallState.QUEUED and call.moh
    assert step.effects[1:] == (fx.Hangup("a1-c1"), fx.Enqueue(call.entry()), fx.Moh("c1", True))
    assert (call.entry().seq, call.entry().entered_at) == (7, T0)


def test_an_accepted_callback_keeps_its_place_without_its_caller() -> None:
    call, step = restore(stored(callback_waiting=True), {"c1"}, NOW)
    assert call.state is CallState.CALLBACK_WAIT and call.entry().callback
    assert step.effects == (fx.Enqueue(call.entry()), fx.Hangup("c1"))
    assert restore(stored(callback_waiting=True), set(), NOW)[1].effects == (fx.Enqueue(call.entry()),)


def test_a_call_whose_caller_vanished_ends_as_lost() -> None:
    call, step = restore(stored(answered=True, open_legs=(("a1-c1", True),)), {"a1-c1"}, NOW)
    assert call.state is CallState.ENDED
    [record] = step.effects
    assert record == fx.RecordCall("c1", fx.RecordEvent.ENDED, NOW, {"ended_at": NOW, "disposition": "lost"})


def test_settling_frees_agents_no_call_holds_and_completes_an_answer() -> None:
    def call(call_id: str, agent_id: str, state: CallState) -> Call:
        return Call(call_id, "", "general", "general", T0, 1, state=state, agent_id=agent_id)

    calls = [call("c1", "1001", CallState.BRIDGED), call("c2", "1002", CallState.OFFERING),
             call("c3", "1003", CallState.CALLBACK_DIALING), call("c4", "1004", CallState.CALLBACK_PARKED)]
    agents = [("1001", AgentState.RINGING), ("1002", AgentState.RINGING), ("1003", AgentState.ON_CALL),
              ("1004", AgentState.ON_CALL), ("1005", AgentState.RINGING), ("1006", AgentState.WRAP_UP)]
    assert settle_agents(agents, calls) == [
        fx.AgentTransition("1001", fx.AgentAction.ANSWER), fx.AgentTransition("1004", fx.AgentAction.HANGUP),
        fx.AgentTransition("1005", fx.AgentAction.OFFER_CANCELLED)]
