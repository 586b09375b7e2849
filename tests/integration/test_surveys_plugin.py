"""The surveys plugin in the app as app.py wires it (after the ACD): it starts with the app,
dials only while this controller holds the lease, serves its API (to the hall's supervisors),
and stops cleanly."""

from __future__ import annotations

import asyncio

import pytest
from accounts_support import Sessions
from aiohttp import web
from helpers import until
from surveys_support import citizen, distinct_job_ids, resolved_ticket, survey_config

from callcenter.app import PLUGINS, STATE, build_app

pytestmark = pytest.mark.asterisk


async def test_the_plugin_runs_the_dialler_and_serves_figures(settings, database, asterisk, pool, live):
    await distinct_job_ids(pool)
    app = build_app(settings)
    plugin = app[PLUGINS].surveys
    plugin.config = survey_config()  # the test's short intervals, before the app starts
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", settings.http_port)
    await site.start()
    try:
        await asyncio.wait_for(app[STATE]["ari"].connected.wait(), 10)
        number = await resolved_ticket(app, "13800000041")
        await citizen(app, "13800000041", dtmf="11")
        await until(lambda: pool.fetchval("SELECT status = 'surveyed' FROM tickets WHERE number = $1", number),
                    timeout=40, what="ticket surveyed by the plugin's dialler")
        sessions = Sessions(pool, f"http://127.0.0.1:{settings.http_port}")
        async with await sessions.client("supervisor:li") as http, http.get(
                "/api/surveys/figures", params={"by": "department"}) as resp:
            body = await resp.json()
        assert resp.status == 200 and body["groups"]["market"]["satisfaction_rate"] == 1.0
    finally:
        await runner.cleanup()
    assert not plugin.service.ready
