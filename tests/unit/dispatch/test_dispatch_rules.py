from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from callcenter.dispatch.catalogue import CatalogueError, MergeMode, Unit, parse_catalogue
from callcenter.dispatch.rules import RoutingRules, RuleError, default_units
from callcenter.infra import words
from callcenter.tickets.model import District, Kind, Ticket

REQUIRED = {
    "hall": None, "market": ("12315", "platform"), "housing_fund": ("12329", "platform"),
    "hr_social": ("12333", "platform"), "transport": ("12328", "platform"),
    "agriculture": ("12316", "direct"), "natural_resources": ("12336", "direct"),
    "efficiency": ("96960", "direct"), "customs": ("12360", "business"), "tourism": ("12301", "business"),
    "tax": ("12366", "business"), "health": None, "urban_management": None, "housing": None, "ecology": None,
    "water": None, "power": None, "gas": None, "public_security": None, "east_district": None,
    "west_district": None, "renhe_district": None, "vti_zone": None, "miyi_county": None,
    "yanbian_county": None,
}


@pytest.fixture(scope="module")
def rules():
    return RoutingRules.load_default()


def test_department_catalogue_has_required_codes_and_hotlines():
    deps = default_units()
    assert set(REQUIRED) <= set(deps)
    for code, merged in REQUIRED.items():
        if merged:
            assert (deps[code].hotline, deps[code].merge_mode) == (merged[0], MergeMode(merged[1]))
    assert deps["hall"].name == "12345热线中心" and deps["hall"].hotline == "12345"


def test_department_working_hours():
    deps = default_units()
    sh = ZoneInfo("Asia/Shanghai")
    assert deps["water"].is_open(datetime(2026, 3, 2, 3, tzinfo=sh))
    assert deps["market"].is_open(datetime(2026, 3, 2, 9, tzinfo=sh))
    assert not deps["market"].is_open(datetime(2026, 3, 2, 13, tzinfo=sh))
    assert not deps["market"].is_open(datetime(2026, 3, 2, 18, tzinfo=sh))


def test_jieba_segments_custom_words(rules):
    tokens = rules.segment("小区门口有人占道经营，晚上噪音扰民，还想问公积金")
    assert {"占道经营", "噪音", "公积金"} <= set(tokens)


@pytest.mark.parametrize("kwargs,lead", [
    ({"description": "我想咨询一下公积金怎么提取"}, "housing_fund"),
    ({"transcript": "楼下一直有人占道经营"}, "urban_management"),
    ({"description": "家里停水了两天"}, "water"),
    ({"category": "税务"}, "tax"),
    ({"category": "社区事务", "district": "盐边县"}, "yanbian_county"),
    ({"category": "社区事务", "district": District.EAST}, "east_district"),
])
def test_routes_to_expected_department(rules, kwargs, lead):
    decision = rules.route(**kwargs)
    assert decision.lead == lead and not decision.needs_human and decision.confidence >= rules.threshold
    assert decision.matched_rules


def test_district_government_assists_city_management(rules):
    decision = rules.route(category="城市管理", district="仁和区", description="井盖丢失")
    assert decision.lead == "urban_management" and decision.assisting == ("renhe_district",)
    assert decision.confidence == 1.0


def test_weak_or_no_match_goes_to_human(rules):
    weak = rules.route(description="网购的商品想退款")
    assert weak.needs_human and weak.lead == "hall" and weak.suggested == "market"
    assert 0 < weak.confidence < rules.threshold
    nothing = rules.route(description="你好")
    assert nothing.needs_human and nothing.lead == "hall" and nothing.confidence == 0
    assert nothing.matched_rules == ()


def test_conflicting_signals_lower_confidence(rules):
    decision = rules.route(description="公积金的事情，还有停电了")
    assert decision.needs_human and decision.confidence == pytest.approx(0.35)
    assert {c for c, _ in decision.candidates} == {"housing_fund", "power"}


def test_structured_rule_on_kind(rules):
    complaint = rules.route(category="消费维权", kind="投诉")
    enquiry = rules.route(category="消费维权", kind=Kind.ENQUIRY)
    assert "consumer-complaint" in complaint.matched_rules
    assert "consumer-complaint" not in enquiry.matched_rules


def test_route_ticket(rules):
    ticket = Ticket(number="PZH-20260302-000001", kind=Kind.HELP, category="供电",
                    created_at=datetime(2026, 3, 2, tzinfo=ZoneInfo("UTC")), description="停电")
    assert rules.route_ticket(ticket).lead == "power"


