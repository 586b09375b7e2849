"""Wiring of the browser phone: its credential routes and static files (phone.js and the vendored
JsSIP), and the service that pushes credentials to Asterisk while the app runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from callcenter.browserphone import http
from callcenter.browserphone.service import WebPhones
from callcenter.context import Context
from callcenter.infra.web import Provided
from callcenter.web.pages import add_static

if TYPE_CHECKING:
    from callcenter.acd.api import AcdView

STATIC = Path(__file__).parent / "static"


class WebPhonePlugin:
    name = "browserphone"

    def __init__(self, *, acd: Provided[AcdView]) -> None:
        self.acd = acd
        self.service: Provided[WebPhones] = Provided("browser phone")

    def seats(self) -> Mapping[str, str]:
        view = self.acd.maybe()
        if view is None:
            return {}
        return {s.agent.agent_id: s.agent.seat_id for s in view.slots.values() if s.agent.logged_in}

    def routes(self, app: web.Application) -> None:
        http.routes(app, self.service, self.seats)
        add_static(app, "browserphone", STATIC)

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        phones = WebPhones(ctx.ari, ctx.settings.webrtc_credential_ttl_s,
                           seats=lambda: self.seats() if self.acd.maybe() is not None else None)
        phones.start()
        self.service.set(phones)
        try:
            yield
        finally:
            self.service.set(None)
            await phones.stop()
