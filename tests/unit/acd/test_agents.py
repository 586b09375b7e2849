from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.acd.model import (
    Agent,
    AgentConfig,
    AgentState,
    IllegalAgentTransition,
    MissedCallPolicy,
    NotOnShift,
    PauseReason,
)

S = AgentState
T0 = datetime(2026, 1, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))


def t(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def agent(policy: MissedCallPolicy = MissedCallPolicy.PAUSE, wrap_up_s: float = 30) -> Agent:
    return Agent("1001", "seat01", "A", frozenset({"general", "market"}),
                 config=AgentConfig(wrap_up_s=wrap_up_s, missed_call_policy=policy))


def logged_in(**kw: object) -> Agent:
    a = agent(**kw)  # type: ignore[arg-type]
    a.login(t(0), on_shift=True)
    return a


def test_full_call_cycle() -> None:
    a = agent()
    ev = a.login(t(0), on_shift=True)
    assert (ev.from_state, ev.to_state, ev.at, ev.agent_id) == (S.LOGGED_OUT, S.AVAILABLE, t(0), "1001")
    assert a.idle_since == t(0) and a.can_take_call(t(1), on_shift=True)
    assert not a.can_take_call(t(1), on_shift=False)
    assert a.offer("c1", t(5)).to_state is S.RINGING and a.current_call_id == "c1"
    assert not a.can_take_call(t(5), on_shift=True)
    assert a.answer(t(8)).to_state is S.ON_CALL
    ev = a.hangup(t(100))
    assert ev.to_state is S.WRAP_UP and a.wrap_up_until == t(130) and a.last_call_ended_at == t(100)
    assert a.tick(t(129)) is None and a.state is S.WRAP_UP
    ev = a.tick(t(130))
    assert ev is not None and ev.to_state is S.AVAILABLE and a.idle_since == t(130)
    assert a.current_call_id is None and a.wrap_up_until is None
    assert a.logout(t(200)).to_state is S.LOGGED_OUT and a.idle_since is None


def test_login_off_shift_needs_override() -> None:
    a = agent()
    with pytest.raises(NotOnShift, match="1001"):
        a.login(t(0), on_shift=False)
    assert a.state is S.LOGGED_OUT
    ev = a.login(t(0), on_shift=False, override_by="lead7")
    assert "lead7" in ev.reason and a.override_by == "lead7"
    assert a.can_take_call(t(1), on_shift=False)  # admitted by the supervisor for this session
    a.logout(t(10))
    assert a.override_by is None


@pytest.mark.parametrize(("policy", "expected"), [(MissedCallPolicy.PAUSE, S.PAUSED),
                                                  (MissedCallPolicy.AVAILABLE, S.AVAILABLE)])
def test_missed_call_policy(policy: MissedCallPolicy, expected: AgentState) -> None:
    a = logged_in(policy=policy)
    a.offer("c1", t(5))
    ev = a.no_answer(t(20))
    assert ev.to_state is expected and a.current_call_id is None
    if expected is S.PAUSED:
        assert a.pause_reason is PauseReason.MISSED_CALL
    else:
        assert a.idle_since == t(20)  # goes to the back of the idle line


def test_offer_cancelled_is_not_a_miss() -> None:
    a = logged_in()
    a.offer("c1", t(5))
    assert a.offer_cancelled(t(7)).to_state is S.AVAILABLE


@pytest.mark.parametrize("during", ["ringing", "on_call", "wrap_up"])
def test_pending_pause(during: str) -> None:
    a = logged_in()
    a.offer("c1", t(1))
    if during == "ringing":
        ev = a.pause("meal", t(2))
        assert ev.from_state is ev.to_state is S.RINGING and a.pending_pause is PauseReason.MEAL
        a.answer(t(3))
    else:
        a.answer(t(3))
        if during == "on_call":
            a.pause(PauseReason.MEAL, t(4))
            assert a.state is S.ON_CALL
    a.hangup(t(10))
    if during == "wrap_up":
        ev = a.pause("meal", t(11))  # from wrap-up: immediate
        assert ev.to_state is S.PAUSED
    else:
        assert a.state is S.WRAP_UP
        ev = a.wrap_up_done(t(40))
        assert ev.to_state is S.PAUSED
    assert a.pause_reason is PauseReason.MEAL and a.pending_pause is None
    assert a.unpause(t(100)).to_state is S.AVAILABLE and a.pause_reason is None and a.idle_since == t(100)


def test_pending_pause_applies_after_missed_offer_and_can_be_cancelled() -> None:
    a = logged_in(policy=MissedCallPolicy.AVAILABLE)
    a.offer("c1", t(1))
    a.pause("training", t(2))
    assert a.no_answer(t(10)).to_state is S.PAUSED and a.pause_reason is PauseReason.TRAINING
    a.unpause(t(11))
    a.offer("c2", t(12))
    a.pause("break", t(13))
    a.cancel_pending_pause(t(14))
    a.answer(t(15))
    a.hangup(t(20))
    assert a.wrap_up_done(t(50)).to_state is S.AVAILABLE


def test_unknown_pause_reason() -> None:
    a = logged_in()
    with pytest.raises(ValueError, match="unknown pause reason"):
        a.pause("smoke", t(1))
    assert a.state is S.AVAILABLE


@pytest.mark.parametrize(("setup", "back"), [("available", S.AVAILABLE), ("paused", S.PAUSED),
                                             ("on_call", S.AVAILABLE), ("ringing", S.AVAILABLE),
                                             ("wrap_up", S.AVAILABLE)])
def test_unreachable_and_reachable(setup: str, back: AgentState) -> None:
    a = logged_in()
    if setup == "paused":
        a.pause("break", t(1))
    if setup in ("ringing", "on_call", "wrap_up"):
        a.offer("c1", t(1))
    if setup in ("on_call", "wrap_up"):
        a.answer(t(2))
    if setup == "wrap_up":
        a.hangup(t(3))
    before = a.state
    ev = a.unreachable(t(5))
    assert (ev.from_state, ev.to_state) == (before, S.UNREACHABLE) and a.return_state is before
    assert not a.can_take_call(t(5), on_shift=True)
    with pytest.raises(IllegalAgentTransition):
        a.unreachable(t(6))
    ev = a.reachable(t(9))
    assert ev.to_state is back and a.return_state is None and a.current_call_id is None
    if back is S.PAUSED:
        assert a.pause_reason is PauseReason.BREAK


def test_unreachable_then_logout() -> None:
    a = logged_in()
    a.unreachable(t(1))
    assert a.logout(t(2)).to_state is S.LOGGED_OUT


@pytest.mark.parametrize(("event", "state"), [("answer", S.AVAILABLE), ("hangup", S.AVAILABLE),
                                              ("unpause", S.AVAILABLE), ("reachable", S.AVAILABLE),
                                              ("wrap_up_done", S.AVAILABLE), ("no_answer", S.AVAILABLE)])
def test_illegal_transition_names_state_and_event(event: str, state: AgentState) -> None:
    a = logged_in()
    with pytest.raises(IllegalAgentTransition, match=f"{event}.*{state.value}") as ei:
        getattr(a, event)(t(1))
    assert isinstance(ei.value, ValueError) and ei.value.event == event and ei.value.state is state


def test_naive_time_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        agent().login(datetime(2026, 1, 1, 9), on_shift=True)


# ---------------------------------------------------------------- property: random event sequences
EVENTS = st.one_of(
    st.tuples(st.just("login"), st.booleans(), st.sampled_from([None, "lead"])),
    st.tuples(st.sampled_from(["logout", "answer", "no_answer", "offer_cancelled", "hangup", "wrap_up_done",
                               "unpause", "unreachable", "reachable", "tick", "cancel_pending_pause"])),
    st.tuples(st.just("offer"), st.sampled_from(["c1", "c2"])),
    st.tuples(st.just("pause"), st.sampled_from(list(PauseReason))),
)


def _apply(a: Agent, ev: tuple, at: datetime):  # type: ignore[type-arg]
    name, *args = ev
    if name == "login":
        return a.login(at, on_shift=args[0], override_by=args[1])
    if name == "offer":
        return a.offer(args[0], at)
    if name == "pause":
        return a.pause(args[0], at)
    return getattr(a, name)(at)


def _invariants(a: Agent) -> None:
    assert a.state in set(AgentState)
    if a.state is S.LOGGED_OUT:
        assert a.pending_pause is None and a.current_call_id is None and a.idle_since is None
    if a.state is S.AVAILABLE:
        assert a.idle_since == a.since and a.pause_reason is None and a.current_call_id is None
        assert a.pending_pause is None
    if a.state in (S.RINGING, S.ON_CALL):
        assert a.current_call_id is not None
    if a.state is S.PAUSED:
        assert a.pause_reason is not None
    if a.state is S.WRAP_UP:
        assert a.wrap_up_until is not None
    assert (a.state is S.UNREACHABLE) == (a.return_state is not None)


@settings(max_examples=200, deadline=None)
@given(st.lists(EVENTS, max_size=40), st.sampled_from(list(MissedCallPolicy)))
def test_random_event_sequences(events: list[tuple], policy: MissedCallPolicy) -> None:  # type: ignore[type-arg]
    a = agent(policy=policy, wrap_up_s=10)
    for i, ev in enumerate(events):
        at = t(i * 7)
        before = dataclasses.replace(a)
        try:
            out = _apply(a, ev, at)
        except (IllegalAgentTransition, NotOnShift):
            assert a == before  # unchanged
            continue
        if out is None:  # tick with nothing due
            assert a == before
            continue
        assert out.from_state is before.state and out.to_state is a.state and out.at == at
        if out.from_state is not out.to_state:
            assert a.since == at
        _invariants(a)
