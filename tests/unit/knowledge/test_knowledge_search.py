"""The ranked search (pure): dialect and synonyms, transcript noise, filters, never an article
the desk may not offer."""

from dataclasses import replace
from datetime import date

from callcenter.knowledge.model import Status
from callcenter.knowledge.search import Index, normalise, terms
from callcenter.knowledge.seeding import sample_articles

DAY = date(2026, 12, 7)
ARTICLES = sample_articles()
INDEX = Index(ARTICLES)


def top(query: str, **kw) -> list[str]:
    return [h.article.id for h in INDEX.search(query, today=DAY, **kw)]


def test_dialect_words_are_read_as_the_standard_ones():
    assert normalise("公积金提取要带啥子材料") == "公积金提取需要什么材料"
    assert normalise("娃儿咋个报名") == "孩子怎么报名"
    assert "公积金提取" in terms("我想把公积金取出来")


def test_the_issues_question_finds_the_withdrawal_materials_article_first():
    hits = INDEX.search("我想问一下公积金提取要带啥子材料", today=DAY)
    assert hits[0].article.title == "公积金提取需要带什么材料"
    assert {"公积金提取", "材料"} <= set(hits[0].matched)


def test_speech_noise_still_meets_the_article():
    assert ARTICLES[0].id in top("公鸡金取出来要准备啥子东西")


def test_unpublished_and_expired_articles_are_never_returned():
    first = ARTICLES[0]
    ix = Index(ARTICLES)
    for status in (Status.DRAFT, Status.UNDER_REVIEW, Status.EXPIRED):
        ix.put(replace(first, status=status))
        assert first.id not in [h.article.id for h in ix.search("公积金提取要带什么材料", today=DAY, limit=20)]
    ix.put(replace(first, valid_until=date(2026, 12, 6)))  # published, but its last day has passed
    assert first.id not in [h.article.id for h in ix.search("公积金提取要带什么材料", today=DAY, limit=20)]
    ix.put(first)
    assert [h.article.id for h in ix.search("公积金提取要带什么材料", today=DAY)][0] == first.id


def test_filters_by_district_and_unit():
    east = next(a for a in ARTICLES if a.districts == ("东区",))
    assert east.id in top("社区开居住证明要带什么", district="东区", limit=5)
    assert east.id not in top("社区开居住证明要带什么", district="西区", limit=20)
    assert all(i.startswith("KB") for i in top("要带什么材料", unit="water", limit=10))
    assert {INDEX.articles[i].unit for i in top("要带什么材料", unit="water", limit=10)} == {"water"}


def test_an_update_replaces_and_a_drop_removes():
    ix = Index(ARTICLES[:50])
    changed = replace(ARTICLES[0], title="公积金提取带什么", questions=("取公积金要啥",), answer="带身份证。")
    ix.put(changed)
    assert ix.articles[changed.id].answer == "带身份证。" and len(ix) == 50
    ix.drop(changed.id)
    assert changed.id not in ix.articles and len(ix) == 49
    assert all(changed.id not in p for p in ix.postings.values())


def test_an_empty_or_meaningless_query_returns_nothing():
    assert top("") == [] and top("   ") == []
    assert top("嗯嗯") == []


def test_the_ivr_choice_ranks_its_units_articles_higher_but_filters_nothing():
    asked = "要带什么材料"  # says nothing of the service: every unit's materials article fits
    plain = INDEX.search(asked, today=DAY, limit=10)
    preferred = INDEX.search(asked, today=DAY, prefer="gas", limit=10)
    assert preferred[0].article.unit == "gas" and plain[0].article.unit != "gas"
    assert [h.article.unit for h in INDEX.search("公积金提取要带啥子材料", today=DAY, prefer="gas")][0] == "housing_fund"
