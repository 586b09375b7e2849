"""The surveys plugin in the app as app.py will wire it (one more plugin after the ACD): it
starts with the app, dials only while this controller holds the lease, serves its API, and
stops cleanly."""

from __future__ import annotations

import asyncio
import dataclasses

import aiohttp
import pytest
from aiohttp import web
from helpers import until
from surveys_support import citizen, distinct_job_ids, resolved_ticket, survey_config

from callcenter.app import PLUGINS, STATE, Plugins, build_app
from callcenter.surveys.plugin import SurveysPlugin

pytestmark = pytest.mark.asterisk


@dataclasses.dataclass
class WithSurveys(Plugins):
    surveys: SurveysPlugin | None = None

    def ordered(self):
        return [*super().ordered(), self.surveys]


async def test_the_plugin_runs_the_dialler_and_serves_figures(settings, database, asterisk, pool, live):
    await distinct_job_ids(pool)
    app = build_app(settings)
    base = app[PLUGINS]
    plugin = SurveysPlugin(tickets=base.tickets.service, config=survey_config())
    app[PLUGINS] = WithSurveys(**{f.name: getattr(base, f.name) for f in dataclasses.fields(Plugins)},
                               surveys=plugin)
    plugin.routes(app)
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
        async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{settings.http_port}/api/surveys/figures", params={"by": "department"}) as resp:
            body = await resp.json()
        assert resp.status == 200 and body["groups"]["market"]["satisfaction_rate"] == 1.0
    finally:
        await runner.cleanup()
    assert not plugin.service.ready
