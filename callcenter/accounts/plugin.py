"""Wiring of the accounts feature: users, sessions, audit, and the bootstrap admin.

`routes(app)` adds the login and admin pages and the session/user/audit API; the guard middleware that
checks every route is installed by `callcenter.app`. `start(ctx)` opens the service on the
shared PostgreSQL pool and Redis, and creates the bootstrap admin (``admin``, password derived
from ``CALLCENTER_ADMIN_SECRET`` or else ``CALLCENTER_SESSION_SECRET``) when missing.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
from aiohttp import web

from callcenter.accounts import http, pages
from callcenter.accounts.model import Role, User
from callcenter.accounts.passwords import FAST, PRODUCTION, Passwords, derived_password
from callcenter.accounts.repository import Audit, Users
from callcenter.accounts.service import AccountsService
from callcenter.accounts.sessions import Sessions
from callcenter.context import Context
from callcenter.infra.settings import Settings
from callcenter.infra.web import Provided

BOOTSTRAP_ADMIN = "admin"


def bootstrap_password(settings: Settings) -> str | None:
    """The bootstrap admin's password, derived from CALLCENTER_ADMIN_SECRET or else
    CALLCENTER_SESSION_SECRET (whose public default production refuses to start with)."""
    secret = settings.admin_secret or settings.session_secret
    return derived_password(secret, BOOTSTRAP_ADMIN) if secret else None


class AccountsPlugin:
    name = "accounts"

    def __init__(self) -> None:
        self.service: Provided[AccountsService] = Provided("accounts service")

    def routes(self, app: web.Application) -> None:
        http.routes(app, self.service)
        pages.routes(app)  # /login and /admin

    async def seed(self, conn: asyncpg.Connection, today: date) -> str:
        """A first admin when there is none, with a random password printed this once."""
        users = Users(conn)
        if await users.any_admin():
            return "an admin exists"
        password = secrets.token_urlsafe(12)
        await users.add(User("root", Role.ADMIN, name="首个管理员"), await Passwords().hash(password))
        return f"first admin 'root' created, password {password} (shown once; change it)"

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        settings = ctx.settings
        passwords = Passwords(FAST if settings.env == "test" else PRODUCTION)
        svc = AccountsService(Users(ctx.pool), Sessions(ctx.live.redis, settings.mqtt_prefix,
                                                        idle_s=settings.session_idle_s),
                              Audit(ctx.pool), passwords)
        password = bootstrap_password(settings)
        if password is not None:
            await svc.ensure_admin(BOOTSTRAP_ADMIN, password)
        self.service.set(svc)
        try:
            yield
        finally:
            self.service.set(None)
