"""Call detail records in PostgreSQL; each write also queues its MQTT event (outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from callcenter.infra.outbox import NOTIFY, encode, insert_sql, write_with_event
from callcenter.infra.phones import canonical_caller


class CallRecords:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def call_started(self, call_id: str, *, caller: str, dnis: str, at: datetime,
                           vars: dict[str, Any] | None = None, line: str | None = None) -> None:
        await write_with_event(self.pool, [
            "INSERT INTO calls(call_id, caller, dnis, line, entered_at, vars) VALUES ($1,$2,$3,$4,$5,$6)"
            " ON CONFLICT (call_id) DO NOTHING"], [call_id, canonical_caller(caller), dnis, line, at, vars or {}],
            f"calls/{call_id}/started", {"call_id": call_id, "dnis": dnis, "line": line, "at": at.isoformat()})

    async def update(self, call_id: str, event: str, *, at: datetime, **fields: Any) -> None:
        """Set columns of the call row and publish `calls/<id>/<event>`."""
        allowed = {"queue", "skill", "priority", "queued_at", "answered_at", "ended_at", "agent_id",
                   "seat_id", "disposition", "queue_seq", "callback_state", "attempts"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"unknown call fields: {sorted(bad)}")
        cols = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(fields))
        topic = f"calls/{call_id}/{event}"
        payload = {"call_id": call_id, "event": event, "at": at.isoformat(),
                   **{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in fields.items()}}
        if "ended_at" in fields:
            # the first end wins: a restart's late verdict (a resync reading the row before the
            # journal's own end landed) changes nothing and publishes nothing
            sql = (f"WITH change0 AS (UPDATE calls SET {cols} WHERE call_id = $1 AND ended_at IS NULL RETURNING 1), "
                   f"event AS ({insert_sql(len(fields) + 2, source='change0')} RETURNING 1) "
                   f"SELECT {NOTIFY} FROM (SELECT 1 FROM event LIMIT 1) AS any_row")
            await self.pool.execute(sql, call_id, *fields.values(), *encode([(topic, payload)]))
            return
        await write_with_event(self.pool, [f"UPDATE calls SET {cols} WHERE call_id = $1"] if fields else [],
                               [call_id, *fields.values()] if fields else [], topic, payload)

    async def leg(self, call_id: str, channel_id: str, kind: str, *, seat_id: str | None = None,
                  at: datetime) -> None:
        await self.pool.execute(
            "INSERT INTO call_legs(call_id, channel_id, kind, seat_id, started_at) VALUES ($1,$2,$3,$4,$5)"
            " ON CONFLICT (channel_id) DO NOTHING", call_id, channel_id, kind, seat_id, at)

    async def leg_update(self, channel_id: str, *, answered_at: datetime | None = None,
                         ended_at: datetime | None = None, cause: str | None = None) -> None:
        await self.pool.execute(
            "UPDATE call_legs SET answered_at = COALESCE($2, answered_at),"
            " ended_at = COALESCE($3, ended_at), cause = COALESCE($4, cause) WHERE channel_id = $1",
            channel_id, answered_at, ended_at, cause)

    async def recent_calls(self, caller: str, since: datetime) -> int:
        return await self.pool.fetchval(
            "SELECT count(*) FROM calls WHERE caller = $1 AND entered_at >= $2", canonical_caller(caller), since)

    async def get(self, call_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow("SELECT * FROM calls WHERE call_id = $1", call_id)


async def bridged_to(db: asyncpg.Pool | asyncpg.Connection, agent_id: str, call_ids: list[str]) -> set[str]:
    """Which of ``call_ids`` were bridged to ``agent_id``: the call record names the agent, or
    (an earlier agent of a requeued call) its state history has the 'answer <call>' change since
    the call entered. Index lookups only (calls' key, agent_states by agent and time)."""
    if not call_ids:
        return set()
    rows = await db.fetch(
        "SELECT c.call_id FROM calls c WHERE c.call_id = ANY($1::text[]) AND (c.agent_id = $2"
        " OR EXISTS (SELECT 1 FROM agent_states s WHERE s.agent_id = $2 AND s.at >= c.entered_at"
        "            AND s.to_state = 'on_call' AND s.reason = 'answer ' || c.call_id))", list(call_ids), agent_id)
    return {r["call_id"] for r in rows}


async def live_calls_of(db: asyncpg.Pool | asyncpg.Connection, agent_id: str) -> frozenset[str]:
    """The call ``agent_id`` is bridged to right now, or wrapping up after (the agent's stored
    state, one key lookup); empty when they are on no call."""
    call_id = await db.fetchval("SELECT call_id FROM agents WHERE agent_id = $1 AND state IN ('on_call', 'wrap_up')",
                                agent_id)
    return frozenset({call_id}) if call_id else frozenset()
