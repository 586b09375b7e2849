"""The metrics feature: `GET /metrics` for Prometheus, behind a bearer token.

Wired by the composition root as one plugin among the others:
    MetricsPlugin()                       # or MetricsPlugin(backlogs={"acd_journal": ...}, counters={...})
`CALLCENTER_METRICS_TOKEN` is the bearer token (required with CALLCENTER_ENV=prod; empty in
dev leaves /metrics open on the loopback address).
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable, Mapping

from aiohttp import web

from callcenter.context import Context
from callcenter.infra.web import HttpError, Provided, json_error
from callcenter.metrics.collect import Sources, scrape

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MetricsPlugin:
    name = "metrics"

    def __init__(self, *, backlogs: Mapping[str, Callable[[], int]] | None = None,
                 transcription_lag_s: Callable[[], float | None] | None = None,
                 counters: Mapping[str, tuple[str, Callable[[], float]]] | None = None) -> None:
        self.backlogs = dict(backlogs or {})
        self.counters = dict(counters or {})  # name -> (help, read): another feature's in-process counters
        self.transcription_lag_s = transcription_lag_s
        self.sources: Provided[Sources] = Provided("metrics sources")
        self.token = ""

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/metrics", self.handle)

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        self.token = ctx.settings.metrics_token
        self.sources.set(Sources(
            pool=ctx.pool, live=ctx.live, ari=ctx.ari, mqtt_connected=ctx.relay.connected.is_set,
            active=ctx.lease.held.is_set, backlogs=self.backlogs,
            transcription_lag_s=self.transcription_lag_s, timezone=ctx.settings.timezone, counters=self.counters))
        try:
            yield
        finally:
            self.sources.set(None)

    def authorized(self, header: str | None) -> bool:
        if not self.token:
            return True
        scheme, _, value = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.token.encode())

    async def handle(self, request: web.Request) -> web.Response:
        if not self.authorized(request.headers.get("Authorization")):
            resp = json_error(401, "unauthorized", "/metrics needs the bearer token (CALLCENTER_METRICS_TOKEN)")
            resp.headers["WWW-Authenticate"] = "Bearer"
            return resp
        try:
            body = await scrape(self.sources.get())
        except HttpError as exc:
            return exc.response()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
