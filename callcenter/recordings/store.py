"""The `recordings` rows (PostgreSQL, asyncpg; translation only, the rules are in model.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from callcenter.recordings.model import Recording, State, Voice

STALE_CLAIM_S = 300  # a controller that claimed a part to store it and died: another takes it after this
# A part whose storing failed for a reason that passes (a full disk, the database away, sox) is
# 'failed' with its attempt's time in claimed_at and is tried again after RETRY_AFTER_S, for
# RETRY_FOR_H hours after it started; a part lost for good (Asterisk has no audio) has no claimed_at.
RETRY_AFTER_S, RETRY_FOR_H = 300, 24
_RETRYABLE = (f"(state='failed' AND claimed_at IS NOT NULL AND claimed_at < now() - make_interval(secs => {RETRY_AFTER_S})"
              f" AND started_at > now() - make_interval(hours => {RETRY_FOR_H}))")


def _row(r: asyncpg.Record) -> Recording:
    return Recording(id=r["id"], call_id=r["call_id"], part=r["part"], caller_leg=r["caller_leg"],
                     agent_leg=r["agent_leg"], state=State(r["state"]), started_at=r["started_at"],
                     agent_id=r["agent_id"], seat_id=r["seat_id"], line=r["line"], ended_at=r["ended_at"],
                     duration_s=r["duration_s"], bytes=r["bytes"], sha256=r["sha256"],
                     storage_key=r["storage_key"], reason=r["reason"], held=r["held"],
                     voices=tuple(Voice.of(v) for v in (r["voices"] or [])))


class RecordingStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def open_part(self, call_id: str, caller_leg: str, agent_leg: str, line: str) -> Recording:
        """The row of the part recording these legs: the one already open (a controller that took
        over asks again), else a new part numbered after the call's last."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('recording ' || $1))", call_id)
            row = await conn.fetchrow("SELECT * FROM recordings WHERE call_id=$1 AND agent_leg=$2", call_id, agent_leg)
            if row is None:
                row = await conn.fetchrow(
                    "INSERT INTO recordings(call_id, part, caller_leg, agent_leg, line) VALUES ($1,"
                    " (SELECT coalesce(max(part), 0) + 1 FROM recordings WHERE call_id=$1), $2, $3, $4) RETURNING *",
                    call_id, caller_leg, agent_leg, line)
            return _row(row)

    async def add_voice(self, rec_id: int, ident: str, *, mode: str, by: str, seat: str) -> Voice | None:
        """Note a supervisor's voice recording on a part still being recorded, its offset from the
        part's start by the database's clock (the part's start is too); None: the part is over."""
        row = await self.pool.fetchrow(
            "UPDATE recordings SET voices = voices || jsonb_build_array(jsonb_build_object('name', $2::text,"
            " 'mode', $3::text, 'by', $4::text, 'seat', $5::text,"
            " 'offset_s', extract(epoch FROM clock_timestamp() - started_at)))"
            " WHERE id=$1 AND state='recording' AND NOT voices @> jsonb_build_array(jsonb_build_object('name', $2::text))"
            " RETURNING voices", rec_id, ident, mode, by, seat)
        if row is None:
            return None
        return next(Voice.of(v) for v in row["voices"] if v["name"] == ident)

    async def open_rows(self) -> list[Recording]:
        """Parts not stored yet (being recorded, or waiting to be stored), oldest first."""
        rows = await self.pool.fetch("SELECT * FROM recordings WHERE state IN ('recording', 'finalizing')"
                                     f" OR {_RETRYABLE} ORDER BY started_at, id")
        return [_row(r) for r in rows]

    async def claim(self, rec_id: int) -> Recording | None:
        """Take a part to store it (None: another controller has it)."""
        row = await self.pool.fetchrow(
            "UPDATE recordings SET state='finalizing', claimed_at=now() WHERE id=$1 AND (state='recording'"
            f" OR (state='finalizing' AND claimed_at < now() - make_interval(secs => $2)) OR {_RETRYABLE})"
            " RETURNING *",
            rec_id, STALE_CLAIM_S)
        return _row(row) if row else None

    async def stored(self, rec_id: int, *, ended_at: datetime, duration_s: float, size: int, sha256: str,
                     key: str, storage: str, fmt: str) -> None:
        await self.pool.execute(
            "UPDATE recordings r SET state='stored', ended_at=$2, duration_s=$3, bytes=$4, sha256=$5,"
            " storage_key=$6, storage=$7, format=$8, claimed_at=NULL, reason=NULL,"
            " seat_id=coalesce(r.seat_id, l.seat_id),"
            " agent_id=coalesce(r.agent_id, (SELECT s.agent_id FROM agent_states s WHERE s.seat_id = l.seat_id"
            "   AND s.reason = 'answer ' || r.call_id AND s.at >= l.started_at ORDER BY s.at LIMIT 1))"
            " FROM (SELECT $1::bigint AS id) k LEFT JOIN call_legs l ON l.channel_id ="
            " (SELECT agent_leg FROM recordings WHERE id=$1) WHERE r.id = k.id",
            rec_id, ended_at, duration_s, size, sha256, key, storage, fmt)

    async def failed(self, rec_id: int, reason: str, *, retry: bool = False) -> None:
        """Mark a part failed; ``retry``: its storing is tried again later (see RETRY_AFTER_S)."""
        await self.pool.execute("UPDATE recordings SET state='failed', reason=$2,"
                                " claimed_at=CASE WHEN $3 THEN now() END, ended_at=coalesce(ended_at, now())"
                                " WHERE id=$1", rec_id, reason[:500], retry)

    async def for_call(self, call_id: str) -> list[Recording]:
        rows = await self.pool.fetch("SELECT * FROM recordings WHERE call_id=$1 ORDER BY part", call_id)
        return [_row(r) for r in rows]

    async def expired(self, before: datetime, after: tuple[datetime, int] | None = None,
                      limit: int = 500) -> list[Recording]:
        """A page of the stored parts started by ``before``, oldest first, after the page that
        ended at ``after`` (its last started_at and id)."""
        start = after or (datetime.min.replace(tzinfo=before.tzinfo), 0)
        rows = await self.pool.fetch("SELECT * FROM recordings WHERE state='stored' AND started_at <= $1"
                                     " AND (started_at, id) > ($2, $3) ORDER BY started_at, id LIMIT $4",
                                     before, start[0], start[1], limit)
        return [_row(r) for r in rows]

    async def hold(self, rec_id: int, why: str) -> bool:
        """Mark a part held; True when it was not held before (worth an audit line)."""
        done = await self.pool.execute("UPDATE recordings SET held=true, reason=$2 WHERE id=$1 AND NOT held",
                                       rec_id, why[:500])
        return done.endswith(" 1")

    async def deleted(self, rec_id: int, reason: str) -> bool:
        """Mark a stored part deleted; False when it was not stored any more (another sweep's)."""
        done = await self.pool.execute("UPDATE recordings SET state='deleted', deleted_at=now(), held=false,"
                                       " reason=$2 WHERE id=$1 AND state='stored'", rec_id, reason[:500])
        return done.endswith(" 1")

    async def counts(self) -> dict[str, int]:
        rows = await self.pool.fetch("SELECT state, count(*) AS n FROM recordings GROUP BY state")
        return {r["state"]: r["n"] for r in rows}

    async def failures_since(self, since: datetime) -> list[dict[str, Any]]:
        rows = await self.pool.fetch("SELECT call_id, part, reason, ended_at FROM recordings WHERE state='failed'"
                                     " AND started_at >= $1 ORDER BY id DESC LIMIT 20", since)
        return [dict(r) for r in rows]


