"""Live state in Redis: agents, queued and active calls, and the controller lease.

Redis holds only what can be rebuilt from PostgreSQL and Asterisk after a restart.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def login_refused(url: str, exc: Exception) -> str:
    """What to say when Redis refuses the login of ``url`` (no password in the message)."""
    u = urlsplit(url)
    who = f"user {u.username!r}" if u.username else "the default user" if u.password else "a client without a password"
    return (f"Redis at {u.hostname}:{u.port or 6379} refused {who}: check the user and password in "
            f"CALLCENTER_REDIS_URL (redis://USER:PASSWORD@host:port/db) ({exc})")


class LiveState:
    def __init__(self, url: str, prefix: str = "cc"):
        self.redis = aioredis.from_url(url, decode_responses=True)
        self.prefix = prefix

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def close(self) -> None:
        await self.redis.aclose()

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    # hashes of JSON documents: agents, calls, queue entries
    async def put(self, kind: str, item_id: str, doc: dict[str, Any]) -> None:
        await self.redis.hset(self.key(kind), item_id, json.dumps(doc, ensure_ascii=False, default=str))

    async def drop(self, kind: str, item_id: str) -> None:
        await self.redis.hdel(self.key(kind), item_id)

    async def all(self, kind: str) -> dict[str, dict[str, Any]]:
        raw = await self.redis.hgetall(self.key(kind))
        return {k: json.loads(v) for k, v in raw.items()}

    async def replace_all(self, kind: str, docs: dict[str, dict[str, Any]]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.key(kind))
        if docs:
            pipe.hset(self.key(kind), mapping={
                k: json.dumps(v, ensure_ascii=False, default=str) for k, v in docs.items()
            })
        await pipe.execute()

    async def clear(self) -> None:
        async for k in self.redis.scan_iter(match=self.key("*")):
            await self.redis.delete(k)

    # the controller lease: one active controller; a standby takes over when it lapses
    async def acquire_lease(self, name: str, owner: str, ttl_ms: int) -> bool:
        return bool(await self.redis.set(self.key("lease", name), owner, nx=True, px=ttl_ms))

    async def renew_lease(self, name: str, owner: str, ttl_ms: int) -> bool:
        return bool(await self.redis.eval(_RENEW, 1, self.key("lease", name), owner, ttl_ms))

    async def release_lease(self, name: str, owner: str) -> None:
        await self.redis.eval(_RELEASE, 1, self.key("lease", name), owner)

    async def lease_holder(self, name: str) -> str | None:
        return await self.redis.get(self.key("lease", name))
