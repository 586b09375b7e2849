"""What the tickets feature asks of others, declared here so that it imports none of them.

:class:`Dispatch` is where a ticket goes (the dispatch feature implements it): the answer is a
:class:`Decision`, stored as the ticket's ``routing`` document; the use cases also tell it what
people and tickets do (a person chose a unit: a training example; a ticket filed, resolved or
merged: the mass-incident detector) and ask it whether a unit or topic exists. How the answer
was found (rules, a classifier) is none of the tickets feature's business.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg

from callcenter.infra.words import Cuts
from callcenter.tickets.model import Ticket


@dataclass(frozen=True)
class Decision:
    """Where a ticket goes, as stored with it (``routing`` column) and shown by the API."""

    lead: str
    assisting: tuple[str, ...]
    confidence: float
    matched_rules: tuple[str, ...]
    needs_human: bool
    suggested: str | None = None  # best candidate, also when a human must decide
    learned: dict[str, Any] | None = None  # the classifier's proposal, when one was asked

    def doc(self) -> dict[str, Any]:
        return {"lead": self.lead, "assisting": list(self.assisting), "confidence": self.confidence,
                "matched_rules": list(self.matched_rules), "needs_human": self.needs_human,
                "suggested": self.suggested} | ({"learned": self.learned} if self.learned else {})


class Dispatch(Protocol):
    def route(self, ticket: Ticket, cuts: Cuts | None = None, *, rules_only: bool = False) -> Decision:
        """Where ``ticket`` goes; ``cuts``: the request's memo of jieba's cuts (shared with its
        search words); ``rules_only``: the dispatch rules alone (立案 of a field report)."""

    def knows_unit(self, code: str) -> bool: ...

    def knows_topic(self, code: str) -> bool: ...

    async def chosen(self, ticket: Ticket, source: str, actor: str) -> None:
        """A person chose the ticket's unit (``source``: human_dispatch | objection | reassignment)."""

    async def filed(self, ticket: Ticket, decision: Decision | None) -> None:
        """A new ticket (for the mass-incident detector)."""

    async def resolved(self, ticket: Ticket) -> list[str]:
        """A resolved ticket; returns the requests linked to the incidents it closed."""

    async def merged(self, number: str, into: str) -> None:
        """Ticket ``number`` was merged (并单) into ``into``."""


#: the stored transcript of some calls ('' if none), read when a ticket is filed from them (on
#: the filing's connection)
Transcripts = Callable[[asyncpg.Pool | asyncpg.Connection, Sequence[str]], Awaitable[str]]
