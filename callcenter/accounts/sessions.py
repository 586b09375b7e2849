"""Server-side sessions and login throttling in Redis.

A session is a random token (the HttpOnly cookie) mapped to the username and a CSRF token; it
lives ``idle_s`` seconds after its last use (sliding). Failed logins are counted per account and
per client address within the throttle window.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from callcenter.accounts.model import Throttle

COOKIE = "cc_session"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Session:
    token: str
    username: str
    csrf: str


class Sessions:
    def __init__(self, redis: aioredis.Redis, prefix: str, *, idle_s: int = 1800,
                 throttle: Throttle | None = None) -> None:
        self.redis, self.prefix, self.idle_s = redis, prefix, idle_s
        self.throttle = throttle or Throttle()

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, "acct", *parts))

    async def open(self, username: str) -> Session:
        session = Session(secrets.token_urlsafe(32), username, secrets.token_urlsafe(24))
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self._key("s", session.token), json.dumps({"u": username, "c": session.csrf}), ex=self.idle_s)
        pipe.sadd(self._key("u", username), session.token)  # to end them all (disable, new password)
        pipe.expire(self._key("u", username), 7 * 86400)
        await pipe.execute()
        return session

    async def get(self, token: str | None) -> Session | None:
        """The session of this token, its idle timer restarted; None when unknown or expired."""
        if not token or len(token) > 100:
            return None
        key = self._key("s", token)
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(key)
        pipe.expire(key, self.idle_s)
        raw, _ = await pipe.execute()
        if raw is None:
            return None
        doc = json.loads(raw)
        return Session(token, doc["u"], doc["c"])

    async def close(self, session: Session) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(self._key("s", session.token))
        pipe.srem(self._key("u", session.username), session.token)
        await pipe.execute()

    async def close_all(self, username: str) -> int:
        """Every session of a user (disabled, password changed, force logout)."""
        tokens = await self.redis.smembers(self._key("u", username))
        if tokens:
            await self.redis.delete(*(self._key("s", t) for t in tokens))
        await self.redis.delete(self._key("u", username))
        return len(tokens)

    # ------------------------------------------------------------------ throttling
    async def blocked(self, username: str, address: str) -> bool:
        acct, addr = await self.redis.mget(self._key("f", "u", username), self._key("f", "a", address))
        return self.throttle.blocked(int(acct or 0), int(addr or 0))

    async def failed(self, username: str, address: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key in (self._key("f", "u", username), self._key("f", "a", address)):
            pipe.incr(key)
            pipe.expire(key, self.throttle.window_s, nx=True)
        await pipe.execute()

    async def succeeded(self, username: str) -> None:
        await self.redis.delete(self._key("f", "u", username))
