"""The inspectors' page (/qa, 质检台: the week's sample, the appeals waiting for a supervisor) and
the review widget the call's page loads (``review.js``: the scorecard to confirm or override,
the revisions, the agent's appeal, the supervisor's decision). Files: ``/static/quality/…``."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from callcenter.web.pages import add_page, add_static

STATIC = Path(__file__).parent / "static"


def routes(app: web.Application) -> None:
    add_page(app, "/qa", STATIC / "qa.html")
    add_static(app, "quality", STATIC)
