from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.acd.model import (
    Agent,
    AgentConfig,
    AgentState,
    CallRecord,
    KpiConfig,
    StateInterval,
    compute_kpis,
    intervals_from_events,
    occupancy,
)

T0 = datetime(2026, 1, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))


def t(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def answered(cid: str, wait: float, talk: float, wrap: float = 0, at: float = 0) -> CallRecord:
    return CallRecord(cid, "general", t(at), t(at + wait), t(at + wait + talk), False, "1001", wrap)


def abandoned(cid: str, wait: float, at: float = 0) -> CallRecord:
    return CallRecord(cid, "general", t(at), None, t(at + wait), True, None, 0)


def test_empty_gives_none_not_errors() -> None:
    r = compute_kpis([])
    assert (r.inbound, r.answered, r.short_abandoned) == (0, 0, 0)
    assert r.answer_rate is r.timely_rate is r.abandon_rate is r.asa_s is r.aht_s is r.occupancy is None
    assert r.answer_rate_met is None and r.timely_rate_met is None


def test_rates() -> None:
    recs = [answered("a1", 5, 100, 20), answered("a2", 15, 200, 40), answered("a3", 16, 300, 0),
            abandoned("x1", 4.9), abandoned("x2", 60), CallRecord("cb", "general", t(0), None, t(130))]
    r = compute_kpis(recs)
    assert r.inbound == 6 and r.answered == 3
    assert r.answer_rate == pytest.approx(3 / 6)
    assert r.timely_answered == 2 and r.timely_rate == pytest.approx(2 / 3)  # 15 s counts as timely
    assert r.short_abandoned == 1 and r.abandoned == 1
    assert r.abandon_rate == pytest.approx(1 / 5)  # short abandon out of both sides
    assert r.asa_s == pytest.approx(12)
    assert r.aht_s == pytest.approx((120 + 240 + 300) / 3)
    assert r.answer_rate_met is False and r.timely_rate_met is False


def test_configurable_thresholds_and_filters() -> None:
    recs = [answered("a1", 18, 10), answered("a2", 25, 10), abandoned("x", 8)]
    r = compute_kpis(recs, config=KpiConfig(timely_answer_s=20, short_abandon_s=10))
    assert r.timely_rate == pytest.approx(1 / 2) and r.short_abandoned == 1 and r.abandon_rate == 0
    other = CallRecord("m", "market", t(0), t(1), t(2), False, "1", 0)
    assert compute_kpis([*recs, other], queue="market").inbound == 1
    late = answered("late", 1, 1, at=100)
    assert compute_kpis([*recs, late], start=t(50), end=t(150)).inbound == 1


def test_targets_met() -> None:
    recs = [answered(f"a{i}", 3, 60) for i in range(19)] + [abandoned("x", 30)]
    r = compute_kpis(recs)
    assert r.answer_rate == pytest.approx(0.95) and r.answer_rate_met is True and r.timely_rate_met is True


def test_occupancy_from_agent_events() -> None:
    a = Agent("1001", "seat01", "A", config=AgentConfig(wrap_up_s=30))
    evs = [a.login(t(0), on_shift=True), a.offer("c", t(100)), a.answer(t(110)), a.hangup(t(410)),
           a.wrap_up_done(t(440)), a.pause("meal", t(500)), a.unpause(t(1100))]
    ivs = intervals_from_events(evs, until=t(1200))
    assert sum(iv.seconds for iv in ivs) == 1200
    # busy = 300 talk + 30 wrap; staffed = 1200 - 600 paused
    assert occupancy(ivs) == pytest.approx(330 / 600)
    assert compute_kpis([], ivs).occupancy == pytest.approx(330 / 600)
    # clipped to a window [0, 440): busy 330, staffed 440
    assert occupancy(ivs, t(0), t(440)) == pytest.approx(330 / 440)
    paused_only = [StateInterval("x", AgentState.PAUSED, t(0), t(10))]
    assert occupancy(paused_only) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.builds(answered, st.just("a"), st.floats(0, 600), st.floats(0, 3600), st.floats(0, 120)),
    st.builds(abandoned, st.just("x"), st.floats(0, 600)),
), max_size=30))
def test_rates_are_bounded(recs: list[CallRecord]) -> None:
    r = compute_kpis(recs)
    for v in (r.answer_rate, r.timely_rate, r.abandon_rate):
        assert v is None or 0 <= v <= 1
    assert r.answered + r.abandoned + r.short_abandoned == r.inbound
    assert (r.answer_rate is None) == (r.inbound == 0)
