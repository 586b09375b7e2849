"""The department workbench (/dept: a handler's queue, acknowledge, reply, return, extension) and
its live feed (``/ws/dept/{code}``, :mod:`callcenter.tickets.deptfeed`); the page's script is
``/static/tickets/dept.js`` and reads the tickets REST API."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from callcenter.tickets import deptfeed
from callcenter.web.pages import add_page, add_static

STATIC = Path(__file__).parent / "static"


def routes(app: web.Application) -> None:
    add_page(app, "/dept", STATIC / "dept.html")  # department workbench (accounts issue 11)
    add_static(app, "tickets", STATIC)
    deptfeed.routes(app)
