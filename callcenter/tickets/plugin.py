"""Wiring of the tickets feature into the app (see callcenter/context.py for the contract).

`routes(app)` adds the REST API (``/api/tickets...``, ``/api/departments/{code}/queue``,
``/api/hall/queue``, ``/api/field-reports...``, ``/api/openapi.json``: :mod:`.http`); `start(ctx)`
builds the :class:`~callcenter.tickets.service.TicketService`, provides it to the routes and to
the features that read it (`self.service`), and runs the SLA sweeper until the app stops. Where
a ticket goes is asked of the `dispatch` it is built with (:class:`~.ports.Dispatch`; app.py
hands it the dispatch feature's router).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from callcenter.context import Context
from callcenter.infra.logging import get_logger
from callcenter.infra.web import Provided
from callcenter.tickets import pages
from callcenter.tickets.config import TicketConfig
from callcenter.tickets.http import TicketRoutes
from callcenter.tickets.ports import Dispatch, Transcripts
from callcenter.tickets.service import TicketService

log = get_logger("tickets")
SWEEP_INTERVAL = 60.0  # seconds between SLA sweeps


class TicketsPlugin:
    name = "tickets"

    def __init__(self, dispatch: Dispatch, transcripts: Transcripts | None = None) -> None:
        self.service: Provided[TicketService] = Provided("tickets service")
        self.dispatch = dispatch  # where a ticket goes (the dispatch feature's router)
        self.transcripts = transcripts  # a ticket filed from calls gets their stored transcript

    def routes(self, app: web.Application) -> None:
        TicketRoutes(self.service).add(app)
        pages.routes(app)  # /dept and its live feed /ws/dept/{code}

    async def open_counts_by_department(self) -> dict[str, int]:
        """Open tickets by lead department (the dispatch feature's department list shows them)."""
        return await self.service.get().open_counts_by_department()

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        svc = TicketService(ctx.pool, self.dispatch, TicketConfig(prefix=ctx.settings.ticket_prefix),
                            transcripts=self.transcripts)
        self.service.set(svc)
        sweeper = asyncio.create_task(svc.sweeper.run(SWEEP_INTERVAL), name="tickets-sla-sweeper")
        log.info("tickets_started", prefix=svc.config.prefix)
        try:
            yield
        finally:
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            self.service.set(None)
