"""The sample articles (pure): each service of ``data/services.yaml`` becomes one article per
thing citizens ask about it (what to bring, where, how long, what it costs, who qualifies), in
the spoken style the agent reads out; and, for the benchmark, many more by varying them.

Ids are stable (``KB00001`` ...: the service's place times five plus the facet), so a
re-seed updates the same articles and an evaluation set can name them."""

from __future__ import annotations

import functools
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from callcenter.knowledge.model import Article, Status, article_id

SERVICES = Path(__file__).parent / "data" / "services.yaml"
SEEDED_BY = "seed"

#: facet -> (title, questions, answer); {n} the service, {a} its other name, {v} the facet's field
FACETS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "materials": ("{n}需要带什么材料", ("{n}要带哪些材料", "办{a}需要什么证件", "{n}要准备什么资料"),
                  "您好，办理{n}需要准备：{v}。建议您出门前把原件带齐，免得多跑一趟。"),
    "place": ("{n}在哪里办理", ("{n}去哪里办", "{a}在什么地方办", "哪里可以办{n}"),
              "{n}可以到{v}办理。另外，{o}。"),
    "time": ("{n}要多长时间", ("{n}多久能办好", "{a}要几天", "{n}什么时候能办下来"),
             "关于{n}的时间：{v}。您可以留意短信通知，也可以打12345帮您查进度。"),
    "fee": ("{n}收费吗", ("{n}要不要钱", "{a}收多少钱", "{n}的费用是多少"), "关于{n}的费用：{v}。"),
    "who": ("哪些人可以办理{n}", ("什么条件可以办{n}", "{a}需要什么条件", "我能不能办{n}"),
            "{n}的办理条件是：{v}。具体情况以窗口审核为准。"),
}


@functools.cache
def services() -> tuple[dict[str, Any], ...]:
    return tuple(yaml.safe_load(SERVICES.read_text(encoding="utf-8"))["services"])


def _article(n: int, s: dict[str, Any], facet: str, at: datetime) -> Article:
    title, questions, answer = FACETS[facet]
    aka = (s.get("aka") or [s["name"]])[0]
    fill = {"n": s["name"], "a": aka, "v": s[facet], "o": s.get("online", "")}
    since: date = s["date"]
    full = (f"{s['name']}（{s['cat']}）。所需材料：{s['materials']}。办理地点：{s['place']}。办理时限：{s['time']}。"
            f"收费：{s['fee']}。办理条件：{s['who']}。网上办理：{s.get('online', '')}。依据：{s['src']}。"
            "本条为样例内容，以承办单位最新规定为准。")
    asked = [q.format(**fill) for q in questions]
    asked += [questions[0].format(**(fill | {"n": other})) for other in (s.get("aka") or [])[1:]]
    return Article(id=article_id(n), title=title.format(**fill), questions=tuple(asked),
                   answer=answer.format(**fill), unit=s["unit"], category=s["cat"], full_text=full,
                   districts=tuple(s.get("districts") or ()), source=s["src"], source_date=since, valid_from=since,
                   valid_until=None, review_on=since + timedelta(days=730), status=Status.PUBLISHED, version=1,
                   updated_by=SEEDED_BY, updated_at=at)


def sample_articles(at: datetime | None = None) -> list[Article]:
    at = at or datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i, s in enumerate(services()):
        for j, facet in enumerate(FACETS):
            if s.get(facet):
                out.append(_article(i * len(FACETS) + j + 1, s, facet, at))
    return out


PLACES = ("炳草岗", "大渡口", "弄弄坪", "金江", "清香坪", "格里坪", "河门口", "银江", "大河中路", "攀枝花大道")


def synthesised(count: int, seed: int = 7) -> list[Article]:
    """``count`` articles for the benchmark: the samples, then variants of them (another place,
    another district, other wording), each a distinct published article with its own id."""
    base = sample_articles()
    rng = random.Random(seed)
    out = list(base)
    n = 100000
    while len(out) < count:
        a = rng.choice(base)
        place = rng.choice(PLACES)
        n += 1
        out.append(replace(a, id=article_id(n), title=f"{a.title}（{place}片区）",
                           questions=tuple(f"{q}（{place}）" for q in a.questions),
                           answer=f"{a.answer}{place}片区的市民也可以就近到{place}便民服务点咨询。",
                           districts=(rng.choice(("东区", "西区", "仁和区", "米易县", "盐边县")),)))
    return out[:count]
