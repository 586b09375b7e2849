"""Wiring of quality inspection (质检): the scorecard (`callcenter/quality/data/scorecard.yaml`,
validated at start: a bad file stops the start with the item and field) and the automatic checks
of a call on its transcript, for the inspector's page."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from callcenter.context import Context
from callcenter.infra.web import Provided
from callcenter.quality import http
from callcenter.quality.scorecard import load


class QualityPlugin:
    name = "quality"

    def __init__(self, *, segments: http.Segments, lengths: http.Lengths) -> None:
        self.segments, self.lengths = segments, lengths
        self.service: Provided[http.Inspection] = Provided("quality inspection")

    def routes(self, app: web.Application) -> None:
        http.routes(app, self.service)

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        self.service.set(http.Inspection(ctx.pool, load(), self.segments, self.lengths))
        try:
            yield
        finally:
            self.service.set(None)
