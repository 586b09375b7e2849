"""Wiring of the ivr feature into the app (see callcenter/context.py for the contract).

`start` validates the flows (a broken flow set stops the app with the list of issues),
starts the FastAGI server on ``settings.agi_host:agi_port`` and provides the service
(`self.service`; the FastAgiServer is `self.server`); after ``yield`` the server
stops, ending running sessions. The IVR reads ticket statuses from the ticket service it is given (as its own `TicketStatus`), and offers callers
the open mass incident of their district through the dispatch service (``incidents``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from callcenter.context import Context
from callcenter.infra.web import Provided

from . import http
from .fastagi import FastAgiServer
from .repository import IvrRepository
from .service import FlowRegistry, IncidentOffers, IvrService, TicketStatus


class IvrPlugin:
    name = "ivr"

    def __init__(self, *, tickets: Provided[TicketStatus], incidents: Provided[IncidentOffers] | None = None) -> None:
        self.tickets, self.incidents = tickets, incidents
        self.service: Provided[IvrService] = Provided("IVR")
        self.server: Provided[FastAgiServer] = Provided("FastAGI server")

    def routes(self, app: web.Application) -> None:
        http.add_routes(app, self.service)

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        settings = ctx.settings
        registry = FlowRegistry(settings.flows_dir)
        registry.load()
        service = IvrService(registry, IvrRepository(ctx.pool), ctx.records, self.tickets,
                             incidents=self.incidents, recorded=settings.records)
        server = FastAgiServer(service, settings.agi_host, settings.agi_port, secret=settings.agi_secret,
                               max_sessions=settings.agi_max_sessions, header_timeout=settings.agi_header_timeout_s,
                               pending_per_source=settings.agi_pending_per_source,
                               max_pending=settings.agi_max_pending)
        await server.start()
        self.service.set(service)
        self.server.set(server)
        try:
            yield
        finally:
            self.service.set(None)
            self.server.set(None)
            await server.stop()
