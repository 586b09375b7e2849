"""Wiring of the supervisor board and agent desktop (see callcenter/app.py for the hooks).

``routes(app)`` adds the pages, JSON snapshots, caller history and WebSockets
(:mod:`callcenter.board.http`); ``start(ctx)`` runs the live hub (MQTT in, WebSocket out) as
``ctx.services["board"]`` until the app stops.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callcenter.board import http
from callcenter.board.snapshot import Snapshots
from callcenter.board.websocket import BoardHub


def routes(app: web.Application) -> None:
    http.routes(app)


async def start(ctx: Any):
    hub = BoardHub(ctx.settings, Snapshots(ctx))
    await hub.start()
    ctx.services["board"] = hub
    try:
        yield
    finally:
        ctx.services.pop("board", None)
        await hub.stop()
