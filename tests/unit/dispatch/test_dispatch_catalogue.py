"""The dispatch catalogue and the corpus are data, validated at load."""

from __future__ import annotations

import json

import pytest

from callcenter.dispatch.catalogue import (
    DISTRICT_UNITS,
    HALL,
    CatalogueError,
    default_catalogue,
    parse_catalogue,
)
from callcenter.dispatch.corpus import CorpusError, check_disjoint, load_corpus, near_heldout, parse_lines
from callcenter.dispatch.model import Example

# units a Panzhihua citizen commonly needs that the first catalogue lacked (issue 14)
NEW_UNITS = {"education", "civil_affairs", "veterans", "medical_insurance", "emergency", "forestry", "postal",
             "telecom", "financial_regulator"}
HALL_ONLY = "departments:\n  - {code: hall, name: 热线, categories: []}\n"


def test_bundled_catalogue_is_complete():
    cat = default_catalogue()
    assert NEW_UNITS <= set(cat.units)
    assert set(DISTRICT_UNITS.values()) <= set(cat.units)
    assert cat.units["market"].hotline == "12315" and cat.units["market"].merge_mode == "platform"
    assert cat.category_unit["住房公积金"] == "housing_fund"
    assert HALL not in cat.dispatchable and len(cat.dispatchable) >= 39


def test_the_dispatch_rules_read_this_catalogue():
    from callcenter.dispatch.rules import RoutingRules

    rules, cat = RoutingRules.load_default().departments, default_catalogue()
    assert list(rules) == list(cat.units)
    assert all(rules[c].categories == cat.units[c].categories for c in cat.units)


@pytest.mark.parametrize("text, message", [
    ("departments: [", "not valid YAML"),
    ("- a", "must be a mapping"),
    ("departments:\n  - {code: Bad, name: x}", "departments.0.code"),
    ("departments:\n  - {code: a, name: x, colour: red}", "colour"),
    ("departments:\n  - {code: a, name: x, working_hours: '9-5'}", "bad period"),
    (HALL_ONLY + "  - {code: hall, name: again}", "duplicate code 'hall'"),
    (HALL_ONLY + "  - {code: a, name: A, categories: [供水]}\n  - {code: b, name: B, categories: [供水]}",
     "'供水' is already listed under 'a'"),
    (HALL_ONLY, "missing required unit(s) east_district"),
])
def test_invalid_catalogue_is_refused_with_the_place(text, message):
    with pytest.raises(CatalogueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_catalogue(text)


def test_a_unit_without_categories_is_refused():
    districts = "".join(f"  - {{code: {c}, name: {c}, categories: [{c}事务]}}\n" for c in DISTRICT_UNITS.values())
    with pytest.raises(CatalogueError, match="departments.water.categories"):
        parse_catalogue(HALL_ONLY + districts + "  - {code: water, name: 水务}\n")


def test_bundled_corpus_loads_with_disjoint_splits():
    corpus = load_corpus()
    assert len(corpus.train) > 1000 and len(corpus.heldout) >= 300
    assert {e.department for e in corpus.heldout} == set(default_catalogue().dispatchable)
    assert not {e.group for e in corpus.train} & {e.group for e in corpus.heldout}


@pytest.mark.parametrize("row, message", [
    ("not json", "not JSON"),
    ({"group": "g", "dept": "nowhere", "kind": "help", "texts": ["x"]}, "'nowhere' is not a unit"),
    ({"group": "g", "dept": "hall", "kind": "help", "texts": ["x"]}, "'hall' is not a unit"),
    ({"group": "g", "dept": "water", "kind": "moan", "texts": ["x"]}, "kind 'moan'"),
    ({"group": "g", "dept": "water", "kind": "help", "texts": []}, "texts must be"),
    ({"group": "", "dept": "water", "kind": "help", "texts": ["x"]}, "group must be"),
    ({"group": "g", "dept": "water", "kind": "help", "texts": ["x"], "extra": 1}, "expected an object"),
])
def test_invalid_corpus_line_is_refused_with_file_and_line(row, message):
    line = row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)
    with pytest.raises(CorpusError, match=f"train.jsonl:2: .*{message}"):
        parse_lines(["", line], "train", default_catalogue())


def test_a_group_or_text_in_both_splits_is_refused():
    a, b = Example("停水了", "water", group="g1"), Example("停电了", "power", group="g1")
    with pytest.raises(CorpusError, match="groups in both splits: g1"):
        check_disjoint([a], [b])
    with pytest.raises(CorpusError, match="text repeated"):
        check_disjoint([a], [Example("停水了", "water", group="g2")])


def test_no_training_text_is_a_near_copy_of_a_heldout_one():
    corpus = load_corpus()
    assert near_heldout(list(corpus.train), list(corpus.heldout)) == []


def test_near_heldout_names_the_training_text_only():
    held = [Example("我们小区停水了三天了", "water", group="h")]
    train = [Example("我们小区停水了三天", "water", group="t"), Example("电费咋个这么贵", "power", group="u")]
    assert near_heldout(train, held) == [("我们小区停水了三天", 0.889)]


def test_vague_requests_name_no_unit_and_ship_with_the_corpus():
    corpus = load_corpus()
    assert len(corpus.vague) >= 40 and {e.department for e in corpus.vague} == {"hall"}
    assert not {e.text for e in corpus.vague} & {e.text for e in (*corpus.train, *corpus.heldout)}
    with pytest.raises(CorpusError, match="vague.jsonl:1: a vague request names no unit"):
        parse_lines(['{"group": "g", "dept": "water", "kind": "help", "texts": ["停水"]}'], "vague", default_catalogue())
