"""Who decides: rules with a high weight, else the classifier above its threshold, else a person;
and the ticket feature's combined routing decision."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callcenter.dispatch.model import Candidate, Example, Prediction, train
from callcenter.dispatch.policy import RuleOutcome, decide
from callcenter.dispatch.router import Router
from callcenter.dispatch.rules import RoutingRules
from callcenter.dispatch.service import DispatchService
from callcenter.tickets.model import Action, Kind
from callcenter.tickets.service import teaches
from callcenter.tickets.transitions import new_ticket


def pred(best: str, p: float, threshold: float = 0.5) -> Prediction:
    return Prediction((Candidate(best, p, ("停水",)), Candidate("power", 1 - p, ())), threshold)


def test_rules_with_high_weight_win_over_the_classifier():
    d = decide(RuleOutcome("housing_fund", 0.9, ("catalogue:住房公积金",)), pred("water", 0.99))
    assert (d.department, d.decided_by, d.needs_human) == ("housing_fund", "rules", False)


def test_a_lone_keyword_hit_does_not_win_the_classifier_decides():
    d = decide(RuleOutcome("housing", 0.7), pred("water", 0.8))
    assert (d.department, d.decided_by) == ("water", "model")


def test_below_both_a_dispatcher_decides_and_sees_the_rules_pick_too():
    d = decide(RuleOutcome("housing", 0.7), pred("water", 0.4))
    assert d.needs_human and d.decided_by == "hall"
    assert [c.department for c in d.candidates] == ["water", "power", "housing"]
    assert d.doc()["candidates"][0] == {"department": "water", "probability": 0.4, "words": ["停水"]}
    assert decide(None, None).needs_human


@pytest.fixture(scope="module")
def service() -> DispatchService:
    svc = DispatchService(pool=None)  # type: ignore[arg-type]  # proposing needs no database
    svc.model = train([Example(t, d, "help") for d, texts in [
        ("water", ["停水了没来水", "水管爆了", "水压太小", "自来水浑浊"]),
        ("power", ["停电了", "电线掉了", "电压不稳", "电费太高"]),
    ] for t in texts], c=10.0)
    svc.model.threshold = 0.5
    return svc


def ticket(description: str):
    return new_ticket(number="PZH-20260701-000001", kind=Kind.HELP, description=description,
                      created_at=datetime(2026, 7, 1, 2, tzinfo=UTC))


def test_ticket_routing_without_a_model_is_the_rules_decision(service):
    rules = RoutingRules.load_default()
    t = ticket("我家一直没来水")
    decision = rules.route_ticket(t)
    assert decision.learned is None
    assert Router(rules).route(t) == decision
    assert Router(rules, lambda: DispatchService(pool=None)).route(t) == decision  # type: ignore[arg-type]
    assert Router(rules, lambda: service).route(t, rules_only=True) == decision  # 立案: the rules alone


def test_ticket_routing_with_a_model_keeps_the_candidates_and_words(service):
    rules = RoutingRules.load_default()
    t = ticket("我家停水了，一直没来水")
    combined = Router(rules, lambda: service).route(t)
    assert combined.lead == "water" and not combined.needs_human
    assert combined.learned["decided_by"] == "model" and combined.learned["candidates"][0]["words"]
    assert combined.doc()["learned"] == combined.learned


def test_which_human_actions_teach():
    assert teaches(Action.DISPATCH, False) == "human_dispatch"
    assert teaches(Action.REDISPATCH, True) == "objection"
    assert teaches(Action.REDISPATCH, False) == "reassignment"
    assert teaches(Action.ACKNOWLEDGE, False) is None
