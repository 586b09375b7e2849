"""Wiring of the ivr feature into the app (see callcenter/app.py for the hooks).

``start`` validates the flows (a broken flow set stops the app with the list of issues),
starts the FastAGI server on ``settings.agi_host:agi_port`` and registers the service as
``ctx.services["ivr"]`` (its ``server`` attribute is the FastAgiServer); after ``yield``
the server stops, ending running sessions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from . import http
from .fastagi import FastAgiServer
from .repository import IvrRepository
from .service import FlowRegistry, IvrService

if TYPE_CHECKING:
    from callcenter.app import Context


def routes(app: web.Application) -> None:
    http.add_routes(app)


async def start(ctx: Context) -> AsyncIterator[None]:
    settings = ctx.settings
    registry = FlowRegistry(settings.flows_dir)
    registry.load()
    service = IvrService(registry, IvrRepository(ctx.pool), ctx.records, ctx.services)
    server = FastAgiServer(service, settings.agi_host, settings.agi_port,
                           max_sessions=settings.agi_max_sessions)
    service.server = server
    await server.start()
    ctx.services["ivr"] = service
    try:
        yield
    finally:
        ctx.services.pop("ivr", None)
        await server.stop()
