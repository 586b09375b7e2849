"""Credentials of a seat's browser phone (pure).

The page never types or shows them: the server makes one for the seat its agent is signed in at,
random and short-lived, and pushes it to Asterisk as the `auth` of that seat's browser endpoint
(`seatNN-web`). Only one is valid per seat at a time (a new one replaces the last); the page
asks for a fresh one halfway through its life, and an expired one is taken back from Asterisk,
as is one whose agent is no longer signed in at its seat (signed out by *22, a supervisor or a
takeover, or moved to another seat). A page can therefore register only as its own agent's seat,
and only while the agent is there.

A supervisor's board has a browser phone too, for listen/whisper/barge: one of the supervisor
phones (`sup01`.., no seat's) is lent to the supervisor, the same one again while they hold it,
else the first free one; it lives as long as its credential.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from callcenter.infra.webrtc_conf import is_supervisor_phone, web_endpoint


class NoSeat(Exception):
    """The user is not signed in at a seat: no phone to register."""


@dataclass(frozen=True)
class WebCredential:
    seat_id: str  # the seat, or a supervisor phone (sup01..)
    holder: str  # the agent (valid only while signed in at the seat), or the supervisor's username
    password: str
    issued_at: datetime
    expires_at: datetime

    @property
    def username(self) -> str:
        return web_endpoint(self.seat_id)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def document(self, ws_url: str, domain: str) -> dict[str, object]:
        """What the desk's phone needs: where to connect, who to register as, until when."""
        life = (self.expires_at - self.issued_at).total_seconds()
        return {"seat_id": self.seat_id, "ws_url": ws_url, "uri": f"sip:{self.username}@{domain}",
                "username": self.username, "password": self.password,
                "expires_at": self.expires_at.isoformat(), "ttl_s": life, "refresh_s": max(1.0, life / 2)}


    @property
    def supervisors(self) -> bool:
        return is_supervisor_phone(self.seat_id)


def new_credential(seat_id: str, holder: str, now: datetime, ttl_s: float,
                   token: Callable[[int], str] = secrets.token_urlsafe) -> WebCredential:
    return WebCredential(seat_id, holder, token(24), now, now + timedelta(seconds=ttl_s))


def seat_of_agent(agent_id: str | None, seats_by_agent: Mapping[str, str]) -> str:
    """The seat an agent is signed in at (ACD), the only seat its page may register as."""
    seat = seats_by_agent.get(agent_id or "")
    if not seat:
        raise NoSeat("sign in at a seat first: the browser phone registers as the seat you are signed in at")
    return seat


def due(issued: Mapping[str, WebCredential], now: datetime, seats_by_agent: Mapping[str, str] | None = None,
        ) -> list[str]:
    """Seats whose credential is to be taken back from Asterisk: expired, or (when the ACD's
    sign-ins are known) its agent no longer signed in at its seat."""
    return sorted(seat for seat, c in issued.items()
                  if c.expired(now) or (not c.supervisors and seats_by_agent is not None
                                        and seats_by_agent.get(c.holder) != seat))


class NoPhoneFree(Exception):
    """Every supervisor phone is lent to another supervisor."""


def held_by(username: str, issued: Mapping[str, WebCredential], now: datetime) -> str | None:
    """The supervisor phone `username` holds now, if any."""
    return next((phone for phone, c in issued.items()
                 if c.supervisors and c.holder == username and not c.expired(now)), None)


def supervisor_phone(username: str, issued: Mapping[str, WebCredential], phones: Sequence[str],
                     now: datetime) -> str:
    """The supervisor phone to lend `username`: the one they hold, else the first not lent (or
    whose credential has run out)."""
    held = held_by(username, issued, now)
    if held is not None:
        return held
    for phone in phones:
        c = issued.get(phone)
        if c is None or c.expired(now):
            return phone
    raise NoPhoneFree(f"all {len(phones)} supervisor browser phones are in use (CALLCENTER_WEBRTC_SUPERVISOR_PHONES)")


def contact_uris(aor_fields: object) -> list[str]:
    """The registered contacts in an AOR as ARI's dynamic config shows it ([{attribute, value}])."""
    if not isinstance(aor_fields, list):
        return []
    return [str(f.get("value")) for f in aor_fields
            if isinstance(f, dict) and f.get("attribute") == "contact" and f.get("value")]


def contact_id(aor: str, uri: str) -> str:
    """Asterisk's name of a registered contact (res_pjsip/location.c): `<aor>;@<md5 of the uri>`."""
    return f"{aor};@{hashlib.md5(uri.encode()).hexdigest()}"  # noqa: S324 - Asterisk's naming, not security
