"""并单 racing another transaction on the target (real PostgreSQL, two connections): the target
is locked and rechecked inside the merging transaction, both tickets in one order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from helpers import until
from tickets_support import AGENT, tickets_app

from callcenter.tickets.model import Action
from callcenter.tickets.repository import TicketRepository


@pytest.fixture
async def api(settings, pool):
    async with tickets_app(settings, pool) as a:
        yield a


async def waiting_on_a_lock(pool) -> bool:
    return bool(await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'"))


async def test_merge_into_a_ticket_merged_meanwhile_is_refused(api, pool):
    target, source, other = [(await api.create(caller_phone=f"1380000{i:04d}"))["number"] for i in range(3)]
    repo_conn = await pool.acquire()
    try:
        tx = repo_conn.transaction()
        await tx.start()
        repo = TicketRepository(repo_conn, api.svc.config)  # another handler: merges the target elsewhere
        s = await repo.lock(target, None)
        await repo.apply(s, Action.MERGE, AGENT, datetime.now(UTC), data={"merged_into": other})
        merging = asyncio.create_task(api.post(f"/api/tickets/{source}/merge", {"into": target}, actor=AGENT))
        await until(lambda: waiting_on_a_lock(pool), what="the merge waits for the target's lock")
        await tx.commit()
    finally:
        await pool.release(repo_conn)
    status, doc = await merging
    assert status == 422 and "into" in doc["fields"], doc
    row = await pool.fetchrow("SELECT status, merged_into FROM tickets WHERE number = $1", source)
    assert (row["status"], row["merged_into"]) != ("closed", target)
    assert await pool.fetchval("SELECT duplicate_count FROM tickets WHERE number = $1", target) == 0


async def test_merges_lock_both_tickets_in_one_order(api, pool):
    """A handler that locks the lower number first, then the higher, never deadlocks a merge of
    the higher into the lower (which used to lock the source first, the target last)."""
    low, high = sorted([(await api.create(caller_phone=f"1390000{i:04d}"))["number"] for i in range(2)])
    conn = await pool.acquire()
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("SELECT 1 FROM tickets WHERE number = $1 FOR UPDATE", low)
        merging = asyncio.create_task(api.post(f"/api/tickets/{high}/merge", {"into": low}, actor=AGENT))
        await until(lambda: waiting_on_a_lock(pool), what="the merge waits for a lock")
        await conn.execute("SELECT 1 FROM tickets WHERE number = $1 FOR UPDATE", high)  # deadlock, if any, here
        await tx.commit()
    finally:
        await pool.release(conn)
    status, doc = await merging
    assert status == 200, doc
    assert (doc["status"], doc["merged_into"]) == ("closed", low)
    assert await pool.fetchval("SELECT duplicate_count FROM tickets WHERE number = $1", low) == 1


async def test_two_tickets_merged_into_each_other_at_once_one_wins(api, pool):
    a, b = [(await api.create(caller_phone=f"1370000{i:04d}"))["number"] for i in range(2)]
    results = await asyncio.gather(api.post(f"/api/tickets/{a}/merge", {"into": b}, actor=AGENT),
                                   api.post(f"/api/tickets/{b}/merge", {"into": a}, actor=AGENT))
    assert sorted(s for s, _ in results) == [200, 422], results
    merged = await pool.fetch("SELECT number, merged_into FROM tickets WHERE merged_into IS NOT NULL")
    assert len(merged) == 1


async def test_a_duplicate_closed_while_filing_is_not_merged_into(api, pool):
    """The duplicate probe runs before the filing's transaction: the earlier ticket is locked and
    rechecked inside it, and a ticket merged elsewhere meanwhile gets a ticket of its own."""
    phone = "13600001234"
    earlier = (await api.create(caller_phone=phone, category="假冒伪劣"))["number"]
    other = (await api.create())["number"]
    conn = await pool.acquire()
    try:
        tx = conn.transaction()
        await tx.start()
        repo = TicketRepository(conn, api.svc.config)
        s = await repo.lock(earlier, None)
        await repo.apply(s, Action.MERGE, AGENT, datetime.now(UTC), data={"merged_into": other})
        filing = asyncio.create_task(api.post("/api/tickets", {"kind": "complaint", "caller_phone": phone,
                                                                "category": "假冒伪劣",
                                                                "description": "商家卖假冒伪劣商品，要求退货"}))
        await until(lambda: waiting_on_a_lock(pool), what="the filing waits for the earlier ticket's lock")
        await tx.commit()
    finally:
        await pool.release(conn)
    status, doc = await filing
    assert status == 201, doc
    assert doc["merged_into"] is None and doc["status"] != "closed", doc
    assert await pool.fetchval("SELECT duplicate_count FROM tickets WHERE number = $1", earlier) == 0
