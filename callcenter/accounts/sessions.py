"""Server-side sessions and login throttling in Redis.

A session is a random token (the HttpOnly cookie) mapped to the username and a CSRF token; it
lives ``idle_s`` seconds after its last use (sliding). Failed logins are counted per account and
per client address, each with its back-off (the rules: :mod:`callcenter.accounts.throttle`).
"""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from callcenter.accounts.throttle import Standing, Throttle

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

    # ------------------------------------------------------------------ throttling (throttle.py)
    async def standing(self, username: str, address: str) -> Standing:
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self._key("f", "u", username))
        pipe.pttl(self._key("b", "u", username))
        pipe.pttl(self._key("b", "a", address))
        failures, account_ms, address_ms = await pipe.execute()
        return Standing(int(failures or 0), max(account_ms, 0) / 1000, max(address_ms, 0) / 1000)

    async def failed(self, username: str, address: str) -> None:
        """Count a failure on the account and the address; past the free ones, start their back-off."""
        kinds = (("u", username, self.throttle.account), ("a", address, self.throttle.address))
        pipe = self.redis.pipeline(transaction=False)
        for kind, name, _ in kinds:
            pipe.incr(self._key("f", kind, name))
            pipe.expire(self._key("f", kind, name), self.throttle.window_s)
        counts = (await pipe.execute())[::2]
        for (kind, name, backoff), count in zip(kinds, counts, strict=True):
            if wait := backoff.after(int(count)):
                pipe.set(self._key("b", kind, name), "1", px=max(1, int(wait * 1000)))
        await pipe.execute()

    async def succeeded(self, username: str) -> None:
        await self.redis.delete(self._key("f", "u", username), self._key("b", "u", username))

    async def locks(self) -> list[dict[str, object]]:
        """Every account and address with failures in the window, and the back-off left on it."""
        out: list[dict[str, object]] = []
        for kind, code in (("account", "u"), ("address", "a")):
            head = self._key("f", code, "")
            keys = [k async for k in self.redis.scan_iter(match=f"{head}*", count=500)]
            for key in sorted(k.decode() if isinstance(k, bytes) else k for k in keys):
                name = key[len(head):]
                pipe = self.redis.pipeline(transaction=False)
                pipe.get(key)
                pipe.pttl(self._key("b", code, name))
                failures, wait_ms = await pipe.execute()
                if failures is not None:
                    out.append({"kind": kind, "key": name, "failures": int(failures),
                                "retry_after_s": math.ceil(max(wait_ms, 0) / 1000)})
        return out

    async def lift(self, kind: str, name: str) -> bool:
        """Forget an account's or an address's failures and back-off; False when it had none."""
        code = {"account": "u", "address": "a"}[kind]
        return bool(await self.redis.delete(self._key("f", code, name), self._key("b", code, name)))
