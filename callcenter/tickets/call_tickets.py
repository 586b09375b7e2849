"""The tickets filed from given calls, as the facts another feature may ask about them (the
recordings' legal hold and who may hear a call): number, kind, open or not, reopens, lead and
assisting departments, category. PostgreSQL; translation only; one index lookup per call."""

from __future__ import annotations

from typing import Any

import asyncpg

from callcenter.tickets.model import OPEN_STATUSES


async def tickets_of_calls(pool: asyncpg.Pool, call_ids: list[str]) -> list[dict[str, Any]]:
    """One entry per (call, ticket of that call); none when the tickets tables are not installed."""
    if not call_ids:
        return []
    try:
        rows = await pool.fetch(
            "SELECT c.call_id, t.number, t.kind, t.status, t.reopen_count, t.lead_department, t.category,"
            " t.assisting_departments FROM unnest($1::text[]) AS c(call_id)"
            " JOIN tickets t ON t.call_ids @> ARRAY[c.call_id]", list(call_ids))
    except asyncpg.UndefinedTableError:  # the tickets feature is not installed
        return []
    open_values = {s.value for s in OPEN_STATUSES}
    return [{"call_id": r["call_id"], "number": r["number"], "kind": r["kind"], "open": r["status"] in open_values,
             "reopen_count": r["reopen_count"] or 0, "lead_department": r["lead_department"],
             "category": r["category"], "assisting": tuple(r["assisting_departments"] or ())} for r in rows]
