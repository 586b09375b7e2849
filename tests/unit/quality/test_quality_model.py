"""Quality inspection's rules: the weekly sample, revisions and appeals."""

from __future__ import annotations

from datetime import date

from callcenter.quality.model import (
    Candidate,
    Reviewed,
    appeal_refusal,
    clean_words,
    decision_refusal,
    figures,
    reasons,
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


def test_the_reasons_a_call_is_always_inspected():
    complaint = {"kind": "complaint", "lead_department": "water", "assisting": (), "reopen_count": 0}
    efficiency = {"kind": "request", "lead_department": "housing", "assisting": ("efficiency",), "reopen_count": 2}
    assert reasons([complaint]) == ("投诉工单",)
    assert reasons([efficiency]) == ("效能工单", "重办工单")  # assisting counts, a reopened ticket too
    assert reasons([{"kind": "complaint", "lead_department": "efficiency", "reopen_count": 1}, complaint]) == \
        ("投诉工单", "效能工单", "重办工单")  # each reason once, in a fixed order
    assert reasons([], "非常不满意", True) == ("差评：非常不满意",)
    assert reasons([], "满意", False) == ()  # a good rating is no reason
    assert reasons([], None, False) == ()  # rated with no answer
    assert reasons([], None, False, ("服务禁语",)) == ("一票否决：服务禁语",)
    assert reasons([{"kind": "enquiry"}]) == ()


def test_calls_with_a_bad_rating_or_a_fatal_hit_are_all_taken_and_say_why():
    calls = [Candidate(f"a{i}", "1001") for i in range(20)]
    calls += [Candidate("bad", "1001", reasons([], "不满意", True)),
              Candidate("fatal", "1001", reasons([], fatal=("服务禁语",))),
              Candidate("no-agent-fatal", None, reasons([], fatal=("服务禁语",)))]
    picked = {s.call_id: s.why for s in sample(calls, 0.1, "2026-W50")}
    assert picked["bad"] == ("差评：不满意",) and picked["fatal"] == ("一票否决：服务禁语",)
    assert picked["no-agent-fatal"] == ("一票否决：服务禁语",)
    drawn = [c for c, why in picked.items() if why == ("抽检 10%",)]
    assert len(drawn) == 2  # the reasons' calls are not counted in the agent's 10 % of 20 others
    assert sample([], 0.1, "2026-W50") == []


def test_a_word_list_the_hall_edits_is_cleaned_or_refused_with_why():
    assert clean_words([" 不知道 ", "不知道", "", "找别人去"]) == (["不知道", "找别人去"], None)
    assert "at least one" in clean_words(["", "  "])[1]
    assert "1 to 20" in clean_words(["一" * 21])[1]
    assert "punctuation" in clean_words(["，。"])[1]
    assert "at most" in clean_words([f"词{i}" for i in range(301)])[1]


def test_figures_per_agent_team_and_week_with_the_appeals_outcomes():
    rows = [Reviewed("2026-W50", "1001", "A", 90.0), Reviewed("2026-W50", "1001", "A", 0.0, ("forbidden",), "upheld"),
            Reviewed("2026-W50", "1002", "B", 85.0, (), "pending"), Reviewed("2026-W49", "1001", "A", 70.0, (), "rejected"),
            Reviewed("2026-W49", None, None, 100.0)]
    f = figures(rows, {"forbidden": "服务禁语"})
    assert [(a["week"], a["agent_id"]) for a in f["agents"]] == [("2026-W50", "1001"), ("2026-W50", "1002"),
                                                                  ("2026-W49", None), ("2026-W49", "1001")]
    a = f["agents"][0]
    assert (a["reviewed"], a["average"], a["fatal"], a["appeals"], a["upheld"], a["rejected"]) == (2, 45.0, 1, 1, 1, 0)
    assert [(t["week"], t["team"], t["average"]) for t in f["teams"]] == [
        ("2026-W50", "A", 45.0), ("2026-W50", "B", 85.0), ("2026-W49", None, 100.0), ("2026-W49", "A", 70.0)]
    assert [(w["week"], w["reviewed"], w["average"]) for w in f["weeks"]] == [("2026-W50", 3, 58.3), ("2026-W49", 2, 85.0)]
    assert f["fatal_items"] == [{"item": "forbidden", "name": "服务禁语", "hits": 1}]
    assert f["appeals"] == {"filed": 3, "pending": 1, "upheld": 1, "rejected": 1}
    assert figures([]) == {"agents": [], "teams": [], "weeks": [], "fatal_items": [],
                           "appeals": {"filed": 0, "pending": 0, "upheld": 0, "rejected": 0}}


def test_no_revision_while_the_agents_appeal_waits():
    from callcenter.quality.model import revision_refusal
    assert "appeal" in (revision_refusal(1, "复听后改分", appeal_pending=True) or "")
    assert revision_refusal(1, "复听后改分", appeal_pending=False) is None
    assert revision_refusal(0, None) is None
