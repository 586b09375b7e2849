"""Wiring of the browser phone: its credential routes and static files (phone.js and the vendored
JsSIP), and the service that pushes credentials to Asterisk while the app runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from callcenter.browserphone import http
from callcenter.browserphone.service import WebPhones
from callcenter.context import SETTINGS, Context
from callcenter.infra.web import Provided
from callcenter.infra.webrtc_conf import supervisor_phones, web_endpoint
from callcenter.web.pages import add_static

if TYPE_CHECKING:
    from callcenter.acd.api import AcdView

STATIC = Path(__file__).parent / "static"


class WebPhonePlugin:
    name = "browserphone"

    def __init__(self, *, acd: Provided[AcdView]) -> None:
        self.acd = acd
        self.service: Provided[WebPhones] = Provided("browser phone")

    def seats(self) -> Mapping[str, str] | None:
        """agent id -> seat of the signed-in agents; None while the ACD has not started."""
        view = self.acd.maybe()
        if view is None:
            return None
        return {s.agent.agent_id: s.agent.seat_id for s in view.slots.values() if s.agent.logged_in}

    def supervisor_phone(self, username: str) -> str | None:
        """The browser endpoint lent to this supervisor now (`sup01-web`), for listen/whisper/barge."""
        phones = self.service.maybe()
        phone = phones.lent_to(username) if phones is not None else None
        return web_endpoint(phone) if phone else None

    def routes(self, app: web.Application) -> None:
        http.routes(app, self.service, self.seats, lambda: supervisor_phones(app[SETTINGS]))
        add_static(app, "browserphone", STATIC)

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        phones = WebPhones(ctx.ari, ctx.settings.webrtc_credential_ttl_s, seats=self.seats)
        phones.start()
        self.service.set(phones)
        try:
            yield
        finally:
            self.service.set(None)
            await phones.stop()
