"""The outbox writer against PostgreSQL: a change and its events commit together or not at all."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from callcenter.infra import outbox


async def test_change_and_events_are_atomic_ordered_and_notified(pool):
    notified = asyncio.Event()

    def wake(*_args: object) -> None:
        notified.set()

    async with pool.acquire() as listener:
        await listener.add_listener("outbox", wake)
        try:
            await outbox.write(pool, [("calls/c1/started", {"call_id": "c1", "n": 1}),
                                      ("calls/c1/queued", {"call_id": "c1", "n": 2})],
                               changes=["INSERT INTO calls(call_id, caller, dnis) VALUES ($1, $2, $3)"],
                               args=["c1", "13800000001", "12345"])
            await asyncio.wait_for(notified.wait(), 5)
        finally:
            await listener.remove_listener("outbox", wake)
    rows = await pool.fetch("SELECT topic, payload FROM outbox ORDER BY id")
    assert [(r["topic"], r["payload"]["n"]) for r in rows] == [("calls/c1/started", 1), ("calls/c1/queued", 2)]
    assert await pool.fetchval("SELECT count(*) FROM calls WHERE call_id = 'c1'") == 1

    with pytest.raises(asyncpg.UniqueViolationError):  # the change fails: its event is not written
        await outbox.write_with_event(
            pool, ["INSERT INTO calls(call_id, caller, dnis) VALUES ($1, $2, $3)"],
            ["c1", "13800000001", "12345"], "calls/c1/started", {"call_id": "c1"})
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 2


async def test_journal_writes_survive_postgresql_dropping_their_connections(pool, database):
    """Issue 10, defect 6: a PostgreSQL restart dropped a journal write (asyncpg's
    InternalClientError taken for a bad write). Every connection is terminated, repeatedly,
    while the journal writes: none is skipped, and they land in order."""
    from callcenter.acd.journal import Journal

    journal = Journal(retry_first_s=0.01, retry_max_s=0.05)
    journal.start()
    # the test's own connection, outside the pool and spared: the pool's may be dead when used
    admin = await asyncpg.connect(database)
    try:
        for n in range(200):
            journal.write(f"w{n}", lambda n=n: outbox.write(pool, [("faults/journal", {"n": n})]))
            if n % 25 == 0:
                await asyncio.sleep(0)
                await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        await journal.flush()
        await journal.stop()
        assert journal.failures == 0
        rows = await admin.fetch("SELECT payload FROM outbox WHERE topic = 'faults/journal' ORDER BY id")
        assert [json.loads(r["payload"])["n"] for r in rows] == list(range(200))
    finally:
        await admin.close()
