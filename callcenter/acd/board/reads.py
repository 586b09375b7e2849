"""What the board and the agent desk read of other features, declared here as Protocols and
handed in by the composition root (``app.py``); the board queries no other feature's table.

- :class:`Records`: the reads of the record, each answered by the feature that owns the table:
  a caller's calls and one call's IVR facts (``callcenter.calls.history``), a caller's tickets
  (``callcenter.tickets.history``), the open mass incidents
  (``callcenter.dispatch.incident_store.open_incidents``);
- :class:`TicketFigures`: the ticket service's board figures (open, overdue, ...);
- :class:`SurveyRatings`: today's post-call ratings and callbacks of the surveys feature;
- :class:`RecordingStatus`: the call recorder's figures (a recording that failed shows on the board).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg

from callcenter.infra.masking import mask_phone
from callcenter.infra.phones import canonical_phone, is_phone

if TYPE_CHECKING:
    from callcenter.surveys.api import Record
    from callcenter.tickets.api import SatisfactionScale

HISTORY_LIMIT = 20
Doc = dict[str, Any]


class CallerRows(Protocol):
    async def __call__(self, pool: asyncpg.Pool, phone: str, limit: int, /) -> list[Doc]:
        """A caller's calls (or tickets), newest first; ``phone`` canonical digits."""


class CallFacts(Protocol):
    async def __call__(self, pool: asyncpg.Pool, call_id: str, /) -> Doc | None:
        """What the IVR learnt about a call, or None when the call row is not written (yet)."""


class OpenIncidents(Protocol):
    async def __call__(self, pool: asyncpg.Pool, /) -> list[Doc]:
        """The open mass incidents (热点诉求), newest first, as the board's panel shows them."""


@dataclass(frozen=True)
class Records:
    """The record reads the board makes, on the shared pool."""

    calls_of: CallerRows
    call_facts: CallFacts
    tickets_of: CallerRows
    open_incidents: OpenIncidents


class TicketFigures(Protocol):
    async def board(self) -> Doc:
        """The ticket figures of the board (``open``, ``overdue``, ``escalated``, ``by_status``)."""


class RatingStore(Protocol):
    async def records(self, start: datetime, end: datetime) -> list[Record]: ...

    async def ratings(self, start: datetime, end: datetime) -> list[Record]: ...


class RatingScale(Protocol):
    def scale_(self) -> SatisfactionScale: ...


class SurveyRatings(Protocol):
    @property
    def store(self) -> RatingStore: ...

    @property
    def config(self) -> RatingScale: ...


class QualityFigures(Protocol):
    """The quality reviews' figures (callcenter/quality, model.figures): per agent / team / week,
    the fatal items' hits, the appeals' outcomes, of the calls reviewed since ``since``."""

    async def figures(self, since: datetime, until: datetime | None = None) -> Doc: ...


class RecordingStatus(Protocol):
    """The recorder's figures (callcenter/recordings): parts live, stored, failures, the last ones."""

    def stats(self) -> Doc: ...


def normalise_phone(text: str) -> str | None:
    """The canonical form of a phone number (3..15 digits; +, -, spaces and brackets allowed), else None."""
    return canonical_phone(text) if is_phone(text) else None


async def caller_history(records: Records, pool: asyncpg.Pool, phone: str, *,
                         limit: int = HISTORY_LIMIT) -> Doc:
    """A caller's previous calls and tickets, newest first. ``phone`` must already be normalised."""
    return {"phone_masked": mask_phone(phone), "calls": await records.calls_of(pool, phone, limit),
            "tickets": await records.tickets_of(pool, phone, limit)}
