"""The scorecard as data: the hall's file loads, a bad one is refused with the item and field,
and scoring follows weights, the inspector's marks and 一票否决."""

from __future__ import annotations

import time

import pytest

from callcenter.quality.checks import Line
from callcenter.quality.scorecard import (
    ScorecardError,
    auto_findings,
    fatal_hits,
    file_words,
    load,
    parse,
    score,
    with_words,
)

CARD = load()


def test_the_default_scorecard_loads():
    assert CARD.pass_mark == 80 and {"opening", "forbidden", "attitude"} <= {i.id for i in CARD.items}
    assert [i.id for i in CARD.items if i.fatal] == ["forbidden"]


@pytest.mark.parametrize("text,said", [
    ("name: x\npass_mark: 80\nitems: []", "items: List should have at least 1 item"),
    ("name: x\npass_mark: 180\nitems: [{id: a, name: A, weight: 1}]", "pass_mark: Input should be less than or equal to 100"),
    ("name: x\npass_mark: 80\nitems: [{id: a, name: A, weight: 1, check: {kind: opening, phrases: []}}]",
     "item 'a': check.opening.phrases"),
    ("name: x\npass_mark: 80\nitems: [{id: a, name: A, weight: 1, check: {kind: telepathy}}]", "item 'a': check"),
    ("name: x\npass_mark: 80\nitems: [{id: a, name: A, weight: 1}, {id: a, name: B, weight: 2}]", "used twice: a"),
    ("name: x\npass_mark: 80\nitems: [{id: a, name: A, weight: 1, colour: red}]", "item 'a': colour"),
    ("name: [unclosed", "not YAML"),
])
def test_a_bad_scorecard_says_where(text, said):
    with pytest.raises(ScorecardError) as err:
        parse(text, "card.yaml")
    assert said in str(err.value) and str(err.value).startswith("card.yaml")


GOOD = [Line("agent", 1.0, 3.0, "您好，12345 热线"), Line("citizen", 4.0, 7.0, "我家楼下的路灯坏了三天了"),
        Line("agent", 8.0, 11.0, "您反映的是楼下路灯坏了三天"), Line("citizen", 12.0, 13.0, "对"),
        Line("agent", 14.0, 17.0, "感谢您的来电，再见")]


def test_a_good_call_waits_for_the_inspector_then_passes():
    found = auto_findings(CARD, GOOD, 20.0, typical=[20, 25, 30, 22, 28])
    assert all(f.passed for f in found.values()), {k: f.detail for k, f in found.items() if not f.passed}
    pending = score(CARD, found)
    assert pending.score is None and pending.passed is None  # 服务态度 is the inspector's
    done = score(CARD, found, {"attitude": True})
    assert done.score == 100.0 and done.passed and done.fatal_hits == ()
    weak = score(CARD, found, {"attitude": False, "closing": False})  # the inspector overrides a check
    assert weak.score == 75.0 and weak.passed is False
    assert {r.item: r.by for r in weak.items if r.item in ("closing", "opening")} == {"opening": "auto", "closing": "inspector"}


def test_a_forbidden_word_fails_the_call_whatever_the_rest():
    rude = [*GOOD[:4], Line("agent", 14.0, 17.0, "这个不归我们管，感谢您的来电")]
    found = auto_findings(CARD, rude, 60.0)
    s = score(CARD, found, {"attitude": True})
    assert s.fatal_hits == ("forbidden",) and s.score == 0.0 and s.passed is False
    assert score(CARD, found).passed is False  # already failed before the inspector scores the rest
    assert score(CARD, found, {"forbidden": True, "attitude": True}).passed  # the inspector overrules it


def test_checking_a_five_minute_call_is_fast():
    lines = [Line("agent" if i % 2 else "citizen", i * 3.0, i * 3.0 + 2.5, "我家楼下的路灯坏了三天了晚上很黑" * 2)
             for i in range(100)]  # 300 s, 100 lines
    t0 = time.perf_counter()
    auto_findings(CARD, lines, 300.0, typical=[200.0] * 20)
    assert time.perf_counter() - t0 < 1.0  # a bound, not a timing: the benchmark measures it


def test_the_halls_word_lists_replace_the_files():
    said = [Line("agent", 1.0, 3.0, "您好，12345，这事你去找居委会"), Line("citizen", 4.0, 6.0, "你们真是气人")]
    assert fatal_hits(CARD, said, 60.0) == ()  # not in the file's list
    edited = with_words(CARD, {"forbidden_words": ["你去找居委会"], "anger": ["气人"]})
    assert fatal_hits(edited, said, 60.0) == ("服务禁语",)
    found = auto_findings(edited, said, 60.0)
    assert not found["citizen_anger"].passed and found["forbidden"].evidence[0].line == 0
    assert file_words(edited)["forbidden_words"] == ["你去找居委会"]
    assert file_words(CARD)["forbidden_words"][0] == "不知道"  # the file's card is left as it was
    assert with_words(CARD, {}) == CARD  # no list edited: the file's words
