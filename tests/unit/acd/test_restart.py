"""After a restart or a lost event (`callcenter.acd.restart`): which open calls come back and how,
and which agents their calls no longer account for."""

from __future__ import annotations

from datetime import timedelta

from call_world import T0

from callcenter.acd import effects as fx
from callcenter.acd.agents import AgentState
from callcenter.acd.calls import Call, CallState
from callcenter.acd.restart import (
    StoredCall,
    fallback_callers,
    leg_number,
    restore,
    settle_agents,
    stale_feature_channels,
)

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
    assert step.effects[1:] == (fx.Enqueue(call.entry()), fx.Moh("c1", True), fx.Hangup("a1-c1"),
                                *(fx.RecordLegUpdate(leg, ended_at=NOW, cause="ended during takeover")
                                  for leg in ("a1-c1", "a0-c1")))
    assert (call.entry().seq, call.entry().entered_at) == (7, T0)


def test_an_accepted_callback_keeps_its_place_without_its_caller() -> None:
    call, step = restore(stored(callback_waiting=True), {"c1"}, NOW)
    assert call.state is CallState.CALLBACK_WAIT and call.entry().callback
    assert step.effects == (fx.Enqueue(call.entry()), fx.Hangup("c1"))
    assert restore(stored(callback_waiting=True), set(), NOW)[1].effects == (fx.Enqueue(call.entry()),)


def test_a_caller_who_hung_up_during_the_takeover_ends_an_answered_call_as_answered() -> None:
    """Defect 3: recorded `lost`, its agent leg left up in a dead bridge, the leg row open."""
    call, step = restore(stored(answered=True, agent_id="1001", open_legs=(("a1-c1", True),)), {"a1-c1"}, NOW)
    assert call.state is CallState.ENDED
    assert step.effects == (
        fx.RecordCall("c1", fx.RecordEvent.ENDED, NOW, {"ended_at": NOW, "disposition": "answered"}),
        fx.DestroyBridge("c1-b"), fx.Hangup("a1-c1"),
        fx.RecordLegUpdate("a1-c1", ended_at=NOW, cause="ended during takeover"))


def test_a_waiting_caller_who_left_during_the_takeover_abandoned() -> None:
    """Defect 3: a queued caller who hangs up in the gap is `abandoned`, not `lost`; a ringing
    leg of it is hung up and closed."""
    call, step = restore(stored(open_legs=(("a1-c1", False),)), {"a1-c1"}, NOW)
    assert call.state is CallState.ENDED
    assert step.effects == (
        fx.RecordCall("c1", fx.RecordEvent.ENDED, NOW, {"ended_at": NOW, "disposition": "abandoned"}),
        fx.Hangup("a1-c1"), fx.RecordLegUpdate("a1-c1", ended_at=NOW, cause="ended during takeover"))


def test_an_agent_who_hung_up_during_the_takeover_ends_the_call_not_a_requeue() -> None:
    """Defect 2: the answered call was re-queued as never answered, offered again, and the new
    agent's bridge clashed with the old one (409); the caller was never reconnected."""
    call, step = restore(stored(answered=True, agent_id="1001", open_legs=(("a1-c1", True),)), {"c1"}, NOW)
    assert call.state is CallState.ENDED and not any(isinstance(e, fx.Enqueue) for e in step.effects)
    assert step.effects == (
        fx.RecordCall("c1", fx.RecordEvent.ENDED, NOW, {"ended_at": NOW, "disposition": "answered"}),
        fx.DestroyBridge("c1-b"), fx.Hangup("c1"),
        fx.RecordLegUpdate("a1-c1", ended_at=NOW, cause="ended during takeover"))


def test_the_next_offer_after_a_takeover_never_reuses_a_leg_id() -> None:
    """Defect 4: the attempt counter is not in the record; the new controller offered `a1-c1`
    again and took the old leg's hang-up for the new offer going unanswered."""
    for live, legs, past in (({"c1", "a1-c1"}, (), ()),  # ringing, its row not yet written
                             ({"c1"}, (("a2-c1", False),), ("a1-c1",))):  # rows only
        call, _ = restore(stored(open_legs=legs, past_legs=past), live, NOW)
        before = call.attempts
        step = call.offer("1002", "seat02", NOW)
        [orig] = [e for e in step.effects if isinstance(e, fx.OriginateAgent)]
        assert orig.leg == f"a{before + 1}-c1" and orig.leg not in {*live, *past, *(leg for leg, _ in legs)}
    assert leg_number("cb12-c1", "c1") == 12 and leg_number("a3-c2", "c1") is None and leg_number("c1", "c1") is None


def test_a_connected_callback_stays_up_with_its_citizen_leg() -> None:
    call, step = restore(stored(answered=True, agent_id="1001", open_legs=(("a1-c1", True),)),
                         {"a1-c1", "cb1-c1"}, NOW)
    assert call.state is CallState.BRIDGED and call.callback and call.citizen_leg == "cb1-c1"
    assert step.effects == (fx.TrackLeg("cb1-c1", "c1", fx.LegRole.CITIZEN), fx.TrackLeg("a1-c1", "c1", fx.LegRole.AGENT))


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


def test_the_fallbacks_callers_are_the_ones_to_record() -> None:
    """Issue 10, defect 9: fallback calls left no row; the controller records the callers the
    app_queue fallback holds when it comes back (not the seats' own channels, not twice)."""
    def ch(cid: str, context: str, app: str) -> dict:
        return {"id": cid, "dialplan": {"context": context, "app_name": app}}

    channels = [ch("f1", "fallback", "Queue"), ch("f2", "fallback", "Playback"), ch("s1", "fallback", "AppQueue"),
                ch("c1", "queue-direct", "Stasis"), ch("f0", "fallback", "Queue"), {"id": "x"}]
    assert [c["id"] for c in fallback_callers(channels, {"f0"})] == ["f1", "f2"]


def test_a_seat_left_in_a_feature_codes_confirmation_is_found_for_hanging_up() -> None:
    def ch(cid: str, app_name: str, app_data: str) -> dict:
        return {"id": cid, "dialplan": {"context": "seats", "app_name": app_name, "app_data": app_data}}

    channels = [ch("p1", "Stasis", "cc,feature,pause"), ch("p2", "Stasis", "cc, feature, unpause"),
                ch("x1", "Stasis", "cc-other,feature,pause"), ch("c1", "Stasis", "cc,queue"),
                ch("q1", "Queue", "cc,feature"), {"id": "bare"}, {"dialplan": {"app_name": "Stasis"}}]
    assert stale_feature_channels(channels, "cc") == ["p1", "p2"]
