"""Quality inspection's rules: the weekly sample, revisions and appeals."""

from __future__ import annotations

from datetime import date

from callcenter.quality.model import (
    Candidate,
    appeal_refusal,
    decision_refusal,
    revision_refusal,
    sample,
    week_of,
)


def test_every_call_with_a_reason_and_a_share_of_each_agents_others():
    calls = [Candidate(f"a{i}", "1001") for i in range(40)] + [Candidate(f"b{i}", "1002") for i in range(3)]
    calls.append(Candidate("c-complaint", "1002", ("投诉工单",)))
    picked = sample(calls, 0.05, "2026-W50")
    by = {}
    for s in picked:
        by.setdefault(s.agent_id, []).append(s.call_id)
    assert "c-complaint" in by["1002"]
    assert len([c for c in by["1001"] if c.startswith("a")]) == 2  # 5 % of 40
    assert len([c for c in by["1002"] if c.startswith("b")]) == 1  # at least one per agent
    assert sample(calls, 0.05, "2026-W50") == picked  # the same draw on every load
    assert sample(calls, 0.05, "2026-W51") != picked  # a new week, a new draw


def test_calls_without_an_agent_are_only_taken_for_a_reason():
    picked = sample([Candidate("x", None), Candidate("y", None, ("重办工单",))], 0.5, "2026-W50")
    assert [s.call_id for s in picked] == ["y"]


def test_week_of():
    assert week_of(date(2026, 12, 7)) == "2026-W50"
    assert week_of(date(2027, 1, 1)) == "2026-W53"


def test_a_review_is_revised_with_a_reason_never_edited():
    assert revision_refusal(0, None) is None
    assert "reason" in revision_refusal(1, None)
    assert "reason" in revision_refusal(2, "  ok ")
    assert revision_refusal(1, "复听后更正") is None


def test_the_calls_agent_appeals_once_with_a_reason():
    assert appeal_refusal("1001", "1001", False, "结束语说了") is None
    assert "call's agent" in appeal_refusal("1002", "1001", False, "结束语说了")
    assert "call's agent" in appeal_refusal(None, "1001", False, "结束语说了")
    assert "once" in appeal_refusal("1001", "1001", True, "结束语说了")
    assert "says why" in appeal_refusal("1001", "1001", False, " ")
    assert decision_refusal(True) and decision_refusal(False) is None
