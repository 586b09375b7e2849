"""The dispatch desk's pure part (callcenter/tickets/hall.py): why a ticket waits in the hall,
which candidates the dispatcher is offered, and the order of the queue. Tickets get to the
hall through the real state machine (transitions.apply), as they do in the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.tickets.hall import HallEvent, candidates_of, entry, excerpt, ordered, why_here
from callcenter.tickets.model import Action, Kind, Urgency
from callcenter.tickets.transitions import apply, new_ticket

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
SUP, DEPT = "supervisor:li", "dept:market:zhang"

LEARNED_UNSURE = {
    "lead": "hall", "assisting": [], "confidence": 0.3, "matched_rules": [], "needs_human": True,
    "suggested": "water",
    "learned": {"department": None, "decided_by": "hall", "confidence": 0.12, "needs_human": True,
                "matched_rules": [], "candidates": [
                    {"department": "water", "probability": 0.46, "words": ["停水", "来水"]},
                    {"department": "housing", "probability": 0.34, "words": ["小区"]},
                    {"department": "gas", "probability": 0.02, "words": []}]}}
RULES_UNSURE = {"lead": "hall", "assisting": [], "confidence": 0.4, "matched_rules": ["kw:噪音"],
                "needs_human": True, "suggested": "environment"}
RULES_SURE = {"lead": "market", "assisting": [], "confidence": 0.9, "matched_rules": ["cat:假冒伪劣"],
              "needs_human": False, "suggested": "market"}


def ticket(seq: int = 1, at: datetime = T0, **fields):
    return new_ticket(number=f"PZH-20261127-{seq:06d}", kind=fields.pop("kind", Kind.COMPLAINT), created_at=at,
                      description=fields.pop("description", "小区停水两天了"), **fields)


def returned(t, action: Action, at: datetime, **data):
    """Dispatch to market, then the department sends it back; the event as the audit log has it."""
    apply(t, Action.DISPATCH, actor=SUP, at=at - timedelta(hours=1), lead="market")
    e = apply(t, action, actor=DEPT, at=at, reason="不属于本部门职责", **data)
    return HallEvent(e.action.value, e.at, e.actor, e.reason, e.data)


def test_an_uncertain_classifier_is_why_and_its_candidates_come_best_first_with_their_words():
    t = ticket()
    e = entry(t, routing=LEARNED_UNSURE)
    assert (e.why, e.why_label, e.action) == ("unsure", "模型不确定", "dispatch")
    assert [c["department"] for c in e.candidates] == ["water", "housing", "gas"]
    assert e.candidates[0] == {"department": "water", "probability": 0.46, "words": ["停水", "来水"]}
    assert e.confidence == 0.12  # the classifier's own margin, not the rules' score
    assert e.waiting_since == T0 and e.reason is None and e.returned_by is None


def test_without_a_model_the_rules_suggestion_is_the_one_candidate():
    e = entry(ticket(), routing=RULES_UNSURE)
    assert (e.why, e.why_label) == ("rules_unsure", "规则未能判定")
    assert e.candidates == ({"department": "environment", "probability": 0.4, "words": ["[规则]"]},)
    assert candidates_of({"needs_human": True, "suggested": "hall", "confidence": 0.0}) == ()
    assert candidates_of(None) == ()


def test_a_sure_routing_left_in_the_hall_was_the_agents_choice():
    assert why_here(ticket(), RULES_SURE, None) == "held"
    assert why_here(ticket(), None, None) == "held"


def test_a_department_return_says_who_and_why_and_waits_since_the_return():
    t = ticket()
    back = T0 + timedelta(hours=3)
    e = entry(t, routing=LEARNED_UNSURE, event=returned(t, Action.RETURN, back))
    assert (e.why, e.why_label, e.action) == ("returned", "退单", "redispatch")
    assert (e.reason, e.returned_by, e.suggested) == ("不属于本部门职责", "market", None)
    assert e.waiting_since == back and e.version == t.version


def test_an_objection_carries_the_unit_the_department_suggested():
    t = ticket()
    e = entry(t, routing=None, event=returned(t, Action.OBJECT, T0 + timedelta(hours=1), suggested="housing"))
    assert t.objection
    assert (e.why, e.why_label, e.returned_by, e.suggested) == ("objection", "派单异议", "market", "housing")
    assert e.candidates == ()  # nothing stored: the dispatcher picks from the catalogue


def test_a_bad_survey_of_a_ticket_without_a_lead_comes_back_as_redo():
    t = ticket(kind=Kind.HELP)
    apply(t, Action.ANSWER_ON_SPOT, actor="agent:1001", at=T0, reply="已告知")  # the hall itself answered
    ev = apply(t, Action.SURVEY, actor="system:survey", at=T0 + timedelta(days=1), rating="不满意")
    assert t.status.value == "returned"
    e = entry(t, routing=None, event=HallEvent(ev.action.value, ev.at, ev.actor, ev.reason, ev.data))
    assert (e.why, e.why_label, e.action) == ("redo", "重办退回", "redispatch")


def test_a_verified_field_report_waits_since_its_verification():
    t = ticket(description="井盖缺失")
    verified = T0 + timedelta(minutes=40)
    assert entry(t, routing=RULES_UNSURE, verified_at=verified).waiting_since == verified


def test_nearest_deadline_first_then_the_longest_wait():
    urgent = ticket(1, T0 + timedelta(hours=2), urgency=Urgency.URGENT)  # filed last, due first
    old = ticket(2, T0)
    new = ticket(3, T0 + timedelta(minutes=5))  # the same 办结 day as `old`
    back = ticket(4, T0 - timedelta(days=3))  # filed days ago, returned after `new` was filed
    ev = returned(back, Action.RETURN, T0 + timedelta(hours=3))
    assert urgent.deadlines.resolve_due < back.deadlines.resolve_due < old.deadlines.resolve_due
    assert old.deadlines.resolve_due == new.deadlines.resolve_due
    entries = [entry(t, routing=LEARNED_UNSURE) for t in (new, old, urgent)]
    entries.append(entry(back, routing=None, event=ev))
    assert [e.number for e in ordered(entries)] == [urgent.number, back.number, old.number, new.number]


def test_same_deadline_longest_wait_first():
    a, b = ticket(1), ticket(2)
    a.deadlines = b.deadlines  # same 办结 deadline
    first = entry(a, routing=None, verified_at=T0 + timedelta(minutes=9))
    second = entry(b, routing=None)
    assert [e.number for e in ordered([first, second])] == [b.number, a.number]


@pytest.mark.parametrize(("text", "limit", "want"), [
    ("小区停水\n两天了", 60, "小区停水 两天了"),
    ("一二三四五六", 4, "一二三…"),
    ("", 10, ""),
])
def test_excerpt_is_one_short_line(text, limit, want):
    assert excerpt(text, limit) == want
