"""Reads for the agent desktop: a caller's previous calls and tickets, and one call's IVR facts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from callcenter.infra.masking import mask_phone
from callcenter.infra.phones import canonical_phone, is_phone

HISTORY_LIMIT = 20
_IVR_LABELS = {"IVR_QUEUE": "queue", "IVR_SKILL": "skill", "IVR_PRIORITY": "priority",
               "IVR_DEPARTMENT": "department", "IVR_LINE": "line", "IVR_LANGUAGE": "language", "DNIS": "dnis"}


def normalise_phone(text: str) -> str | None:
    """The canonical form of a phone number (3..15 digits; +, -, spaces and brackets allowed), else None."""
    return canonical_phone(text) if is_phone(text) else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _call_doc(r: asyncpg.Record) -> dict[str, Any]:
    return {"call_id": r["call_id"], "entered_at": _iso(r["entered_at"]), "answered_at": _iso(r["answered_at"]),
            "ended_at": _iso(r["ended_at"]), "queue": r["queue"], "line": r["line"], "dnis": r["dnis"],
            "agent_id": r["agent_id"], "disposition": r["disposition"]}


def _ticket_doc(r: asyncpg.Record) -> dict[str, Any]:
    desc = r["description"] or ""
    return {"number": r["number"], "kind": r["kind"], "status": r["status"], "category": r["category"],
            "district": r["district"], "lead_department": r["lead_department"],
            "created_at": _iso(r["created_at"]), "resolve_due": _iso(r["resolve_due"]),
            "description": desc if len(desc) <= 80 else desc[:79] + "…", "call_ids": list(r["call_ids"])}


async def caller_history(pool: asyncpg.Pool, phone: str, *, limit: int = HISTORY_LIMIT) -> dict[str, Any]:
    """Newest first. ``phone`` must already be normalised (digits)."""
    async with pool.acquire() as conn:
        calls = await conn.fetch(
            "SELECT call_id, entered_at, answered_at, ended_at, queue, line, dnis, agent_id, disposition"
            " FROM calls WHERE caller = $1 ORDER BY entered_at DESC LIMIT $2", phone, limit)
        tickets = await _tickets(conn, phone, limit)
    return {"phone_masked": mask_phone(phone), "calls": [_call_doc(r) for r in calls],
            "tickets": [_ticket_doc(r) for r in tickets]}


async def _tickets(conn: asyncpg.Connection, phone: str, limit: int) -> list[asyncpg.Record]:
    try:
        return await conn.fetch(
            "SELECT number, kind, status, category, district, lead_department, created_at, resolve_due,"
            " description, call_ids FROM tickets WHERE caller_phone = $1 ORDER BY created_at DESC LIMIT $2",
            phone, limit)
    except asyncpg.UndefinedTableError:  # the tickets feature is not installed
        return []


async def call_facts(pool: asyncpg.Pool, call_id: str) -> dict[str, Any] | None:
    """What the IVR learnt about a call (channel variables kept on the call row, and the menu path)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT call_id, caller, dnis, line, queue, skill, priority, entered_at, answered_at, vars"
            " FROM calls WHERE call_id = $1", call_id)
        if row is None:
            return None
        path = await conn.fetchrow(
            "SELECT flow, path, outcome FROM ivr_paths WHERE call_id = $1 ORDER BY id DESC LIMIT 1", call_id)
    raw = row["vars"] if isinstance(row["vars"], dict) else {}
    ivr = {_IVR_LABELS.get(k, k.lower()): str(v) for k, v in raw.items() if v not in (None, "")}
    steps = []
    if path is not None and isinstance(path["path"], list):
        steps = [{"node": str(s.get("node", "")), "input": s.get("input")} for s in path["path"]
                 if isinstance(s, dict)]
    return {"call_id": row["call_id"], "caller": row["caller"], "dnis": row["dnis"], "line": row["line"],
            "queue": row["queue"], "skill": row["skill"], "priority": row["priority"],
            "entered_at": _iso(row["entered_at"]), "answered_at": _iso(row["answered_at"]), "ivr": ivr,
            "ivr_flow": path["flow"] if path is not None else None,
            "ivr_outcome": path["outcome"] if path is not None else None, "ivr_path": steps}
