"""Pushing and taking back the browser phones' credentials in Asterisk (ARI dynamic config).

`PUT /asterisk/config/dynamic/res_pjsip/auth/seatNN-web-auth` creates or replaces the auth object
of a seat's browser endpoint in sorcery's memory wizard (asterisk_conf/sorcery.conf); `DELETE`
takes it back, after which Asterisk refuses every REGISTER for that endpoint, and the endpoint's
registered contacts are removed so a browser already registered stops ringing at once. A sweep
each second takes back what has expired or whose agent has left the seat; stopping the controller
takes back all it handed out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from callcenter.browserphone.model import (
    WebCredential,
    contact_id,
    contact_uris,
    due,
    held_by,
    new_credential,
    supervisor_phone,
)
from callcenter.infra.ari import AriClient, AriError
from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every
from callcenter.infra.webrtc_conf import web_auth_id, web_endpoint

log = get_logger("browserphone")
_AUTH = "/asterisk/config/dynamic/res_pjsip/auth/"
_AOR = "/asterisk/config/dynamic/res_pjsip/aor/"
_CONTACT = "/asterisk/config/dynamic/res_pjsip/contact/"


class WebPhones:
    def __init__(self, ari: AriClient, ttl_s: float, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 seats: Callable[[], Mapping[str, str] | None] = lambda: None):
        self.ari, self.ttl_s, self.clock = ari, ttl_s, clock
        self.seats = seats  # agent id -> the seat signed in at (the ACD), None while not known
        self.issued: dict[str, WebCredential] = {}
        self._sweeper: asyncio.Task | None = None

    async def lend(self, username: str, phones: Sequence[str]) -> WebCredential:
        """A supervisor phone for `username` (the one they hold, else a free one), its credential new."""
        return await self.issue(supervisor_phone(username, self.issued, phones, self.clock()), username)

    def lent_to(self, username: str) -> str | None:
        """The supervisor phone `username` holds now, if any."""
        return held_by(username, self.issued, self.clock())

    async def issue(self, seat_id: str, holder: str) -> WebCredential:
        cred = new_credential(seat_id, holder, self.clock(), self.ttl_s)
        fields = [{"attribute": "auth_type", "value": "userpass"},
                  {"attribute": "username", "value": cred.username},
                  {"attribute": "password", "value": cred.password}]
        await self.ari.put(_AUTH + web_auth_id(seat_id), body={"fields": fields})
        self.issued[seat_id] = cred
        log.info("webphone_credential_issued", seat=seat_id, holder=holder, expires_at=cred.expires_at.isoformat())
        return cred

    async def revoke(self, seat_id: str) -> bool:
        """Take the seat's credential back and remove its registration; while Asterisk does not
        answer, the credential stays listed and the next sweep tries again."""
        try:
            await self.ari.delete(_AUTH + web_auth_id(seat_id))
        except AriError as exc:
            if exc.status != 404:
                raise
        await self.unregister(seat_id)
        had = self.issued.pop(seat_id, None) is not None
        if had:
            log.info("webphone_credential_revoked", seat=seat_id)
        return had

    async def unregister(self, seat_id: str) -> None:
        """Remove the registered contacts of the seat's browser endpoint: without its credential a
        browser could not renew its registration, but it would ring until the registration ran out."""
        aor = web_endpoint(seat_id)  # the browser endpoint's AOR has the endpoint's name
        try:
            fields = await self.ari.get(_AOR + aor)
        except AriError:
            return
        for uri in contact_uris(fields):
            try:
                await self.ari.delete(_CONTACT + quote(contact_id(aor, uri), safe=""))
            except AriError as exc:
                if exc.status != 404:
                    raise
            log.info("webphone_contact_removed", seat=seat_id)

    async def sweep(self) -> list[str]:
        gone = due(self.issued, self.clock(), self.seats())
        for seat in gone:
            try:
                await self.revoke(seat)
            except AriError as exc:  # the next sweep tries again; the other seats go on
                log.warning("webphone_revoke_failed", seat=seat, error=str(exc))
        return gone

    def start(self) -> None:
        self._sweeper = asyncio.create_task(every(1.0, self.sweep, log=log, failed="webphone_sweep_failed",
                                                  traceback=False), name="browserphone-sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        for seat in list(self.issued):
            try:
                await self.revoke(seat)
            except AriError as exc:  # Asterisk away: its memory went with it, or the TTL ends it
                log.warning("webphone_revoke_failed", seat=seat, error=str(exc))
