"""The accounts feature's pages: ``/login`` (public) and ``/admin`` (users and roles, the
audit log); their scripts are ``/static/accounts/…`` and read the session and users API."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from callcenter.web.pages import add_page, add_static

STATIC = Path(__file__).parent / "static"


def routes(app: web.Application) -> None:
    add_page(app, "/login", STATIC / "login.html")
    add_page(app, "/admin", STATIC / "admin.html")  # users and roles
    add_static(app, "accounts", STATIC)