async def call_lengths(pool: asyncpg.Pool, call_id: str, sample: int = 200) -> tuple[float | None, list[float]]:
    """A call's recorded length (its parts added) and the lengths of the recent calls of the same
    agent (the quality checks' "usual"), from the stored rows."""
    row = await pool.fetchrow("SELECT sum(duration_s) AS length, max(agent_id) AS agent_id FROM recordings"
                              " WHERE call_id=$1 AND state IN ('stored', 'deleted')", call_id)
    if row is None or row["length"] is None:
        return None, []
    rows = await pool.fetch("SELECT duration_s FROM recordings WHERE agent_id=$1 AND call_id <> $2 AND state='stored'"
                            " AND duration_s IS NOT NULL ORDER BY started_at DESC LIMIT $3",
                            row["agent_id"], call_id, sample)
    return float(row["length"]), [float(r["duration_s"]) for r in rows]


async def recent_calls(pool: asyncpg.Pool, since: datetime) -> list[dict[str, Any]]:
    """Calls with a stored recording since ``since``: call, agent, start (the QA sample's pool)."""
    rows = await pool.fetch("SELECT call_id, max(agent_id) AS agent_id, min(started_at) AS started_at FROM recordings"
                            " WHERE state='stored' AND started_at >= $1 GROUP BY call_id ORDER BY 3", since)
    return [dict(r) for r in rows]


async def call_agent(pool: asyncpg.Pool, call_id: str) -> str | None:
    """The agent of a recorded call (of its last part)."""
    return await pool.fetchval("SELECT agent_id FROM recordings WHERE call_id=$1 AND agent_id IS NOT NULL"
                               " ORDER BY part DESC LIMIT 1", call_id)
