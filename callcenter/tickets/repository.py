"""Ticket persistence (asyncpg): rows <-> :class:`Ticket`, numbers, events, attachments, and
the write steps every use case shares.

:class:`TicketRepository` works on the connection of a unit of work (:mod:`.unit_of_work`),
which decides the transaction; the paged lists and the board's figures are in :mod:`.lists`.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from callcenter.infra import outbox
from callcenter.infra.words import Cuts, search_words
from callcenter.tickets import notifier
from callcenter.tickets.config import TicketConfig
from callcenter.tickets.dedup import TicketSummary, normalise_address
from callcenter.tickets.errors import ConcurrentUpdate, FieldError, NotFound
from callcenter.tickets.model import (
    OPEN_STATUSES,
    Action,
    Channel,
    Deadlines,
    District,
    GeoPoint,
    Ticket,
    TicketEvent,
    TicketStatus,
    format_ticket_number,
)
from callcenter.tickets.transitions import apply

OPEN = sorted(s.value for s in OPEN_STATUSES)
AWAITING_TAKE_UP = ["accepted", "dispatched", "returned"]
_DEG_PER_M = 1 / 111_000  # latitude degrees per metre (bounding box pre-filter)

#: columns written from a Ticket (the ones that can change after creation come after `created_at`)
_STATIC = ["number", "kind", "channel", "created_at", "kb_article", "kb_unit"]
_MUTABLE = ["status", "urgency", "caller_phone", "caller_name", "category", "topics", "district", "address",
            "address_key", "lat", "lon", "description", "transcript", "call_ids", "lead_department",
            "assisting_departments", "take_up_due", "resolve_due", "remind_at", "extension_days_granted",
            "pending_extension", "escalation_level", "reopen_count", "objection", "satisfaction",
            "merged_into", "updated_at", "version"]
_EXTRA = ["created_by", "routing", "idempotency_key", "idempotency_hash", "field_kind", "collector"]
_INSERT_COLS = _STATIC + _MUTABLE + _EXTRA
_SAVE_SQL = (
    "UPDATE tickets SET "
    + ", ".join(f"{c} = ${i}" for i, c in enumerate(_MUTABLE, start=3))
    + " WHERE id = $1 AND version = $2"
)
_EVENT_SQL = ("INSERT INTO ticket_events (ticket_id, action, from_status, to_status, actor, at, reason, data, "
              "version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")


@dataclass
class Stored:
    """A ticket as stored: its row id, the domain object and the adapter-only columns."""

    id: int
    ticket: Ticket
    row: asyncpg.Record

    def __getitem__(self, key: str) -> Any:
        return self.row[key]


def ticket_columns(t: Ticket) -> dict[str, Any]:
    loc = t.location
    return {
        "number": t.number, "kind": t.kind.value, "channel": t.channel.value, "created_at": t.created_at,
        "status": t.status.value, "urgency": t.urgency.value, "caller_phone": t.caller_phone,
        "caller_name": t.caller_name, "category": t.category, "topics": list(t.topics),
        "district": t.district.value if t.district else None, "address": t.address,
        "address_key": normalise_address(t.address), "lat": loc.lat if loc else None,
        "lon": loc.lon if loc else None, "description": t.description, "transcript": t.transcript,
        "call_ids": list(t.call_ids), "lead_department": t.lead_department,
        "assisting_departments": list(t.assisting_departments), "take_up_due": t.deadlines.take_up_due,
        "resolve_due": t.deadlines.resolve_due, "remind_at": t.deadlines.remind_at,
        "extension_days_granted": t.extension_days_granted, "pending_extension": t.pending_extension,
        "escalation_level": t.escalation_level, "reopen_count": t.reopen_count, "objection": t.objection,
        "satisfaction": t.satisfaction, "merged_into": t.merged_into, "updated_at": t.updated_at or t.created_at,
        "version": t.version, "kb_article": t.article, "kb_unit": t.article_unit,
    }


def to_ticket(r: asyncpg.Record) -> Ticket:
    return Ticket(
        number=r["number"], kind=r["kind"], created_at=r["created_at"], channel=r["channel"],
        caller_phone=r["caller_phone"], caller_name=r["caller_name"], category=r["category"],
        topics=tuple(r["topics"]), district=r["district"], address=r["address"],
        location=GeoPoint(r["lat"], r["lon"]) if r["lat"] is not None else None,
        description=r["description"], call_ids=tuple(r["call_ids"]), transcript=r["transcript"],
        urgency=r["urgency"], status=r["status"], lead_department=r["lead_department"],
        assisting_departments=tuple(r["assisting_departments"]),
        deadlines=Deadlines(r["take_up_due"], r["resolve_due"], r["remind_at"]),
        extension_days_granted=r["extension_days_granted"], pending_extension=r["pending_extension"],
        escalation_level=r["escalation_level"], reopen_count=r["reopen_count"], objection=r["objection"],
        satisfaction=r["satisfaction"], merged_into=r["merged_into"], version=r["version"],
        updated_at=r["updated_at"], article=r["kb_article"], article_unit=r["kb_unit"],
    )


def stored(r: asyncpg.Record) -> Stored:
    return Stored(r["id"], to_ticket(r), r)


def search_tokens(t: Ticket, cuts: Cuts | None = None) -> list[str]:
    """Search words of a ticket, for the ``search_tsv`` column (``cuts``: the request's memo)."""
    return search_words(" ".join((t.category, t.address, t.caller_name, t.description)), cuts)


def bind(sql: str, args: list[Any], *values: Any) -> str:
    """Append ``values`` to ``args`` and number the ``?`` marks of ``sql`` to match ($n)."""
    for v in values:
        args.append(v)
        sql = sql.replace("?", f"${len(args)}", 1)
    return sql


# One statement, run outside the creating transaction, so the day's counter row is locked only
# while the statement runs. Its commit is asynchronous (no WAL flush wait while holding the row
# lock, which would serialise all creations at the disk's flush rate). That is safe: the ticket
# that uses the number commits synchronously later, which flushes the counter's WAL first; a
# crash in between only loses an unused number (gaps are allowed).
_NEXT_NUMBER_SQL = (
    "INSERT INTO ticket_day_seq (day, last) "
    "SELECT $1, 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit "
    "ON CONFLICT (day) DO UPDATE SET last = ticket_day_seq.last + 1 RETURNING last")


_N = len(_INSERT_COLS)
_CREATE_SQL = f"""
WITH t AS (
    INSERT INTO tickets ({', '.join(_INSERT_COLS)}, search_tsv)
    VALUES ({', '.join(f'${i}' for i in range(1, _N + 1))}, array_to_tsvector(${_N + 1}::text[]))
    ON CONFLICT (idempotency_key) DO NOTHING RETURNING *
), e AS (
    INSERT INTO ticket_events (ticket_id, action, from_status, to_status, actor, at, reason, data, version)
    SELECT t.id, x.action, x.from_status, x.to_status, x.actor, x.at, x.reason, x.data::jsonb, x.version
    FROM t, unnest(${_N + 2}::text[], ${_N + 3}::text[], ${_N + 4}::text[], ${_N + 5}::text[],
                   ${_N + 6}::timestamptz[], ${_N + 7}::text[], ${_N + 8}::text[], ${_N + 9}::int[])
         WITH ORDINALITY AS x(action, from_status, to_status, actor, at, reason, data, version, n)
    ORDER BY x.n
), a AS (
    INSERT INTO ticket_attachments (ticket_id, kind, ref, content_type, size_bytes, sha256, created_by)
    SELECT t.id, x.kind, x.ref, x.content_type, x.size_bytes, x.sha256, t.created_by
    FROM t, unnest(${_N + 10}::text[], ${_N + 11}::text[], ${_N + 12}::text[], ${_N + 13}::bigint[],
                   ${_N + 14}::text[]) WITH ORDINALITY AS x(kind, ref, content_type, size_bytes, sha256, n)
    ORDER BY x.n
), o AS (
    {outbox.insert_sql(_N + 15, source="t")}
)
SELECT t.*, {outbox.NOTIFY} FROM t
"""


def event_row(e: TicketEvent) -> tuple[Any, ...]:
    return (e.action.value, e.from_status.value, e.to_status.value, e.actor, e.at, e.reason, e.data, e.version)


def note_row(action: str, *, actor: str, at: datetime, status: TicketStatus, version: int,
             reason: str | None = None, data: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """An audit entry that is not a state-machine transition (created, update, remind, linked...)."""
    return (action, status.value, status.value, actor, at, reason, data or {}, version)


_IDEMPOTENCY_LOCK = 12345  # seed of the key hash: this lock space belongs to ticket creation


_OPEN_SQL = f"status IN ({', '.join(repr(s) for s in OPEN)})"
_DEDUP_COLS = "number, created_at, category, status, channel, caller_phone, district, address, lat, lon"


def _dedup_branches(new: TicketSummary, window: timedelta, radius_m: float,
                    args: list[Any]) -> str | None:
    """One indexed SELECT per rule of :mod:`dedup` (same phone, same address, nearby field
    report), UNIONed; parameters are appended to ``args``. None when no rule can match."""
    if not new.category:
        return None
    args += [new.category, new.created_at - window, new.created_at]
    first = len(args) - 2
    branches: list[str] = []

    def branch(cond: str, *values: Any) -> None:
        branches.append(bind(cond, args, *values))

    if new.caller_phone:
        branch("caller_phone = ? AND caller_phone <> ''", new.caller_phone)
    address = normalise_address(new.address)
    if new.district is not None and address:
        branch("address_key = ? AND address_key <> '' AND district = ?", address, new.district.value)
    if new.location is not None and new.channel is Channel.FIELD_REPORT:
        lat, lon = new.location.lat, new.location.lon
        dlat = radius_m * _DEG_PER_M * 1.5
        dlon = dlat / max(0.1, abs(math.cos(math.radians(lat))))
        branch("channel = 'field_report' AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?",
               lat - dlat, lat + dlat, lon - dlon, lon + dlon)
    if not branches:
        del args[first - 1:first + 2]
        return None
    return " UNION ".join(
        f"(SELECT {_DEDUP_COLS} FROM tickets WHERE {cond} AND category = ${first} "
        f"AND created_at BETWEEN ${first + 1} AND ${first + 2} AND {_OPEN_SQL} AND merged_into IS NULL "
        "ORDER BY created_at LIMIT 20)" for cond in branches)


class TicketRepository:
    """The ticket rows on one connection (the unit of work's): reads by number, id or
    idempotency key, the numbering with the duplicate probe, the writes, and the write steps
    every use case shares (lock with the version check, apply an action, link a duplicate)."""

    def __init__(self, conn: asyncpg.Connection, config: TicketConfig) -> None:
        self.conn, self.config = conn, config

    # ------------------------------------------------------------------ write steps

    async def lock(self, number: str, version: int | None) -> Stored:
        """The ticket ``number`` locked for this transaction; 404 / 409 on a stale ``version``."""
        full = self.config.normalise_number(number)
        s = await self.get(full, for_update=True) if full else None
        if s is None:
            raise NotFound(f"no ticket {number}")
        if version is not None and s.ticket.version != version:
            raise ConcurrentUpdate(f"ticket {number} is at version {s.ticket.version}, not {version}")
        return s

    async def lock_with(self, number: str, version: int | None, other: Any) -> tuple[Stored, Stored | None]:
        """:meth:`lock` ``number`` and lock the ticket ``other`` too (None: there is none), the two
        rows in number order, so two transactions that lock the same pair cannot deadlock."""
        full = self.config.normalise_number(number)
        if not isinstance(other, str) or not full or other == full:
            s = await self.lock(number, version)
            return s, s if other == full else None
        first = await self.get(other, for_update=True) if other < full else None
        s = await self.lock(number, version)
        return s, first if other < full else await self.get(other, for_update=True)

    async def open_to_merge(self, number: str) -> bool:
        """Lock ``number`` for this transaction; whether it is still open and not merged itself."""
        s = await self.get(number, for_update=True)
        return s is not None and s.ticket.is_open and not s.ticket.merged_into

    async def apply(self, s: Stored, action: Action, actor: str, at: datetime, reason: str | None = None,
                    data: dict[str, Any] | None = None) -> None:
        """Apply an action to a locked ticket and write row, audit event and outbox message."""
        before, cfg = s.ticket.version, self.config
        event = apply(s.ticket, action, actor=actor, at=at, reason=reason, policy=cfg.policy, scale=cfg.scale,
                      **(data or {}))
        await self.save(s.id, s.ticket, before)
        await self.add_events(s.id, [event])
        await notifier.transition(self.conn, s.ticket, event)

    async def link(self, target: str, number: str, actor: str, at: datetime) -> None:
        """Record on the earlier ticket that ``number`` was merged into it (its version is kept, so
        handlers working on it see no conflict)."""
        s = await self.get(target, for_update=True)
        if s is None:
            raise FieldError("into", f"no ticket {target}")
        await self.set_columns(s.id, duplicate_count=s["duplicate_count"] + 1)
        await self.add_note(s.id, "linked", actor=actor, at=at, status=s.ticket.status,
                            version=s.ticket.version, data={"ticket": number})
        await notifier.notice(self.conn, s.ticket, "linked", actor=actor, at=at, data={"ticket": number})

    async def insert_created(self, t: Ticket, *, created_by: str, tokens: Iterable[str],
                             events: list[tuple[Any, ...]], messages: list[tuple[str, dict[str, Any]]],
                             attachments: Iterable[Any] = (), routing: dict[str, Any] | None = None,
                             idempotency_key: str | None = None, idempotency_hash: str | None = None,
                             field_kind: str | None = None, collector: str | None = None) -> asyncpg.Record | None:
        """Insert a new ticket with its audit events, attachments and outbox messages in ONE statement
        (atomic without an explicit transaction). ``None`` when the idempotency key exists already."""
        cols = ticket_columns(t) | {"created_by": created_by, "routing": routing, "idempotency_key": idempotency_key,
                                    "idempotency_hash": idempotency_hash, "field_kind": field_kind,
                                    "collector": collector}
        ev = list(zip(*events, strict=True)) if events else [()] * 8
        files = [(a.kind, a.ref, a.content_type, a.size_bytes, a.sha256) for a in attachments]
        fl = list(zip(*files, strict=True)) if files else [()] * 5
        return await self.conn.fetchrow(
            _CREATE_SQL, *(cols[c] for c in _INSERT_COLS), list(tokens),
            list(ev[0]), list(ev[1]), list(ev[2]), list(ev[3]), list(ev[4]), list(ev[5]),
            [json.dumps(d, ensure_ascii=False, default=str) for d in ev[6]], list(ev[7]),
            *(list(col) for col in fl), *outbox.encode(messages))

    async def get(self, number: str, *, for_update: bool = False) -> Stored | None:
        sql = "SELECT * FROM tickets WHERE number = $1" + (" FOR UPDATE" if for_update else "")
        row = await self.conn.fetchrow(sql, number)
        return stored(row) if row else None

    async def get_by_id(self, ticket_id: int) -> Stored:
        return stored(await self.conn.fetchrow("SELECT * FROM tickets WHERE id = $1", ticket_id))

    @contextlib.asynccontextmanager
    async def idempotency_lock(self, key: str) -> AsyncIterator[None]:
        """Requests with the same idempotency key, one at a time (a session advisory lock, no
        transaction: the day counter must stay outside one). A retry then finds the first ticket
        before it takes a number, so replays never burn ticket numbers. The pool's reset releases
        the lock if the connection goes back to the pool without the unlock."""
        await self.conn.execute("SELECT pg_advisory_lock(hashtextextended($1, $2))", key, _IDEMPOTENCY_LOCK)
        try:
            yield
        finally:
            await self.conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, $2))", key, _IDEMPOTENCY_LOCK)

    async def by_idempotency_key(self, key: str) -> Stored | None:
        row = await self.conn.fetchrow("SELECT * FROM tickets WHERE idempotency_key = $1", key)
        return stored(row) if row else None

    async def save(self, ticket_id: int, t: Ticket, expected_version: int) -> None:
        """Write the mutable columns if the stored version is still ``expected_version``."""
        cols = ticket_columns(t)
        status = await self.conn.execute(_SAVE_SQL, ticket_id, expected_version, *(cols[c] for c in _MUTABLE))
        if status != "UPDATE 1":
            raise ConcurrentUpdate(f"ticket {t.number} was changed by someone else (expected version "
                                   f"{expected_version})")

    async def set_columns(self, ticket_id: int, **values: Any) -> None:
        """Adapter-only columns (sweeper marks, verification, duplicate counter, search tokens)."""
        allowed = {"reminded_due", "escalated_take_up_due", "escalated_resolve_due", "verified_at", "verified_by",
                   "duplicate_count", "routing"}
        sets, args = [], [ticket_id]
        for name, value in values.items():
            if name == "tokens":
                args.append(list(value))
                sets.append(f"search_tsv = array_to_tsvector(${len(args)}::text[])")
                continue
            if name not in allowed:
                raise ValueError(f"not an adapter column: {name}")
            args.append(value)
            sets.append(f"{name} = ${len(args)}")
        await self.conn.execute(f"UPDATE tickets SET {', '.join(sets)} WHERE id = $1", *args)

    async def add_events(self, ticket_id: int, events: Iterable[TicketEvent]) -> None:
        await self.conn.executemany(_EVENT_SQL, [(ticket_id, *event_row(e)) for e in events])

    async def add_note(self, ticket_id: int, action: str, **kw: Any) -> None:
        """Write one :func:`note_row` audit entry."""
        await self.conn.execute(_EVENT_SQL, ticket_id, *note_row(action, **kw))

    async def attachments(self, ticket_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.fetch("SELECT kind, ref, content_type, size_bytes, sha256, created_by, created_at "
                                     "FROM ticket_attachments WHERE ticket_id = $1 ORDER BY id", ticket_id)
        return [dict(r) for r in rows]

    async def number_and_candidates(self, day: date, probe: TicketSummary | None) -> tuple[str, list[TicketSummary]]:
        """The next number of the local day and the open tickets that ``probe`` may duplicate, in one
        round trip. Must not run inside a transaction (see ``_NEXT_NUMBER_SQL``)."""
        args: list[Any] = [day]
        cfg = self.config
        union = _dedup_branches(probe, cfg.dedup_window, cfg.radius_m, args) if probe is not None else None
        if union is None:
            rows = [await self.conn.fetchrow(_NEXT_NUMBER_SQL, day)]
        else:
            rows = await self.conn.fetch(f"WITH n AS ({_NEXT_NUMBER_SQL}) SELECT n.last, d.* FROM n "
                                         f"LEFT JOIN ({union}) AS d ON true", *args)
        number = format_ticket_number(day, rows[0]["last"], prefix=cfg.prefix)
        return number, [
            TicketSummary(r["number"], r["created_at"], r["category"], TicketStatus(r["status"]), Channel(r["channel"]),
                          r["caller_phone"], District.parse(r["district"]), r["address"],
                          GeoPoint(r["lat"], r["lon"]) if r["lat"] is not None else None)
            for r in rows if len(r) > 1 and r["number"] is not None]
