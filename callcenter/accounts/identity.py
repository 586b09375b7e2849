"""Who is calling: the user the guard middleware authenticated, for the features' handlers.

Features read the acting user from here (never from a header the client writes)."""

from __future__ import annotations

from aiohttp import web

from callcenter.accounts.model import User

USER = web.RequestKey("user", User)
# what an audited request acted on, when the path does not say it or says too much (a citizen's
# number: the handler names it masked); the guard writes it as the audit entry's target
AUDIT_TARGET = web.RequestKey("audit_target", str)


def current_user(request: web.Request) -> User | None:
    return request.get(USER)


def actor_of(request: web.Request) -> str | None:
    """``agent:1001``, ``dept:market:zhang``, ``supervisor:li``... or None when anonymous."""
    user = request.get(USER)
    return user.actor if user is not None else None
