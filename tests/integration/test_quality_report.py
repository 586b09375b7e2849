"""Quality inspection in the daily report (日报) on real PostgreSQL: the day's reviewed calls,
average, fatal hits and the appeals' outcomes from the latest revisions, the weekly trend per
team, drawn as the report's third row (a taller PNG than without it)."""

from __future__ import annotations

import struct
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from callcenter.quality.api import report_figures
from callcenter.surveys.report import gather, render
from callcenter.tickets.api import SatisfactionScale

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 3)  # a Thursday of 2026-W49


async def _review(pool, call_id: str, revision: int, at: datetime, score: float, team: str, fatal=()) -> int:
    return await pool.fetchval(
        "INSERT INTO qa_reviews (call_id, revision, agent_id, inspector, scorecard, score, passed, fatal_hits,"
        " submitted_at, team) VALUES ($1, $2, '1001', 'qa:zhou', 'card', $3::float8, $3::float8 >= 80, $4, $5, $6) RETURNING id",
        call_id, revision, score, list(fatal), at, team)


def _height(png: bytes) -> int:
    return struct.unpack(">I", png[20:24])[0]


async def test_the_daily_report_carries_the_days_quality_figures_and_the_weekly_trend(pool, tmp_path):
    noon = datetime.combine(DAY, time(12), tzinfo=SH)
    await _review(pool, "c-1", 1, noon, 40.0, "A", ("forbidden",))
    await _review(pool, "c-1", 2, noon + timedelta(hours=1), 90.0, "A")  # the latest revision counts
    rid = await _review(pool, "c-2", 1, noon, 0.0, "B", ("forbidden",))
    await pool.execute("INSERT INTO qa_appeals (call_id, review_id, agent_id, reason, decision, decided_by)"
                       " VALUES ('c-2', $1, '1001', '不是禁语', 'rejected', 'supervisor:li')", rid)
    await _review(pool, "c-old", 1, noon - timedelta(days=7), 70.0, "A")  # the week before
    await _review(pool, "c-next", 1, noon + timedelta(days=1), 10.0, "A")  # after the report's day: left out

    q = await report_figures(pool, DAY)
    assert (q["day"]["reviewed"], q["day"]["average"], q["day"]["fatal"]) == (2, 45.0, 1)
    trend = q["trend"]
    assert [(w["week"], w["reviewed"], w["average"]) for w in trend["weeks"]] == [("2026-W49", 2, 45.0),
                                                                                ("2026-W48", 1, 70.0)]
    assert {(t["week"], t["team"]): t["average"] for t in trend["teams"]} == {
        ("2026-W49", "A"): 90.0, ("2026-W49", "B"): 0.0, ("2026-W48", "A"): 70.0}
    assert trend["appeals"] == {"filed": 1, "pending": 0, "upheld": 0, "rejected": 1}
    assert trend["fatal_items"] == [{"item": "forbidden", "name": "服务禁语", "hits": 1}]

    data = await gather(pool, DAY, SatisfactionScale.named("five"), days=7)
    assert data["quality"] == q
    with_qa = render(data, tmp_path / "日报.png").read_bytes()
    without = render({**data, "quality": None}, tmp_path / "日报-无质检.png").read_bytes()
    assert with_qa[:8] == b"\x89PNG\r\n\x1a\n" and _height(with_qa) > _height(without) * 1.2
    empty = await report_figures(pool, DAY + timedelta(days=100))  # 8 weeks later: none left
    assert empty["day"] is None and empty["trend"]["weeks"] == []
    render({**data, "quality": empty}, tmp_path / "日报-空.png")  # no reviews: the row is drawn empty
