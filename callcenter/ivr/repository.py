"""PostgreSQL side of the IVR (asyncpg): caller blacklist, IVR paths, abandonment report.

Tables: ``ivr_paths`` (0001) and ``ivr_blacklist`` (0003_ivr.sql). Numbers on the blacklist
are in the canonical form of callcenter/infra/phones.py, as tickets and calls store them, so
``+86 138 1234 5678`` and ``13812345678`` are the same entry, and ``0812-3334444`` is ``08123334444``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from callcenter.infra.masking import mask_phone
from callcenter.infra.phones import canonical_phone

OUTCOMES = ("queue", "transfer", "hangup", "ended", "error", "shutdown")


def normalize_number(number: object) -> str:
    """A blacklisted or calling number in its one canonical form (callcenter/infra/phones.py)."""
    return canonical_phone(number) if isinstance(number, str) else ""


@dataclass(frozen=True)
class BlacklistEntry:
    number: str
    reason: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    hits: int
    last_hit_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> BlacklistEntry:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})

    def as_json(self, now: datetime) -> dict[str, Any]:
        return {
            "number": self.number,
            "number_masked": mask_phone(self.number),  # what the admin page shows
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "active": self.expires_at > now,
            "hits": self.hits,
            "last_hit_at": self.last_hit_at.isoformat() if self.last_hit_at else None,
        }


class IvrRepository:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    # ----------------------------------------------------------------- blacklist

    async def check_blocked(self, caller: str, now: datetime) -> bool:
        """True (and the hit counted) if the caller is on the blacklist and not expired."""
        number = normalize_number(caller)
        if not number:
            return False
        row = await self.pool.fetchrow(
            "UPDATE ivr_blacklist SET hits = hits + 1, last_hit_at = $2"
            " WHERE number = $1 AND expires_at > $2 RETURNING number", number, now)
        return row is not None

    async def list_blacklist(self, now: datetime, include_expired: bool = False) -> list[BlacklistEntry]:
        rows = await self.pool.fetch(
            "SELECT * FROM ivr_blacklist WHERE $1 OR expires_at > $2 ORDER BY created_at DESC, number",
            include_expired, now)
        return [BlacklistEntry.from_row(r) for r in rows]

    async def add_blacklist(self, number: str, *, reason: str, created_by: str, expires_at: datetime,
                            now: datetime) -> BlacklistEntry:
        row = await self.pool.fetchrow(
            "INSERT INTO ivr_blacklist(number, reason, created_by, created_at, expires_at)"
            " VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (number) DO UPDATE SET reason = EXCLUDED.reason,"
            " created_by = EXCLUDED.created_by, created_at = EXCLUDED.created_at,"
            " expires_at = EXCLUDED.expires_at RETURNING *",
            normalize_number(number), reason, created_by, now, expires_at)
        return BlacklistEntry.from_row(row)

    async def remove_blacklist(self, number: str) -> bool:
        row = await self.pool.fetchrow(
            "DELETE FROM ivr_blacklist WHERE number = $1 RETURNING number", normalize_number(number))
        return row is not None

    # ----------------------------------------------------------------- paths

    async def record_path(self, *, call_id: str, flow: str, caller: str, dnis: str,
                          path: list[dict[str, Any]], outcome: str, last_node: str | None,
                          at: datetime) -> None:
        await self.pool.execute(
            "INSERT INTO ivr_paths(call_id, flow, caller, dnis, path, outcome, last_node, at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            call_id, flow, caller, dnis, path, outcome, last_node, at)

    async def recent_paths(self, caller: str, since: datetime) -> int:
        """IVR calls of this number since then that never reached Stasis's calls table."""
        if not caller:
            return 0
        return await self.pool.fetchval(
            "SELECT count(*) FROM ivr_paths WHERE caller = $1 AND at >= $2"
            " AND last_node IS DISTINCT FROM 'blacklist'", caller, since)

    async def paths(self, call_id: str) -> list[asyncpg.Record]:
        return await self.pool.fetch("SELECT * FROM ivr_paths WHERE call_id = $1 ORDER BY id", call_id)

    async def abandonment(self, since: datetime, until: datetime, flow: str | None = None) -> dict[str, Any]:
        """Calls that ended in the IVR (the caller hung up), by flow and last node."""
        total = await self.pool.fetch(
            "SELECT flow, count(*) AS calls, count(*) FILTER (WHERE outcome = 'ended') AS abandoned"
            " FROM ivr_paths WHERE at >= $1 AND at < $2 AND ($3::text IS NULL OR flow = $3)"
            " GROUP BY flow ORDER BY flow", since, until, flow)
        nodes = await self.pool.fetch(
            "SELECT flow, coalesce(last_node, '') AS node, count(*) AS count FROM ivr_paths"
            " WHERE outcome = 'ended' AND at >= $1 AND at < $2 AND ($3::text IS NULL OR flow = $3)"
            " GROUP BY flow, node ORDER BY count DESC, flow, node", since, until, flow)
        calls = {r["flow"]: r["calls"] for r in total}
        return {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "calls": sum(calls.values()),
            "abandoned": sum(r["abandoned"] for r in total),
            "flows": [dict(r) for r in total],
            "by_node": [
                {**dict(r), "share": round(r["count"] / calls[r["flow"]], 4) if calls.get(r["flow"]) else 0.0}
                for r in nodes
            ],
        }
