"""Wiring of the tickets feature into the app (see callcenter/context.py for the contract).

`routes(app)` adds the REST API (``/api/tickets...``, ``/api/departments...``,
``/api/field-reports...``, ``/api/topics``, ``/api/openapi.json``: :mod:`.routes`); `start(ctx)` builds the
:class:`~callcenter.tickets.service.TicketService`, provides it to the routes and to the
features that read it (`self.service`), and runs the SLA sweeper until the app stops.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
from aiohttp import web

from callcenter.context import Context
from callcenter.infra.logging import get_logger
from callcenter.infra.web import Provided
from callcenter.tickets import catalog, pages
from callcenter.tickets.endpoints import add_routes
from callcenter.tickets.learned import LearnedDispatch
from callcenter.tickets.routes import TicketRoutes
from callcenter.tickets.service import TicketService
from callcenter.tickets.store import Transcripts

log = get_logger("tickets")
SWEEP_INTERVAL = 60.0  # seconds between SLA sweeps


class TicketsPlugin:
    name = "tickets"

    def __init__(self, dispatch: Provided[LearnedDispatch] | None = None,
                 transcripts: Transcripts | None = None) -> None:
        self.service: Provided[TicketService] = Provided("tickets service")
        self.dispatch = dispatch  # the learned dispatch service (callcenter/dispatch), when wired
        self.transcripts = transcripts  # a ticket filed from calls gets their stored transcript

    def routes(self, app: web.Application) -> None:
        add_routes(app, TicketRoutes(self.service).endpoints())
        pages.routes(app)  # /dept and its live feed /ws/dept/{code}

    async def seed(self, conn: asyncpg.Connection, today: date) -> str:
        """The department catalogue (upserted) and, when none is stored yet, the bundled dispatch
        rules as their first stored version."""
        await catalog.sync_departments(conn)
        stored = await catalog.stored_rules_spec(conn) is not None
        if not stored:
            await catalog.save_rules(conn, catalog.bundled_rules_spec(), "seed")
        rules = await catalog.load_rules(conn)
        return (f"{len(rules.departments)} departments, dispatch rules "
                f"{'kept as stored' if stored else 'stored from the bundled file'}, {len(rules.topics)} topics")

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        svc = await TicketService.open(ctx.pool, prefix=ctx.settings.ticket_prefix,
                                       dispatch=self.dispatch.maybe if self.dispatch else None,
                                       transcripts=self.transcripts)
        self.service.set(svc)
        sweeper = asyncio.create_task(svc.sweeper.run(SWEEP_INTERVAL, refresh=svc.admin.refresh_topics),
                                      name="tickets-sla-sweeper")
        rules = svc.store.rules
        log.info("tickets_started", departments=len(rules.departments), topics=len(rules.topics))
        try:
            yield
        finally:
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            self.service.set(None)
