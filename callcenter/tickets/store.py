"""What every ticket use case shares: the pool, the configuration in force, and the write steps.

:class:`TicketStore` holds the routing rules (replaced at run time by the admin use cases,
read by all the others), the SLA policy, the satisfaction scale, the number prefix and the
duplicate window, and the steps of every write: find and lock a ticket by number (with the
optimistic version check), apply a state-machine action and write row + audit event + outbox
message, record on an earlier ticket that a duplicate joined it, check that the departments
and topics a request names exist. The use cases (:mod:`.service`, :mod:`.creation`,
:mod:`.admin`, :mod:`.sweeper`) are plain classes that each take the one store.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from callcenter.calls.records import bridged_to
from callcenter.tickets import notifier
from callcenter.tickets import repository as repo
from callcenter.tickets.actors import Actor, Role, check_calls
from callcenter.tickets.dedup import DEFAULT_RADIUS_M, DEFAULT_WINDOW
from callcenter.tickets.errors import ConcurrentUpdate, FieldError, NotFound
from callcenter.tickets.learned import Lookup
from callcenter.tickets.model import FIVE_LEVEL, Action, SatisfactionScale, Ticket
from callcenter.tickets.routing import RoutingRules
from callcenter.tickets.sla import SlaPolicy, default_policy
from callcenter.tickets.transitions import apply

ROUTER = "system:router"  # actor of automatic dispatches
SLA = "system:sla"  # actor of the sweeper's escalations and reminders
#: the stored transcript of some calls ('' if none), read when a ticket is filed from them (on
#: the filing's connection)
Transcripts = Callable[[asyncpg.Pool | asyncpg.Connection, Sequence[str]], Awaitable[str]]


def utcnow() -> datetime:
    return datetime.now(UTC)


class TicketStore:
    def __init__(self, pool: asyncpg.Pool, rules: RoutingRules, *, prefix: str = "PZH",
                 policy: SlaPolicy | None = None, scale: SatisfactionScale = FIVE_LEVEL,
                 dedup_window: timedelta = DEFAULT_WINDOW, radius_m: float = DEFAULT_RADIUS_M,
                 dispatch: Lookup | None = None, transcripts: Transcripts | None = None) -> None:
        self.pool, self.rules, self.prefix = pool, rules, prefix
        self.dispatch = dispatch  # the learned dispatch service, when the app has one
        self.transcripts = transcripts  # live transcription's stored text, when the app has it
        self.policy = policy or default_policy()
        cal = self.policy.calendar
        if not hasattr(cal.is_workday, "cache_info"):
            # chinese_calendar validates every date it is asked about (slow); a day's answer never
            # changes for a given calendar, so remember it (speeds up deadlines ~10x)
            cal.is_workday = functools.lru_cache(maxsize=8192)(cal.is_workday)
        self.scale = scale
        self.dedup_window, self.radius_m = dedup_window, radius_m

    # ------------------------------------------------------------------ input

    def normalise_number(self, text: str) -> str | None:
        """"PZH-20261127-000123" or the digits "20261127000123" -> full number; None if malformed."""
        text = (text or "").strip().upper()
        digits = text.replace("-", "")
        if digits.isdigit() and len(digits) == 14:
            return f"{self.prefix}-{digits[:8]}-{digits[8:]}"
        parts = text.split("-")
        if (len(parts) == 3 and parts[0].isalpha() and parts[1].isdigit() and len(parts[1]) == 8
                and parts[2].isdigit() and len(parts[2]) == 6):
            return text
        return None

    def check_department(self, field: str, code: str | None) -> None:
        if code is not None and code not in self.rules.departments:
            raise FieldError(field, f"unknown department {code!r}")

    def check_departments(self, lead: str | None, assisting: Any = ()) -> None:
        self.check_department("lead", lead)
        for code in assisting or ():
            self.check_department("assisting", code)

    def check_refs(self, body: Any) -> None:
        """Topics and departments named in a request must exist (422 naming the field)."""
        for code in getattr(body, "topics", ()) or ():
            if code not in self.rules.topics:
                raise FieldError("topics", f"unknown topic {code!r}")
        self.check_departments(getattr(body, "lead", None), getattr(body, "assisting", ()))

    async def check_calls(self, who: Actor, call_ids: Sequence[str], conn: asyncpg.Connection | None = None) -> None:
        """403 when an agent names a call that was not bridged to them (the hall names any);
        on ``conn`` when the caller holds one (no pool round trip of its own)."""
        if call_ids and who.role is Role.AGENT:
            bridged = await bridged_to(self.pool if conn is None else conn, who.ident, list(call_ids))
            check_calls(who, tuple(call_ids), bridged)

    def tokens_of_text(self, text: str, memo: dict[str, list[str]] | None = None) -> list[str]:
        """Search words (jieba tokens, lower case, no punctuation); ``memo``: see ``RoutingRules.segment``."""
        return sorted({w.lower() for w in self.rules.segment(text, memo) if w.isalnum()})

    def tokens(self, t: Ticket, memo: dict[str, list[str]] | None = None) -> list[str]:
        """Search words of a ticket, for the ``search_tsv`` column."""
        return self.tokens_of_text(" ".join((t.category, t.address, t.caller_name, t.description)), memo)

    # ------------------------------------------------------------------ write steps

    async def lock(self, conn: asyncpg.Connection, number: str, version: int | None) -> repo.Stored:
        """The ticket ``number`` locked for this transaction; 404 / 409 on a stale ``version``."""
        full = self.normalise_number(number)
        s = await repo.get(conn, full, for_update=True) if full else None
        if s is None:
            raise NotFound(f"no ticket {number}")
        if version is not None and s.ticket.version != version:
            raise ConcurrentUpdate(f"ticket {number} is at version {s.ticket.version}, not {version}")
        return s

    async def apply(self, conn: asyncpg.Connection, s: repo.Stored, action: Action, actor: str, at: datetime,
                    reason: str | None = None, data: dict[str, Any] | None = None) -> None:
        """Apply an action to a locked ticket and write row, audit event and outbox message."""
        before = s.ticket.version
        event = apply(s.ticket, action, actor=actor, at=at, reason=reason, policy=self.policy, scale=self.scale,
                      **(data or {}))
        await repo.save(conn, s.id, s.ticket, before)
        await repo.add_events(conn, s.id, [event])
        await notifier.transition(conn, s.ticket, event)

    async def link(self, conn: asyncpg.Connection, target: str, number: str, actor: str, at: datetime) -> None:
        """Record on the earlier ticket that ``number`` was merged into it (its version is kept, so
        handlers working on it see no conflict)."""
        s = await repo.get(conn, target, for_update=True)
        if s is None:
            raise FieldError("into", f"no ticket {target}")
        await repo.set_columns(conn, s.id, duplicate_count=s["duplicate_count"] + 1)
        await repo.add_note(conn, s.id, "linked", actor=actor, at=at, status=s.ticket.status,
                            version=s.ticket.version, data={"ticket": number})
        await notifier.notice(conn, s.ticket, "linked", actor=actor, at=at, data={"ticket": number})
