"""The survey store's writes that race or fail half-way (real PostgreSQL, two connections): a
desk result racing the attempt's end, and the served-callback cancel with its events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from helpers import until

from callcenter.surveys.store import SurveyStore

PHONE = "13812345678"


async def waiting_on_a_lock(pool) -> bool:
    return bool(await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'"))


async def _desk_callback(pool, channel: str, agent_id: str) -> int:
    now = datetime.now(UTC)
    job = await pool.fetchval(
        "INSERT INTO survey_jobs (kind, ticket_number, phone, state, attempts, by_agent, created_at, updated_at)"
        " VALUES ('ticket', 'PZH-20261207-000001', $1, 'dialling', 1, true, $2, $2) RETURNING id", PHONE, now)
    await pool.execute(
        "INSERT INTO survey_attempts (job_id, n, channel_id, worker, claimed_at, lease_until, answered_at, agent_id)"
        " VALUES ($1, 1, $2, 'w', $3, $4, $3, $5)", job, channel, now, now + timedelta(minutes=5), agent_id)
    return job


async def test_a_desk_result_racing_the_attempts_end_is_refused_not_lost(pool):
    job = await _desk_callback(pool, "cb-1", "1001")
    store = SurveyStore(pool)
    conn = await pool.acquire()
    try:
        tx = conn.transaction()
        await tx.start()  # the dialler ends the attempt (result_wait_s passed without a result), as finish() does
        await conn.execute("UPDATE survey_attempts SET outcome = 'completed', ended_at = now(), answers = NULL"
                           " WHERE channel_id = 'cb-1' AND outcome IS NULL")
        await conn.execute("UPDATE survey_jobs SET state = 'done', finished_at = now() WHERE id = $1", job)
        entering = asyncio.create_task(store.desk_result("cb-1", "1001", {"rating": "满意", "resolved": True}))
        await until(lambda: waiting_on_a_lock(pool), what="the desk result waits for the attempt")
        await tx.commit()
    finally:
        await pool.release(conn)
    assert await entering == "already_ended"
    assert await pool.fetchval("SELECT answers FROM survey_attempts WHERE channel_id = 'cb-1'") is None


async def test_a_desk_result_while_the_call_runs_is_kept(pool):
    await _desk_callback(pool, "cb-2", "1001")
    store = SurveyStore(pool)
    assert await store.desk_result("cb-2", "1002", {"rating": "满意"}) == "not_found"
    assert await store.desk_result("cb-2", "1001", {"rating": "满意"}) is None
    assert await pool.fetchval("SELECT answers FROM survey_attempts WHERE channel_id = 'cb-2'") == {"rating": "满意"}


async def test_served_callbacks_cancel_with_their_events_or_not_at_all(pool):
    now = datetime.now(UTC)
    await pool.execute("INSERT INTO calls (call_id, caller, entered_at, ended_at, disposition) VALUES"
                       " ('m-1', $1, $2, $2, 'abandoned'), ('m-2', $1, $3, $3, 'answered')",
                       PHONE, now - timedelta(minutes=10), now - timedelta(minutes=1))
    job = await pool.fetchval(
        "INSERT INTO survey_jobs (kind, call_id, phone, state, created_at, updated_at)"
        " VALUES ('missed', 'm-1', $1, 'pending', $2, $2) RETURNING id", PHONE, now)
    store = SurveyStore(pool)
    # a live fault: the outbox refuses this event (as a full disk or a dropped connection would)
    await pool.execute("CREATE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS"
                       " $$BEGIN RAISE EXCEPTION 'outbox unavailable'; END$$")
    await pool.execute("CREATE TRIGGER test_refuse_event BEFORE INSERT ON outbox FOR EACH ROW"
                       " WHEN (NEW.topic LIKE 'surveys/%/cancelled') EXECUTE FUNCTION test_refuse_event()")
    try:
        with pytest.raises(asyncpg.RaiseError):
            await store.cancel_served(now)
    finally:
        await pool.execute("DROP TRIGGER test_refuse_event ON outbox; DROP FUNCTION test_refuse_event()")
    assert await pool.fetchval("SELECT state FROM survey_jobs WHERE id = $1", job) == "pending"
    assert [r["id"] for r in await store.cancel_served(now)] == [job]
    assert await pool.fetchval("SELECT state FROM survey_jobs WHERE id = $1", job) == "cancelled"
    events = await pool.fetch("SELECT payload FROM outbox WHERE topic = $1", f"surveys/{job}/cancelled")
    assert [e["payload"]["call_id"] for e in events] == ["m-1"]
