"""The desk's browser phone asks for its SIP credentials (never typed, never shown).

- ``POST /api/webphone/credentials``   -> 201 {ws_url, uri, username, password, expires_at, ...}
  for the seat the agent is signed in at (409 ``no_seat`` when signed in nowhere; 404
  ``webphone_off`` when the deployment has no browser phone); each call replaces the last one
- ``DELETE /api/webphone/credentials`` -> 204, the seat's credential taken back (signing out)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from aiohttp import web

from callcenter.accounts.api import current_user
from callcenter.browserphone.model import NoSeat, seat_of_agent
from callcenter.browserphone.service import WebPhones
from callcenter.context import SETTINGS
from callcenter.infra.ari import AriError
from callcenter.infra.web import HttpError, Provided, reply


class Seats(Protocol):
    def __call__(self) -> Mapping[str, str]:
        """agent id -> the seat that agent is signed in at (the ACD)."""
        ...


def _seat(request: web.Request, seats: Seats) -> tuple[str, str]:
    """The seat the signed-in agent is at, and the agent."""
    if not request.app[SETTINGS].webrtc_port:
        raise HttpError(404, "webphone_off", "this deployment has no browser phone (CALLCENTER_WEBRTC_PORT=0)")
    user = current_user(request)
    agent_id = user.agent_id if user is not None else None
    try:
        return seat_of_agent(agent_id, seats()), str(agent_id)
    except NoSeat as exc:
        raise HttpError(409, "no_seat", str(exc)) from None


def routes(app: web.Application, phones: Provided[WebPhones], seats: Seats) -> None:
    async def issue(request: web.Request) -> web.Response:
        seat, agent_id = _seat(request, seats)
        settings = request.app[SETTINGS]
        try:
            cred = await phones.get().issue(seat, agent_id)
        except AriError as exc:
            raise HttpError(503, "asterisk_unavailable", f"Asterisk did not take the credential: {exc}") from None
        domain = settings.webrtc_sip_domain
        return reply(cred.document(settings.webrtc_wss_url, domain), 201)

    async def revoke(request: web.Request) -> web.Response:
        seat, _ = _seat(request, seats)
        await phones.get().revoke(seat)
        return web.Response(status=204)

    app.router.add_post("/api/webphone/credentials", issue)
    app.router.add_delete("/api/webphone/credentials", revoke)
