"""The 知识库 page (/knowledge: departments write their unit's articles, reviewers publish) and
the knowledge widgets the agent desktop loads (``/static/knowledge/suggest.js``: live
suggestions from the citizen's transcript, the manual search, the article reader and the
one-click 直接答复)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from callcenter.web.pages import add_page, add_static

STATIC = Path(__file__).parent / "static"


def routes(app: web.Application) -> None:
    add_page(app, "/knowledge", STATIC / "knowledge.html")
    add_static(app, "knowledge", STATIC)
