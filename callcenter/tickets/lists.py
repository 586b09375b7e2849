"""The paged lists of tickets (search, a department's queue, the hall's desk, the audit trail)
and the board's figures, with keyset pagination.

Cursors are opaque (base64 JSON of the last row's sort key); every list takes ``limit``
(1..200) and returns ``next_cursor`` (None on the last page). Each query is shaped to use one
of the indexes in migration 0002.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg

from callcenter.infra.bounds import INT64_MAX, in_years
from callcenter.tickets.errors import BadCursor
from callcenter.tickets.repository import OPEN, Stored, bind, stored
from callcenter.tickets.sla import SHANGHAI, local_date

MAX_LIMIT = 200


def encode_cursor(*values: Any) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *types: type) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError
        out = [datetime.fromisoformat(v) if t is datetime else t(v) for v, t in zip(values, types, strict=True)]
        for v in out:  # a forged cursor's value PostgreSQL would refuse (an id over bigint, year 1)
            if isinstance(v, datetime):
                in_years(v)
            elif isinstance(v, int) and not -INT64_MAX <= v <= INT64_MAX:
                raise ValueError
        return out
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError):
        raise BadCursor("cursor is not one this API returned") from None


@dataclass
class Page:
    items: list[Stored]
    next_cursor: str | None


def tsquery(tokens: list[str]) -> str:
    """AND of quoted lexemes (tsquery input syntax)."""
    return " & ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in tokens)


@dataclass
class SearchFilter:
    number: str | None = None
    phone: str | None = None
    tokens: list[str] = field(default_factory=list)  # text search, already segmented
    statuses: list[str] = field(default_factory=list)
    department: str | None = None
    kind: str | None = None
    channel: str | None = None
    category: str | None = None
    district: str | None = None
    topic: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    overdue_at: datetime | None = None  # open and past resolve_due at this time
    escalated: bool | None = None
    unverified: bool = False  # field reports waiting for 立案


def _where(f: SearchFilter) -> tuple[list[str], list[Any]]:
    conds: list[str] = []
    args: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        conds.append(bind(sql, args, *values))

    if f.number:
        add("number = ?", f.number)
    if f.phone:
        add("caller_phone = ? AND caller_phone <> ''", f.phone)
    if f.tokens:
        add("search_tsv @@ ?::tsquery", tsquery(f.tokens))
    if f.statuses:
        add("status = ANY(?::text[])", f.statuses)
    for column in ("kind", "channel", "category", "district"):
        if (value := getattr(f, column)) is not None:
            add(f"{column} = ?", value)
    if f.department:
        add("lead_department = ?", f.department)
    if f.topic:
        add("topics @> ARRAY[?]::text[]", f.topic)
    if f.created_from:
        add("created_at >= ?", f.created_from)
    if f.created_to:
        add("created_at < ?", f.created_to)
    if f.overdue_at:
        add(f"status IN ({', '.join(repr(s) for s in OPEN)}) AND resolve_due < ?", f.overdue_at)
    if f.escalated is not None:
        conds.append("escalation_level > 0" if f.escalated else "escalation_level = 0")
    if f.unverified:
        conds.append("channel = 'field_report' AND verified_at IS NULL AND status = 'accepted'")
    return conds, args


#: text searches newest-first look at the last 30 days, then the last year, then everything,
#: and stop as soon as a page is full: frequent words then cost a small index range, not a
#: sort of every match
TEXT_WINDOWS = (timedelta(days=30), timedelta(days=365), None)


async def search(conn: asyncpg.Connection, f: SearchFilter, *, limit: int = 20, cursor: str | None = None,
                 sort: str = "created") -> Page:
    """Newest first (``sort="created"``) or most urgent deadline first (``sort="due"``)."""
    conds, args = _where(f)
    if sort == "due":
        key, order, cmp = "resolve_due", "ASC", ">"
    else:
        key, order, cmp = "created_at", "DESC", "<"
    upper = datetime.now(UTC)
    if cursor:
        at, last_id = decode_cursor(cursor, datetime, int)
        args += [at, last_id]
        conds.append(f"({key}, id) {cmp} (${len(args) - 1}, ${len(args)})")
        upper = at
    args.append(limit + 1)
    order_by = f"ORDER BY {key} {order}, id {order} LIMIT ${len(args)}"
    windows = TEXT_WINDOWS if f.tokens and sort != "due" and f.created_from is None else (None,)
    for window in windows:
        extra = [] if window is None else [f"created_at >= ${len(args) + 1}"]
        where = " AND ".join(conds + extra)
        rows = await conn.fetch(f"SELECT * FROM tickets {'WHERE ' + where if where else ''} {order_by}",
                                *args, *([] if window is None else [upper - window]))
        if len(rows) > limit:
            break
    return _page(rows, limit, key)


def _page(rows: list[asyncpg.Record], limit: int, key: str) -> Page:
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(rows[-1][key], rows[-1]["id"]) if more and rows else None
    return Page([stored(r) for r in rows], nxt)


_OPEN_SQL = f"status IN ({', '.join(repr(s) for s in OPEN)})"


async def department_queue(conn: asyncpg.Connection, department: str, *, role: str = "all",
                           statuses: list[str] | None = None, limit: int = 20,
                           cursor: str | None = None) -> Page:
    """Open tickets of a department, earliest resolve deadline first.

    ``role``: "lead" (tickets it leads), "assisting" (tickets it assists) or "all".
    """
    who = {"lead": "lead_department = $1",
           "assisting": "assisting_departments @> ARRAY[$1]::text[]",
           "all": "(lead_department = $1 OR assisting_departments @> ARRAY[$1]::text[])"}[role]
    conds, args = [_OPEN_SQL, who], [department]
    if statuses:
        args.append(statuses)
        conds.append(f"status = ANY(${len(args)}::text[])")
    if cursor:
        due, last_id = decode_cursor(cursor, datetime, int)
        args += [due, last_id]
        conds.append(f"(resolve_due, id) > (${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    rows = await conn.fetch(f"SELECT * FROM tickets WHERE {' AND '.join(conds)} "
                            f"ORDER BY resolve_due, id LIMIT ${len(args)}", *args)
    return _page(rows, limit, "resolve_due")


#: tickets waiting for the hall's dispatcher (see :mod:`.hall`): accepted without a lead (a field
#: report once verified) or returned; with the event that returned them
_HALL_SQL = (
    "t.status = 'returned' OR (t.status = 'accepted' AND (t.lead_department IS NULL OR t.lead_department = 'hall')"
    " AND t.merged_into IS NULL AND (t.channel <> 'field_report' OR t.verified_at IS NOT NULL))")
_HALL_EVENT = ("SELECT action, at, actor, reason, data FROM ticket_events WHERE ticket_id = t.id"
               " AND to_status = 'returned' AND action IN ('return', 'object', 'survey', 'reopen')"
               " ORDER BY id DESC LIMIT 1")


async def hall_queue(conn: asyncpg.Connection, *, limit: int = MAX_LIMIT) -> tuple[list[asyncpg.Record], int]:
    """The tickets waiting in the hall, nearest 办结 deadline first (at most ``limit``), each with
    ``hall_action, hall_at, hall_actor, hall_reason, hall_data`` of its return (NULL when
    accepted), and how many wait in all."""
    rows = await conn.fetch(
        "SELECT t.*, e.action AS hall_action, e.at AS hall_at, e.actor AS hall_actor, e.reason AS hall_reason,"
        f" e.data AS hall_data FROM tickets t LEFT JOIN LATERAL ({_HALL_EVENT}) e ON t.status = 'returned'"
        f" WHERE {_HALL_SQL} ORDER BY t.resolve_due NULLS LAST, t.id LIMIT $1", limit)
    total = len(rows)
    if total == limit:  # maybe more
        total = await conn.fetchval(f"SELECT count(*) FROM tickets t WHERE {_HALL_SQL}")
    return list(rows), total


async def board_stats(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
    """Open tickets by status and by lead department, overdue and escalated counts."""
    rows = await conn.fetch(
        f"SELECT status, lead_department, count(*) AS n, count(*) FILTER (WHERE escalation_level > 0) AS esc "
        f"FROM tickets WHERE {_OPEN_SQL} GROUP BY status, lead_department")
    overdue = await conn.fetchval(f"SELECT count(*) FROM tickets WHERE {_OPEN_SQL} AND resolve_due < $1", now)
    by_status: dict[str, int] = {}
    by_department: dict[str, int] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + r["n"]
        dep = r["lead_department"] or "hall"
        by_department[dep] = by_department.get(dep, 0) + r["n"]
    return {"open": sum(by_status.values()), "by_status": by_status, "by_department": by_department,
            "overdue": overdue, "escalated": sum(r["esc"] for r in rows), "at": now.isoformat(),
            "direct_answers": await direct_answers(conn, now)}


async def direct_answers(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
    """Today's (Asia/Shanghai) enquiries and those answered directly from a knowledge article
    (直接答复率: answered / enquiries; None before the first enquiry), in total and by the agent
    who filed them (``by_agent``: id -> [enquiries, answered]; the board sums them by team)."""
    start = datetime.combine(local_date(now), time(0), tzinfo=SHANGHAI)
    rows = await conn.fetch("SELECT created_by, count(*) AS enquiries, count(kb_article) AS answered FROM tickets"
                            " WHERE kind = 'enquiry' AND created_at >= $1 GROUP BY created_by", start)
    n, answered = sum(r["enquiries"] for r in rows), sum(r["answered"] for r in rows)
    agents = {r["created_by"].removeprefix("agent:"): [r["enquiries"], r["answered"]]
              for r in rows if r["created_by"].startswith("agent:")}
    return {"enquiries": n, "answered": answered, "rate": answered / n if n else None, "by_agent": agents}


async def enquiry_gaps(conn: asyncpg.Connection, since: datetime, limit: int = 50) -> list[dict[str, Any]]:
    """Enquiries filed since ``since`` that were not answered from a knowledge article (the gaps
    the hall should write articles for), grouped by category and the unit that took them: how many,
    the latest, and three of their descriptions."""
    rows = await conn.fetch(
        "SELECT category, coalesce(lead_department, 'hall') AS unit, count(*) AS n, max(created_at) AS latest,"
        " (array_agg(left(description, 120) ORDER BY created_at DESC))[1:3] AS examples FROM tickets"
        " WHERE kind = 'enquiry' AND kb_article IS NULL AND merged_into IS NULL AND created_at >= $1"
        " GROUP BY category, coalesce(lead_department, 'hall') ORDER BY count(*) DESC, max(created_at) DESC LIMIT $2",
        since, limit)
    return [{"category": r["category"], "unit": r["unit"], "count": r["n"], "latest": r["latest"].isoformat(),
             "examples": list(r["examples"])} for r in rows]


async def answered_enquiry(conn: asyncpg.Connection, number: str) -> dict[str, Any] | None:
    """An enquiry and its department's last reply (办结回复), None when it is no enquiry replied to."""
    r = await conn.fetchrow(
        "SELECT t.number, t.lead_department, t.category, t.description, e.data->>'reply' AS reply FROM tickets t"
        " JOIN ticket_events e ON e.ticket_id = t.id WHERE t.number = $1 AND t.kind = 'enquiry'"
        " AND e.action = 'resolve' AND e.data ? 'reply' ORDER BY e.id DESC LIMIT 1", number)
    return dict(r) if r else None


async def events(conn: asyncpg.Connection, ticket_id: int, *, limit: int = 50,
                 cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    after = decode_cursor(cursor, int)[0] if cursor else 0
    rows = await conn.fetch("SELECT id, action, from_status, to_status, actor, at, reason, data, version "
                            "FROM ticket_events WHERE ticket_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                            ticket_id, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return [dict(r) for r in rows], encode_cursor(rows[-1]["id"]) if more and rows else None


async def open_counts_by_department(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch(f"SELECT lead_department, count(*) AS n FROM tickets WHERE {_OPEN_SQL} "
                            "GROUP BY lead_department")
    return {r["lead_department"] or "hall": r["n"] for r in rows}
