"""Wiring of the tickets feature into the app (see callcenter/app.py for the hooks).

``routes(app)`` adds the REST API (``/api/tickets...``, ``/api/departments...``,
``/api/field-reports...``, ``/api/topics``, ``/api/openapi.json``); ``start(ctx)`` builds the
:class:`~callcenter.tickets.service.TicketService`, publishes it as ``ctx.services["tickets"]``
and runs the SLA sweeper in the background until the app stops.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from callcenter.infra.logging import get_logger
from callcenter.tickets import http
from callcenter.tickets.service import TicketService

log = get_logger("tickets")
SWEEP_INTERVAL = 60.0  # seconds between SLA sweeps


def routes(app: web.Application) -> None:
    http.routes(app)


async def start(ctx: Any):
    svc = await TicketService.open(ctx.pool, prefix=ctx.settings.ticket_prefix)
    ctx.services["tickets"] = svc
    sweeper = asyncio.create_task(svc.run_sweeper(SWEEP_INTERVAL), name="tickets-sla-sweeper")
    log.info("tickets_started", departments=len(svc.rules.departments), topics=len(svc.rules.topics))
    try:
        yield
    finally:
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)
        ctx.services.pop("tickets", None)
