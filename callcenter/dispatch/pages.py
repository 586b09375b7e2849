"""The hall's dispatch desk (/dispatch, 派单台: the tickets the rules and the model left to a
person; its data: ``GET /api/hall/queue`` of the tickets feature, live over ``/ws/dept/hall``),
and the dispatch widgets the agent desktop loads too: ``routing.js`` (what dispatch decided and
why) and ``incident.js`` (the 并单 proposal of a mass incident). Files: ``/static/dispatch/…``."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from callcenter.web.pages import add_page, add_static

STATIC = Path(__file__).parent / "static"


def routes(app: web.Application) -> None:
    add_page(app, "/dispatch", STATIC / "dispatch.html")
    add_static(app, "dispatch", STATIC)
