"""The knowledge feature for integration tests: the accounts, dispatch (rules only), tickets and
knowledge plugins in an aiohttp test server (real PostgreSQL, Redis, Mosquitto; no Asterisk),
with the JSON client of tickets_support (``actor=`` logs in as that user)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import aiohttp
from accounts_support import Sessions
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from tickets_support import Api, NoAri

from callcenter.accounts.guard import guard
from callcenter.accounts.plugin import AccountsPlugin
from callcenter.context import CONTEXT, Context
from callcenter.dispatch.plugin import DispatchPlugin
from callcenter.infra.hardening import clean_input, errors_as_json
from callcenter.infra.mqtt import OutboxRelay
from callcenter.infra.redis import LiveState
from callcenter.infra.web import http_errors
from callcenter.knowledge.plugin import KnowledgePlugin
from callcenter.knowledge.service import KnowledgeService
from callcenter.tickets.plugin import TicketsPlugin
from callcenter.web.headers import harden_responses

KB = "kb:wang"


@dataclass
class KbApi(Api):
    knowledge: KnowledgePlugin | None = None

    @property
    def kb(self) -> KnowledgeService:
        assert self.knowledge is not None
        return self.knowledge.service.get()

    async def patch(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("PATCH", path, body, **kw)


@contextlib.asynccontextmanager
async def knowledge_app(settings: Any, pool: Any, *, seed: bool = True):
    relay = OutboxRelay(pool, settings.mqtt_host, settings.mqtt_port, settings.mqtt_prefix)
    live = LiveState(settings.redis_url, prefix=settings.mqtt_prefix)
    ctx = Context(settings, pool, live=live, relay=relay, ari=NoAri(), records=None, router=None, lease=None)
    app = web.Application(middlewares=[errors_as_json, http_errors, guard, clean_input])
    harden_responses(app)
    app[CONTEXT] = ctx
    routing = DispatchPlugin(learned=False)
    accounts, tickets = AccountsPlugin(), TicketsPlugin(dispatch=routing.router)
    knowledge = KnowledgePlugin(filing=lambda **f: tickets.service.get().create_ticket(**f),
                                knows_unit=routing.router.knows_unit,
                                gaps=lambda since: tickets.service.get().enquiry_gaps(since),
                                replies=lambda number: tickets.service.get().answered_enquiry(number))
    for plugin in (accounts, tickets, routing, knowledge):
        plugin.routes(app)
    if seed:
        async with pool.acquire() as conn:
            await knowledge.seed(conn, None)

    async def services(_app: web.Application):
        await relay.start()
        try:
            async with contextlib.asynccontextmanager(accounts.start)(ctx), \
                    contextlib.asynccontextmanager(routing.start)(ctx), \
                    contextlib.asynccontextmanager(tickets.start)(ctx), \
                    contextlib.asynccontextmanager(knowledge.start)(ctx):
                yield
        finally:
            await relay.stop()
            await live.close()

    app.cleanup_ctx.append(services)
    client = TestClient(TestServer(app), cookie_jar=aiohttp.DummyCookieJar())
    await client.start_server()
    try:
        yield KbApi(client, ctx, tickets, Sessions(pool, str(client.make_url("")).rstrip("/")), knowledge)
    finally:
        await client.close()
