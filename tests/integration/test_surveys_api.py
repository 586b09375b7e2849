"""Figures API and the daily report on real PostgreSQL (no Asterisk): the numbers a hall sends
to the city come from the stored jobs and ratings."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from callcenter.infra.web import Provided, http_errors
from callcenter.surveys import http
from callcenter.surveys.config import SurveySettings
from callcenter.surveys.model import SHANGHAI
from callcenter.surveys.plugin import Surveys
from callcenter.surveys.report import gather, render
from callcenter.surveys.store import SurveyStore
from callcenter.tickets.api import FIVE_LEVEL

AT = datetime(2026, 11, 27, 15, 0, tzinfo=SHANGHAI)


async def load(pool) -> SurveyStore:
    store = SurveyStore(pool)
    jobs = [
        {"kind": "ticket", "ticket_number": "PZH-20261127-000001", "round": 0, "phone": "13800000001",
         "department": "market", "district": "东区", "state": "pending", "max_attempts": 3, "due_at": AT,
         "deadline": AT},
        {"kind": "ticket", "ticket_number": "PZH-20261127-000002", "round": 0, "phone": "",
         "department": "water", "state": "closed", "reason": "匿名来电", "max_attempts": 3},
    ]
    await store.add_jobs(jobs, AT)
    await pool.execute("UPDATE survey_jobs SET state = 'done', rating = '不满意', resolved = false,"
                       " finished_at = $1 WHERE ticket_number = 'PZH-20261127-000001'", AT)
    for i, rating in enumerate(["满意", "非常满意", "不满意", None]):
        await store.record_rating(f"c{i}", agent_id="1001", seat_id="seat01", team="A", rating=rating,
                                  digit=None, at=AT)
    return store


async def test_figures_api_per_department(pool):
    store = await load(pool)
    app = web.Application(middlewares=[http_errors])
    provided: Provided[Surveys] = Provided("surveys")
    http.routes(app, provided)
    provided.set(Surveys(SurveySettings(), store, None, None))  # the routes read only the store and config
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/api/surveys/figures", params={"since": "2026-11-27", "by": "department"})
        body = await resp.json()
        assert resp.status == 200, body
        assert body["total"]["satisfaction_rate"] == 0.0 and body["total"]["bad_reviews"] == 1
        assert body["total"]["no_callback"] == 1 and body["total"]["agent_rating"] == round(2 / 3, 4)
        assert body["groups"]["market"]["resolution_rate"] == 0.0
        resp = await client.get("/api/surveys/figures", params={"by": "colour"})
        assert resp.status == 422 and (await resp.json())["error"] == "invalid"
        resp = await client.post("/api/surveys/optouts", json={"phone": "abc"})
        assert resp.status == 422


async def test_daily_report_renders_a_png(pool, tmp_path):
    await load(pool)
    data = await gather(pool, AT.date(), FIVE_LEVEL, days=7)
    assert data["total"]["agent_ratings"] == 3
    assert data["knowledge"]["rate"] is None or 0 <= data["knowledge"]["rate"] <= 1
    out = render(data, tmp_path / "日报.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
