"""The tickets of a caller, for the agent desktop's history panel (PostgreSQL; translation only):
newest first, the description cut to 80 characters, times ISO 8601."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

DESCRIPTION_CHARS = 80


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ticket_doc(r: asyncpg.Record) -> dict[str, Any]:
    desc = r["description"] or ""
    return {"number": r["number"], "kind": r["kind"], "status": r["status"], "category": r["category"],
            "district": r["district"], "lead_department": r["lead_department"],
            "created_at": _iso(r["created_at"]), "resolve_due": _iso(r["resolve_due"]),
            "description": desc if len(desc) <= DESCRIPTION_CHARS else desc[:DESCRIPTION_CHARS - 1] + "…",
            "call_ids": list(r["call_ids"])}


async def caller_tickets(pool: asyncpg.Pool, phone: str, limit: int) -> list[dict[str, Any]]:
    """The tickets filed for a number (canonical digits), newest first; none when the tickets
    tables are not installed."""
    try:
        rows = await pool.fetch(
            "SELECT number, kind, status, category, district, lead_department, created_at, resolve_due,"
            " description, call_ids FROM tickets WHERE caller_phone = $1 ORDER BY created_at DESC LIMIT $2",
            phone, limit)
    except asyncpg.UndefinedTableError:  # the tickets feature is not installed
        return []
    return [_ticket_doc(r) for r in rows]
