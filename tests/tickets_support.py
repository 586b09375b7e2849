"""Helpers for the tickets integration tests: a minimal aiohttp app with the accounts, dispatch
(its rules; its classifier only when a test hands one in) and tickets plugins (real PostgreSQL,
Redis and Mosquitto, no Asterisk) and a small JSON client whose
``actor=`` logs in as that user (a real session, see accounts_support)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import aiohttp
from accounts_support import Sessions
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from callcenter.accounts.guard import guard
from callcenter.accounts.plugin import AccountsPlugin
from callcenter.context import CONTEXT, Context
from callcenter.dispatch.plugin import DispatchPlugin
from callcenter.infra.hardening import clean_input, errors_as_json
from callcenter.infra.mqtt import OutboxRelay
from callcenter.infra.redis import LiveState
from callcenter.infra.web import http_errors
from callcenter.tickets.plugin import TicketsPlugin
from callcenter.tickets.service import TicketService
from callcenter.web.headers import harden_responses

AGENT = "agent:1001"
SUPERVISOR = "supervisor:li"
ADMIN = "admin:root"


def dept(code: str, name: str = "zhang") -> str:
    return f"dept:{code}:{name}"


class NoAri:
    """The tickets feature never talks to Asterisk; anything that tries fails loudly."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"tickets tests do not use ARI (tried {name})")


@dataclass
class Api:
    client: TestClient
    ctx: Context
    plugin: TicketsPlugin
    sessions: Sessions

    @property
    def svc(self) -> TicketService:
        return self.plugin.service.get()

    @property
    def relay(self) -> OutboxRelay:
        return self.ctx.relay

    async def call(self, method: str, path: str, body: Any = None, *, actor: str | None = AGENT,
                   headers: dict[str, str] | None = None, raw: bytes | None = None) -> tuple[int, Any]:
        hdrs = dict(headers or {})
        if actor:
            hdrs = await self.sessions.headers(actor) | hdrs
        kwargs: dict[str, Any] = {"headers": hdrs}
        if raw is not None:
            kwargs["data"] = raw
        elif body is not None:
            kwargs["json"] = body
        async with self.client.request(method, path, **kwargs) as resp:
            return resp.status, await resp.json()

    async def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("POST", path, body, **kw)

    async def create(self, actor: str = AGENT, **fields: Any) -> dict[str, Any]:
        body = {"kind": "complaint", "description": "商家卖假冒伪劣商品，要求退货"} | fields
        status, doc = await self.post("/api/tickets", body, actor=actor)
        assert status == 201, doc
        return doc

    async def act(self, number: str, action: str, actor: str, expect: int = 200, **body: Any) -> dict[str, Any]:
        status, doc = await self.post(f"/api/tickets/{number}/{action}", body, actor=actor)
        assert status == expect, doc
        return doc


@contextlib.asynccontextmanager
async def tickets_app(settings: Any, pool: Any, *, mqtt_port: int | None = None, dispatch: Any = None):
    """The tickets plugin in an aiohttp test server; ``mqtt_port`` points the relay elsewhere
    (e.g. a closed port, to simulate a broker outage); ``dispatch``: a learned dispatch service
    (callcenter/dispatch) the tickets are routed with and teach."""
    relay = OutboxRelay(pool, settings.mqtt_host, mqtt_port or settings.mqtt_port, settings.mqtt_prefix)
    live = LiveState(settings.redis_url, prefix=settings.mqtt_prefix)  # sessions
    ctx = Context(settings, pool, live=live, relay=relay, ari=NoAri(), records=None, router=None, lease=None)
    app = web.Application(middlewares=[errors_as_json, http_errors, guard, clean_input])
    harden_responses(app)
    app[CONTEXT] = ctx
    routing = DispatchPlugin(open_tickets=lambda: plugin.open_counts_by_department(), learned=False)
    routing.service.set(dispatch)  # the test's learned dispatch service, if any
    accounts, plugin = AccountsPlugin(), TicketsPlugin(dispatch=routing.router)
    accounts.routes(app)
    plugin.routes(app)
    routing.routes(app)

    async def services(_app: web.Application):
        await relay.start()
        try:
            async with contextlib.asynccontextmanager(accounts.start)(ctx), \
                    contextlib.asynccontextmanager(routing.start)(ctx), \
                    contextlib.asynccontextmanager(plugin.start)(ctx):
                yield
        finally:
            await relay.stop()
            await live.close()

    app.cleanup_ctx.append(services)
    client = TestClient(TestServer(app), cookie_jar=aiohttp.DummyCookieJar())
    await client.start_server()
    try:
        yield Api(client, ctx, plugin, Sessions(pool, str(client.make_url("")).rstrip("/")))
    finally:
        await client.close()


async def counts(pool: Any) -> dict[str, int]:
    return {t: await pool.fetchval(f"SELECT count(*) FROM {t}")
            for t in ("tickets", "ticket_events", "ticket_attachments", "outbox")}
