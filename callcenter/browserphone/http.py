"""The browser phone asks for its SIP credentials (never typed, never shown).

- ``POST /api/webphone/credentials``   -> 201 {ws_url, uri, username, password, expires_at, ...}
  for an agent: the seat the agent is signed in at (409 ``no_seat`` when signed in nowhere);
  for a supervisor (the board's phone, for listen/whisper/barge): the supervisor phone lent to
  them, the same one while they hold it (409 ``no_phone_free`` when all are lent); 404
  ``webphone_off`` when the deployment has no browser phone; each call replaces the last one
- ``DELETE /api/webphone/credentials`` -> 204, the credential taken back (signing out)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from aiohttp import web

from callcenter.accounts.api import Role, current_user
from callcenter.browserphone.model import NoPhoneFree, NoSeat, WebCredential, seat_of_agent
from callcenter.browserphone.service import WebPhones
from callcenter.context import SETTINGS
from callcenter.infra.ari import AriError
from callcenter.infra.web import HttpError, Provided, reply


class Seats(Protocol):
    def __call__(self) -> Mapping[str, str] | None:
        """agent id -> the seat that agent is signed in at (the ACD); None while it has not started."""
        ...


def _open(request: web.Request) -> None:
    if not request.app[SETTINGS].webrtc_port:
        raise HttpError(404, "webphone_off", "this deployment has no browser phone (CALLCENTER_WEBRTC_PORT=0)")


def _seat(request: web.Request, seats: Seats) -> tuple[str, str]:
    """The seat the signed-in agent is at, and the agent."""
    user = current_user(request)
    agent_id = user.agent_id if user is not None else None
    try:
        return seat_of_agent(agent_id, seats() or {}), str(agent_id)
    except NoSeat as exc:
        raise HttpError(409, "no_seat", str(exc)) from None


def _supervisor(request: web.Request) -> str | None:
    user = current_user(request)
    return user.username if user is not None and user.role is Role.SUPERVISOR else None


def routes(app: web.Application, phones: Provided[WebPhones], seats: Seats,
           supervisor_phones: Callable[[], Sequence[str]]) -> None:
    async def issue(request: web.Request) -> web.Response:
        _open(request)
        settings = request.app[SETTINGS]
        username = _supervisor(request)
        try:
            cred: WebCredential
            if username is not None:
                cred = await phones.get().lend(username, supervisor_phones())
            else:
                seat, agent_id = _seat(request, seats)
                cred = await phones.get().issue(seat, agent_id)
        except NoPhoneFree as exc:
            raise HttpError(409, "no_phone_free", str(exc)) from None
        except AriError as exc:
            raise HttpError(503, "asterisk_unavailable", f"Asterisk did not take the credential: {exc}") from None
        return reply(cred.document(settings.webrtc_wss_url, settings.webrtc_sip_domain), 201)

    async def revoke(request: web.Request) -> web.Response:
        _open(request)
        username = _supervisor(request)
        phone = phones.get().lent_to(username) if username is not None else _seat(request, seats)[0]
        if phone is not None:
            await phones.get().revoke(phone)
        return web.Response(status=204)

    app.router.add_post("/api/webphone/credentials", issue)
    app.router.add_delete("/api/webphone/credentials", revoke)
