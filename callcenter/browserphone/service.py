"""Pushing and taking back the browser phones' credentials in Asterisk (ARI dynamic config).

`PUT /asterisk/config/dynamic/res_pjsip/auth/seatNN-web-auth` creates or replaces the auth object
of a seat's browser endpoint in sorcery's memory wizard (asterisk_conf/sorcery.conf); `DELETE`
takes it back, after which Asterisk refuses every REGISTER for that endpoint. A sweep each second
takes back what has expired; stopping the controller takes back all it handed out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from callcenter.browserphone.model import WebCredential, due, new_credential
from callcenter.infra.ari import AriClient, AriError
from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every
from callcenter.infra.webrtc_conf import web_auth_id

log = get_logger("browserphone")
_AUTH = "/asterisk/config/dynamic/res_pjsip/auth/"


class WebPhones:
    def __init__(self, ari: AriClient, ttl_s: float, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.ari, self.ttl_s, self.clock = ari, ttl_s, clock
        self.issued: dict[str, WebCredential] = {}
        self._sweeper: asyncio.Task | None = None

    async def issue(self, seat_id: str) -> WebCredential:
        cred = new_credential(seat_id, self.clock(), self.ttl_s)
        fields = [{"attribute": "auth_type", "value": "userpass"},
                  {"attribute": "username", "value": cred.username},
                  {"attribute": "password", "value": cred.password}]
        await self.ari.put(_AUTH + web_auth_id(seat_id), body={"fields": fields})
        self.issued[seat_id] = cred
        log.info("webphone_credential_issued", seat=seat_id, expires_at=cred.expires_at.isoformat())
        return cred

    async def revoke(self, seat_id: str) -> bool:
        had = self.issued.pop(seat_id, None) is not None
        try:
            await self.ari.delete(_AUTH + web_auth_id(seat_id))
        except AriError as exc:
            if exc.status != 404:
                raise
        if had:
            log.info("webphone_credential_revoked", seat=seat_id)
        return had

    async def sweep(self) -> list[str]:
        gone = due(self.issued, self.clock())
        for seat in gone:
            await self.revoke(seat)
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
