"""Duplicate detection for 并单 (merging repeated requests about the same problem).

A new ticket duplicates an earlier *open* ticket of the same category created within the
window before it when any of these holds:
  * same caller phone (normalised digits);
  * same district and same normalised address;
  * both are field reports (城管通) within ``radius_m`` metres of each other.
The earliest such ticket is the one to merge into.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from callcenter.infra.phones import canonical_phone
from callcenter.tickets.model import (
    OPEN_STATUSES,
    Channel,
    District,
    GeoPoint,
    Ticket,
    TicketStatus,
    require_aware,
)

DEFAULT_WINDOW = timedelta(hours=72)
DEFAULT_RADIUS_M = 50.0
EARTH_RADIUS_M = 6_371_008.8
_ADDRESS_PREFIXES = ("中国", "四川省", "四川", "攀枝花市", "攀枝花")
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class TicketSummary:
    """The few fields dedup needs; build one from a stored row or with :meth:`of`."""

    number: str
    created_at: datetime
    category: str
    status: TicketStatus = TicketStatus.ACCEPTED
    channel: Channel = Channel.CALL
    caller_phone: str = ""
    district: District | None = None
    address: str = ""
    location: GeoPoint | None = None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketSummary:
        return cls(ticket.number, ticket.created_at, ticket.category, ticket.status, ticket.channel,
                   ticket.caller_phone, ticket.district, ticket.address, ticket.location)


def normalise_address(address: str | None) -> str:
    """NFKC (full-width -> half-width), drop spaces/punctuation and the province/city prefix."""
    text = _PUNCTUATION.sub("", unicodedata.normalize("NFKC", address or "")).lower()
    for prefix in _ADDRESS_PREFIXES:
        text = text.removeprefix(prefix)
    return text


def haversine_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def duplicate_reason(new: TicketSummary, old: TicketSummary, *, radius_m: float = DEFAULT_RADIUS_M) -> str | None:
    """Why ``old`` duplicates ``new`` ("phone", "address", "nearby"), ignoring time and status."""
    if not new.category or new.category != old.category:
        return None
    phone = canonical_phone(new.caller_phone)
    if phone and phone == canonical_phone(old.caller_phone):
        return "phone"
    address = normalise_address(new.address)
    if new.district is not None and new.district == old.district and address \
            and address == normalise_address(old.address):
        return "address"
    if (new.channel is Channel.FIELD_REPORT and old.channel is Channel.FIELD_REPORT
            and new.location and old.location and haversine_m(new.location, old.location) <= radius_m):
        return "nearby"
    return None


def find_duplicate(new: TicketSummary | Ticket, recent: Iterable[TicketSummary | Ticket], *,
                   window: timedelta = DEFAULT_WINDOW,
                   radius_m: float = DEFAULT_RADIUS_M) -> TicketSummary | Ticket | None:
    """The earliest open item of ``recent`` that ``new`` should be merged into, or ``None``.

    Items may be :class:`Ticket` or :class:`TicketSummary`; the matching item itself is returned.
    """
    new = new if isinstance(new, TicketSummary) else TicketSummary.of(new)
    require_aware(new.created_at, "created_at")
    best: tuple[datetime, str, TicketSummary | Ticket] | None = None
    for item in recent:
        old = item if isinstance(item, TicketSummary) else TicketSummary.of(item)
        if old.number == new.number or old.status not in OPEN_STATUSES:
            continue
        age = new.created_at - require_aware(old.created_at, "created_at")
        if not timedelta(0) <= age <= window:
            continue
        if duplicate_reason(new, old, radius_m=radius_m) and (best is None or (old.created_at, old.number) < best[:2]):
            best = (old.created_at, old.number, item)
    return best[2] if best else None