def test_topics_and_add_topic():
    rules = RoutingRules.load_default()
    assert rules.route(topics=["epidemic_prevention"]).lead == "health"
    assert rules.route(description="明天去哪里做核酸").lead == "health"
    assert rules.route(description="森林防火检查").needs_human
    rules.add_topic("forest_fire", "森林防火", "natural_resources", keywords=["森林防火"])
    assert rules.route(description="森林防火检查").lead == "natural_resources"
    assert rules.route(topics=["forest_fire"]).lead == "natural_resources"
    assert "forest_fire" in rules.topics
    with pytest.raises(RuleError, match="unknown department 'fire_brigade'"):
        rules.add_topic("x", "x", "fire_brigade")
    with pytest.raises(RuleError, match="duplicate topic"):
        rules.add_topic("forest_fire", "森林防火", "natural_resources")
    with pytest.raises(RuleError, match="empty keyword"):
        rules.add_topic("y", "y", "health", keywords=[" "])
    # a fresh default instance does not see run-time topics
    assert "forest_fire" not in RoutingRules.load_default().topics


@pytest.mark.parametrize("text,message", [
    ("rules:\n  - {when: {category: a}, lead: nobody}", r"rules\[0\]\.lead: unknown department 'nobody'"),
    ("rules:\n  - {when: {category: a}, lead: water}\n  - {when: {category: b}, lead: gas, assisting: [x]}",
     r"rules\[1\]\.assisting: unknown department 'x'"),
    ("keywords:\n  - {words: [停水, ''], lead: water, weight: 0.5}", r"keywords\[0\]\.words.*empty keyword"),
    ("keywords:\n  - {words: [停水], lead: water, weight: 1.5}", r"keywords\[0\]\.weight"),
    ("keywords:\n  - {words: [停水], lead: water, weight: 0}", r"keywords\[0\]\.weight"),
    ("keywords:\n  - {words: [], lead: water, weight: 0.5}", r"keywords\[0\]\.words"),
    ("rules:\n  - {when: {}, lead: water}", r"rules\[0\]\.when.*at least one condition"),
    ("rules:\n  - {when: {district: 成都}, lead: water}", r"rules\[0\]\.when\.district"),
    ("threshold: 2", "threshold"),
    ("topics:\n  - {code: t, name: T, department: nowhere}", r"topics\[0\]\.department"),
    ("- just a list", "mapping"),
    ("rules: [", "YAML"),
])
def test_bad_rule_files(text, message):
    with pytest.raises(RuleError, match=message):
        RoutingRules.from_yaml(text)


def test_custom_threshold_and_departments():
    deps = {u.code: u for u in (Unit(code="hall", name="热线"), Unit(code="water", name="水务"))}
    rules = RoutingRules.from_yaml("threshold: 0.2\nkeywords:\n  - {words: [停水], lead: water, weight: 0.3}",
                                   departments=deps)
    assert rules.route(description="停水").lead == "water"


@pytest.mark.parametrize("text,message", [
    ("departments:\n  - {code: water, name: 水务, categories: [供水]}", "missing required unit.*hall"),
    ("departments:\n  - {code: hall, name: 热线}\n  - {code: hall, name: 热线2}", r"departments\[1\]\.code"),
    ("departments:\n  - {code: hall, name: 热线, working_hours: '9-5'}", r"departments\.0\.working_hours"),
    ("departments:\n  - {code: hall, name: 热线, merge_mode: merged}", r"departments\.0\.merge_mode"),
])
def test_bad_department_files(text, message):
    """The one catalogue schema (callcenter/dispatch/catalogue.py) refuses them, naming the place."""
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(text)


def test_segment_with_a_shared_memo_cuts_as_jieba_does(rules):
    """One request's routing and search words share jieba's cuts (a memo of blocks): the words
    must be those of cutting each whole text, whatever text came first."""
    texts = ["小区停水三天了，井盖破损", "供水  炳草岗小区停水三天了", "ＡＢＣ小区12号楼 停电了!! abc_def 3.5米",
             "炳草岗小区停水三天了\n坐席：您好，请问什么问题？ 市民：停水了", "", "  \n ", "燃气泄漏 gas leak 110"]
    memo: words.Cuts = {}
    for text in texts + texts[::-1]:
        assert rules.segment(text, memo) == rules.segment(text) == words.segment(text)
    assert "炳草岗小区停水三天了" in memo  # the description's block was cut once, for both texts
