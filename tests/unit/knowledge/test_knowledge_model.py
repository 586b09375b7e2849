"""The article lifecycle and who may do what (pure)."""

from datetime import UTC, date, datetime

import pytest

from callcenter.knowledge import model
from callcenter.knowledge.model import Article, Editor, FieldProblem, IllegalMove, Move, NotAllowed, Status

AT = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
WATER = Editor("dept:water:li", "dept", "water")
GAS = Editor("dept:gas:wu", "dept", "gas")
KB = Editor("kb:wang", "kb")
BOSS = Editor("supervisor:li", "supervisor")
AGENT = Editor("agent:1001", "agent")


def article(**kw) -> Article:
    fields = dict(id="KB00001", title="水费在哪里交", questions=("水费怎么交",), answer="可以在公众号上交。",
                  unit="water", category="水费")
    return Article(**(fields | kw))


def test_a_department_writes_its_own_units_articles_only():
    a = model.create(WATER, article(), AT)
    assert a.status is Status.DRAFT and a.version == 1 and a.updated_by == "dept:water:li"
    with pytest.raises(NotAllowed, match="own unit"):
        model.create(GAS, article(), AT)
    with pytest.raises(NotAllowed, match="own unit"):
        model.edit(GAS, a, {"answer": "别的"}, AT)
    with pytest.raises(NotAllowed, match="own unit"):  # nor hand it to another unit
        model.edit(WATER, a, {"unit": "gas"}, AT)
    with pytest.raises(NotAllowed):
        model.create(AGENT, article(), AT)


def test_publishing_needs_the_reviewer_role():
    a = model.move(WATER, model.create(WATER, article(), AT), Move.SUBMIT, AT)
    assert a.status is Status.UNDER_REVIEW
    for who in (WATER, AGENT):
        with pytest.raises(NotAllowed, match="kb or supervisor"):
            model.move(who, a, Move.PUBLISH, AT)
    for reviewer in (KB, BOSS):
        published = model.move(reviewer, a, Move.PUBLISH, AT)
        assert published.status is Status.PUBLISHED and published.version == a.version + 1


def test_the_lifecycle_refuses_moves_out_of_order():
    a = model.create(KB, article(), AT)
    with pytest.raises(IllegalMove):
        model.move(KB, a, Move.PUBLISH, AT)  # a draft is submitted first
    a = model.move(KB, model.move(KB, a, Move.SUBMIT, AT), Move.REJECT, AT)
    assert a.status is Status.DRAFT
    a = model.move(KB, model.move(KB, model.move(KB, a, Move.SUBMIT, AT), Move.PUBLISH, AT), Move.EXPIRE, AT)
    assert a.status is Status.EXPIRED and a.version == 6
    with pytest.raises(IllegalMove):
        model.move(KB, a, Move.PUBLISH, AT)


def test_editing_a_published_article_takes_it_off_the_desk_until_republished():
    a = article(status=Status.PUBLISHED, version=3)
    b = model.edit(WATER, a, {"answer": "新的口径。"}, AT)
    assert b.status is Status.DRAFT and b.version == 4 and not b.offered(date(2026, 12, 7))
    assert model.changed_fields(a, b) == ["answer", "status"]
    with pytest.raises(FieldProblem):
        model.edit(WATER, a, {"status": "published"}, AT)


def test_only_a_published_article_inside_its_validity_window_is_offered():
    day = date(2026, 12, 7)
    assert article(status=Status.PUBLISHED).offered(day)
    assert not article(status=Status.UNDER_REVIEW).offered(day)
    assert not article(status=Status.EXPIRED).offered(day)
    assert article(status=Status.PUBLISHED, valid_until=day).offered(day)  # its last day
    assert not article(status=Status.PUBLISHED, valid_until=date(2026, 12, 6)).offered(day)
    assert not article(status=Status.PUBLISHED, valid_from=date(2026, 12, 8)).offered(day)
    stale = [article(status=Status.PUBLISHED, valid_until=date(2026, 12, 6))]
    assert model.stale(stale + [article(id="KB00002", status=Status.PUBLISHED)], day) == stale


def test_past_its_review_date_an_article_is_flagged():
    day = date(2026, 12, 7)
    assert article(review_on=date(2026, 12, 1), status=Status.PUBLISHED).needs_review(day)
    assert not article(review_on=date(2026, 12, 8)).needs_review(day)
    assert not article(review_on=date(2026, 12, 1), status=Status.EXPIRED).needs_review(day)


@pytest.mark.parametrize("bad, field", [
    ({"id": "42"}, "id"), ({"title": " "}, "title"), ({"questions": ()}, "questions"), ({"unit": "Water"}, "unit"),
    ({"districts": ("成都",)}, "districts"), ({"valid_from": date(2026, 2, 1), "valid_until": date(2026, 1, 1)},
                                             "valid_until"), ({"answer": "x" * 1001}, "answer"),
])
def test_an_article_that_cannot_exist_names_its_field(bad, field):
    with pytest.raises(FieldProblem) as caught:
        article(**bad)
    assert caught.value.field == field
