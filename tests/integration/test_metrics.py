"""/metrics against the real controller: PostgreSQL, Redis live view, ARI client counters.

The metrics plugin is started on the running stack's parts (as the composition root will do)
and served by its own aiohttp test server; a citizen waits in the queue with nobody signed in.
"""

from __future__ import annotations

import contextlib

import pytest
from acd_support import Phone
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from helpers import until
from prometheus_client.parser import text_string_to_metric_families

from callcenter.app import STATE
from callcenter.context import Context
from callcenter.metrics.plugin import MetricsPlugin

pytestmark = pytest.mark.asterisk


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


async def test_metrics_report_the_queue_and_need_the_token(stack, settings):
    state = stack[STATE]
    parts = state["ctx"]
    ctx = Context(settings.model_copy(update={"metrics_token": "scrape-me"}), parts.pool, parts.live,
                  parts.relay, parts.ari, parts.records, parts.router, parts.lease)
    plugin = MetricsPlugin(backlogs={"example": lambda: 3})
    app = web.Application()
    plugin.routes(app)
    async with contextlib.asynccontextmanager(plugin.start)(ctx), TestClient(TestServer(app)) as client:
        resp = await client.get("/metrics")
        assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"
        resp = await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
        assert resp.status == 401

        phone = Phone(stack)
        call_id = await phone.call(queue="general")

        async def scraped():
            r = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
            s = _samples(await r.text())
            return s if s.get(("callcenter_calls_waiting", (("queue", "general"),))) == 1 else None

        s = await until(scraped, timeout=15, what="the waiting call in /metrics")
        assert s[("callcenter_longest_wait_seconds", (("queue", "general"),))] >= 0
        assert s[("callcenter_ari_connected", ())] == 1
        assert s[("callcenter_controller_active", ())] == 1
        assert s[("callcenter_ari_requests_total", ())] > 0
        assert s[("callcenter_ari_request_seconds_count", ())] > 0
        assert s[("callcenter_backlog", (("name", "example"),))] == 3
        assert s[("callcenter_calls_today", (("outcome", "inbound"),))] >= 1
        assert ("callcenter_outbox_pending", ()) in s
        await phone.hangup(call_id)
