"""Composition root: builds every part, starts it, stops it (aiohttp cleanup_ctx).

Features plug in through a `plugin.py` module with two optional hooks:
- `routes(app: web.Application) -> None` adds HTTP routes (called while building the app);
- `async def start(ctx: Context) -> AsyncIterator[None]` (an async generator) starts the
  feature's services once the shared parts exist and stops them after its `yield`.
Handlers reach the shared parts through `request.app[CONTEXT]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from aiohttp import web

from callcenter.calls.records import CallRecords
from callcenter.calls.selftest import SelfTest
from callcenter.calls.stasis import StasisRouter
from callcenter.infra import db
from callcenter.infra.ari import AriClient, AriError, AriUnavailable
from callcenter.infra.errors import StartupError
from callcenter.infra.lease import ControllerLease
from callcenter.infra.logging import get_logger
from callcenter.infra.mqtt import OutboxRelay
from callcenter.infra.redis import LiveState
from callcenter.infra.settings import Settings

log = get_logger("app")

# feature packages wired into the app, in start order
PLUGINS: list[str] = ["tickets", "ivr", "acd", "board"]


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    live: LiveState
    relay: OutboxRelay
    ari: AriClient
    records: CallRecords
    router: StasisRouter
    services: dict[str, Any] = field(default_factory=dict)


SETTINGS = web.AppKey("settings", Settings)
CONTEXT = web.AppKey("context", Context)
STATE = web.AppKey("state", dict)  # name -> object, for tests and handlers


async def health(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return web.json_response({
        "ari_connected": ctx.ari.connected.is_set(),
        "mqtt_connected": ctx.relay.connected.is_set(),
        "ari_errors": ctx.ari.errors,
        "ari_requests": ctx.ari.requests,
        "ari_events": ctx.ari.events,
        "active": ctx.services["lease"].held.is_set() if "lease" in ctx.services else False,
        "app": ctx.settings.ari_app,
    })


def _plugins() -> list[Any]:
    return [importlib.import_module(f"callcenter.{name}.plugin") for name in PLUGINS]


async def _services(app: web.Application):
    settings = app[SETTINGS]
    try:
        pool = await db.create_pool(settings.database_url)
    except (TimeoutError, OSError) as exc:
        where = urlsplit(settings.database_url)
        raise StartupError(f"PostgreSQL unreachable at {where.hostname}:{where.port or 5432} "
                           f"(CALLCENTER_DATABASE_URL): {exc}") from None
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(_close_pool, pool)
        async with pool.acquire() as conn:
            await db.migrate(conn)
        live = LiveState(settings.redis_url, prefix=settings.mqtt_prefix)
        stack.push_async_callback(live.close)
        await live.ping()
        ari = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, settings.ari_app)
        await ari.open()
        stack.push_async_callback(ari.close)
        await _check_ari(ari, settings)  # before anything else connects: fail fast, cleanly
        relay = OutboxRelay(pool, settings.mqtt_host, settings.mqtt_port, settings.mqtt_prefix)
        await relay.start()
        stack.push_async_callback(relay.stop)
        records = CallRecords(pool)
        router = StasisRouter()
        router.register("selftest", SelfTest(ari, records))
        ari.on_event(router.submit)
        # first thing on every (re)connect, once the plugins have registered their features
        ari.on_connect(lambda: ari.filter_events(router.event_types()))
        ctx = Context(settings, pool, live, relay, ari, records, router)
        # released last on the way out, after the features stopped: the standby takes over then
        lease = ControllerLease(live, f"controller:{settings.ari_app}", ttl_ms=settings.lease_ttl_ms)
        ctx.services["lease"] = lease
        stack.push_async_callback(lease.stop)
        app[CONTEXT] = ctx
        app[STATE].update(pool=pool, live=live, relay=relay, ari=ari, records=records, router=router,
                          ctx=ctx)
        for plugin in _plugins():
            start = getattr(plugin, "start", None)
            if start is not None:
                await stack.enter_async_context(contextlib.asynccontextmanager(start)(ctx))
        lease.start(ari.start_events, ari.stop_events)

        async def stop_events() -> None:  # first on the way out: no new events during shutdown
            ari.stop_events()

        stack.push_async_callback(stop_events)
        log.info("controller_started", http=f"http://{settings.http_host}:{settings.http_port}")
        yield


async def _close_pool(pool: asyncpg.Pool) -> None:
    """Close gracefully, but never hang shutdown on a connection some stuck task still holds
    (asyncpg's close waits for every acquired connection to come back)."""
    try:
        async with asyncio.timeout(10):
            await pool.close()
    except TimeoutError:
        log.error("db_pool_close_timeout", note="terminating connections still in use")
        pool.terminate()


async def _check_ari(ari: AriClient, settings: Settings) -> None:
    """Wrong credentials stop the start; an Asterisk that is not up yet is waited for."""
    try:
        await ari.get("/asterisk/info")
    except AriUnavailable:
        log.warning("asterisk_not_reachable_yet", ari=settings.ari_url)
    except AriError as exc:
        if exc.status == 401:
            raise StartupError(f"ARI at {settings.ari_url} refused user {settings.ari_user!r}: check "
                               "CALLCENTER_ARI_USER / CALLCENTER_ARI_PASSWORD") from None
        raise


def build_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[SETTINGS] = settings
    app[STATE] = {}
    app.router.add_get("/health", health)
    for plugin in _plugins():
        routes = getattr(plugin, "routes", None)
        if routes is not None:
            routes(app)
    app.cleanup_ctx.append(_services)
    return app
