from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.acd.model import (
    Agent,
    QueueBook,
    QueuedCall,
    QueueDef,
    Roster,
    announce_position,
    announced_wait_minutes,
    announcement_due,
    eligible_skills,
    estimated_wait,
    next_assignments,
    pick_agent,
    should_offer_callback,
)

SH = ZoneInfo("Asia/Shanghai")
ROSTER = Roster.default()
T0 = datetime(2026, 1, 1, 9, tzinfo=SH)  # team A (seat01-05) on the early shift; D rests


def t(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def ready(seat_id: str, idle_at: float, agent_id: str | None = None) -> Agent:
    a = ROSTER.make_agent(agent_id or f"ag-{seat_id}", seat_id)
    a.login(t(idle_at), on_shift=True)  # logged in on shift earlier; routing must re-check the shift
    return a


def call(book: QueueBook, cid: str, queue: str, at: float, priority: int = 0) -> QueuedCall:
    return book.enqueue(cid, queue, ROSTER.queue(queue).skill, t(at), priority=priority)


def test_longest_idle_wins_ties_by_seat() -> None:
    agents = [ready("seat03", -10), ready("seat02", -50), ready("seat04", -50), ready("seat05", -5)]
    book = QueueBook()
    c = call(book, "c1", "general", 0)
    assert pick_agent(c, agents, t(0), ROSTER).seat_id == "seat02"
    agents[1].offer("c1", t(0))
    assert pick_agent(c, agents, t(0), ROSTER).seat_id == "seat04"


def test_off_shift_agents_never_chosen() -> None:
    d_agent = ready("seat16", -1000)  # team D rests on 2026-01-01 daytime (logged in earlier, stayed on)
    a_agent = ready("seat05", -1)
    book = QueueBook()
    c = call(book, "c1", "general", 0)
    assert pick_agent(c, [d_agent, a_agent], t(0), ROSTER) is a_agent
    assert pick_agent(c, [d_agent], t(0), ROSTER) is None
    # but a supervisor-admitted off-shift login may take calls
    extra = ROSTER.make_agent("x", "seat17")
    extra.login(t(-2000), on_shift=False, override_by="lead")
    assert pick_agent(c, [d_agent, extra], t(0), ROSTER) is extra


def test_skill_routing_and_overflow() -> None:
    market = ready("seat01", -5)  # market + transport
    generalist = ready("seat03", -100)  # general + dialect
    book = QueueBook()
    c = call(book, "m1", "market", 0)
    qd = ROSTER.queue("market")
    assert eligible_skills(c, t(29), qd) == {"market"}
    assert eligible_skills(c, t(30), qd) == {"market", "general"}
    assert pick_agent(c, [generalist], t(29), ROSTER) is None
    assert pick_agent(c, [generalist], t(30), ROSTER) is generalist
    assert pick_agent(c, [market, generalist], t(1), ROSTER) is market
    # after overflow the longest-idle eligible agent wins
    assert pick_agent(c, [market, generalist], t(31), ROSTER) is generalist
    # the general queue never overflows, but every seat has "general"
    g = call(book, "g1", "general", 0)
    assert eligible_skills(g, t(1000), ROSTER.queue("general")) == {"general"}


def test_priority_and_fifo_ordering() -> None:
    book = QueueBook()
    call(book, "n1", "general", 0)
    call(book, "n2", "general", 1)
    call(book, "old", "general", 2, priority=8)
    call(book, "m1", "market", -5)
    call(book, "e1", "general", 3, priority=9)
    assert [c.call_id for c in book.ordered("general")] == ["e1", "old", "n1", "n2"]
    assert [c.call_id for c in book.ordered_all()] == ["e1", "old", "m1", "n1", "n2"]
    assert [book.position_of(x) for x in ("e1", "old", "n1", "n2", "m1")] == [1, 2, 3, 4, 1]
    assert book.positions() == {x: book.position_of(x) for x in ("e1", "old", "n1", "n2", "m1")}
    assert announce_position(book, "n2") == 4
    agents = [ready(s, -i) for i, s in enumerate(["seat04", "seat03", "seat02"])]  # seat02 idle longest
    pairs = next_assignments(book, agents, t(5), ROSTER)
    # m1 (market, waited 10 s, no overflow yet) only fits seat04 (market + hr_social); n1 waits
    assert [(c.call_id, a.seat_id) for c, a in pairs] == [("e1", "seat02"), ("old", "seat03"), ("m1", "seat04")]
    assert len({a.agent_id for _, a in pairs}) == len(pairs)


def test_next_assignments_skips_calls_no_free_agent_can_take() -> None:
    book = QueueBook()
    call(book, "d1", "dialect", 0)
    call(book, "g1", "general", 1)
    agents = [ready("seat02", -5)]  # no dialect skill
    assert [(c.call_id, a.seat_id) for c, a in next_assignments(book, agents, t(2), ROSTER)] == [("g1", "seat02")]
    assert next_assignments(QueueBook(), agents, t(2), ROSTER) == []


def test_callback_call_keeps_its_place() -> None:
    book = QueueBook()
    call(book, "a", "general", 0)
    call(book, "b", "general", 10)
    call(book, "c", "general", 20)
    qd = ROSTER.queue("general")
    b = book.get("b")
    assert not should_offer_callback(b, t(129), qd)
    assert should_offer_callback(b, t(130), qd)
    book.mark_callback_offered("b")
    assert not should_offer_callback(book.get("b"), t(200), qd)
    book.accept_callback("b")
    assert [c.call_id for c in book.ordered("general")] == ["a", "b", "c"]
    assert book.position_of("b") == 2
    agents = [ready("seat02", -2), ready("seat03", -1)]
    pairs = next_assignments(book, agents, t(200), ROSTER)
    assert [(c.call_id, c.callback) for c, _ in pairs] == [("a", False), ("b", True)]
    # offered, missed, re-queued with the same seq: old place back
    offered = book.remove("b")
    book.add(offered)
    assert book.position_of("b") == 2
    with pytest.raises(ValueError, match="already queued"):
        book.add(offered)
    with pytest.raises(ValueError, match="cannot change"):
        book.update("b", seq=99)


def test_book_basics() -> None:
    book = QueueBook()
    c = call(book, "x", "market", 0)
    assert "x" in book and len(book) == 1 and c.seq == 1
    assert book.snapshot() == {"market": [c]}
    assert book.remove("x") == c and len(book) == 0
    with pytest.raises(KeyError):
        book.remove("x")
    with pytest.raises(KeyError):
        book.position_of("x")
    with pytest.raises(ValueError, match="timezone-aware"):
        QueuedCall("y", "general", "general", datetime(2026, 1, 1), 1)


def test_estimated_wait_and_announcements() -> None:
    assert estimated_wait(3, 240, 2) == 360
    assert estimated_wait(1, 240, 0) is None and estimated_wait(1, None, 3) is None
    with pytest.raises(ValueError):
        estimated_wait(0, 240, 1)
    assert announced_wait_minutes(61) == 2 and announced_wait_minutes(5) == 1
    assert announced_wait_minutes(None) is None
    qd = QueueDef(name="general", skill="general", announce_every_s=60)
    book = QueueBook()
    c = call(book, "a", "general", 0)
    assert not announcement_due(c, t(59), qd, None) and announcement_due(c, t(60), qd, None)
    assert not announcement_due(c, t(100), qd, t(60)) and announcement_due(c, t(120), qd, t(60))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["general", "market", "dialect", "housing_fund"]),
                          st.sampled_from([0, 0, 0, 5, 8, 9]), st.integers(0, 200)), max_size=25),
       st.lists(st.tuples(st.sampled_from([f"seat{i:02d}" for i in range(1, 21)]), st.integers(-500, 0)),
                max_size=20, unique_by=lambda x: x[0]),
       st.integers(0, 400))
