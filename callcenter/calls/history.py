"""The call record's reads for the agent desktop (PostgreSQL; translation only): a caller's
previous calls, and what the IVR learnt about one call (the channel variables kept on the call
row and the menu path of ``ivr_paths``). Documents are plain JSON-ready dicts, times ISO 8601."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

_IVR_LABELS = {"IVR_QUEUE": "queue", "IVR_SKILL": "skill", "IVR_PRIORITY": "priority",
               "IVR_DEPARTMENT": "department", "IVR_LINE": "line", "IVR_LANGUAGE": "language", "DNIS": "dnis"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _call_doc(r: asyncpg.Record) -> dict[str, Any]:
    return {"call_id": r["call_id"], "entered_at": _iso(r["entered_at"]), "answered_at": _iso(r["answered_at"]),
            "ended_at": _iso(r["ended_at"]), "queue": r["queue"], "line": r["line"], "dnis": r["dnis"],
            "agent_id": r["agent_id"], "disposition": r["disposition"]}


async def caller_calls(pool: asyncpg.Pool, phone: str, limit: int) -> list[dict[str, Any]]:
    """The calls of a number, newest first. ``phone`` must already be canonical (digits)."""
    rows = await pool.fetch(
        "SELECT call_id, entered_at, answered_at, ended_at, queue, line, dnis, agent_id, disposition"
        " FROM calls WHERE caller = $1 ORDER BY entered_at DESC LIMIT $2", phone, limit)
    return [_call_doc(r) for r in rows]


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
        steps = [{"node": str(s.get("node", "")), "input": s.get("input"), "label": s.get("label")}
                 for s in path["path"] if isinstance(s, dict)]
    return {"call_id": row["call_id"], "caller": row["caller"], "dnis": row["dnis"], "line": row["line"],
            "queue": row["queue"], "skill": row["skill"], "priority": row["priority"],
            "entered_at": _iso(row["entered_at"]), "answered_at": _iso(row["answered_at"]), "ivr": ivr,
            "ivr_flow": path["flow"] if path is not None else None,
            "ivr_outcome": path["outcome"] if path is not None else None, "ivr_path": steps}


async def call_seat(pool: asyncpg.Pool, call_id: str) -> str | None:
    """The seat that answered a call: the call row's, else its last agent leg's."""
    return await pool.fetchval(
        "SELECT coalesce(c.seat_id, (SELECT l.seat_id FROM call_legs l WHERE l.call_id = c.call_id"
        " AND l.seat_id IS NOT NULL ORDER BY l.started_at DESC, l.id DESC LIMIT 1)) FROM calls c WHERE c.call_id = $1",
        call_id)