def test_assignment_properties(calls: list, agents_spec: list, now: int) -> None:  # type: ignore[type-arg]
    book = QueueBook()
    for i, (q, prio, at) in enumerate(calls):
        call(book, f"c{i}", q, min(at, now), priority=prio)
    agents = [ready(s, idle) for s, idle in agents_spec]
    pairs = next_assignments(book, agents, t(now), ROSTER)
    used = [a.agent_id for _, a in pairs]
    assert len(used) == len(set(used))
    order = [c.call_id for c in book.ordered_all()]
    assert [c.call_id for c, _ in pairs] == sorted((c.call_id for c, _ in pairs), key=order.index)
    for c, a in pairs:
        assert ROSTER.is_on_shift(a, t(now)) and a.can_take_call(t(now), True)
        assert a.skills & eligible_skills(c, t(now), ROSTER.queue(c.queue))
    # greedy: a skipped call had no free eligible agent left
    free_left = [a for a in agents if a.agent_id not in used and a.can_take_call(t(now), ROSTER.is_on_shift(a, t(now)))]
    assigned = {c.call_id for c, _ in pairs}
    for c in book.ordered_all():
        if c.call_id not in assigned:
            assert not any(a.skills & eligible_skills(c, t(now), ROSTER.queue(c.queue)) for a in free_left)


@given(st.lists(st.tuples(st.sampled_from(["general", "market"]), st.integers(0, 9)), max_size=30))
@settings(max_examples=60, deadline=None)
def test_positions_agree_with_position_of(calls) -> None:
    book = QueueBook()
    for i, (queue, priority) in enumerate(calls):
        call(book, f"c{i}", queue, i, priority=priority)
    assert book.positions() == {f"c{i}": book.position_of(f"c{i}") for i in range(len(calls))}
