"""Concurrent handlers and retried requests: one winner, no duplicates, nothing half-written."""

from __future__ import annotations

import asyncio

import pytest
from tickets_support import AGENT, SUPERVISOR, counts, dept, tickets_app


@pytest.fixture
async def api(settings, pool):
    async with tickets_app(settings, pool) as a:
        yield a


async def test_two_handlers_acknowledge_at_once_one_wins(api, pool):
    number = (await api.create())["number"]
    results = await asyncio.gather(*(api.post(f"/api/tickets/{number}/acknowledge", actor=dept("market", who))
                                     for who in ("zhang", "wang")))
    assert sorted(status for status, _ in results) == [200, 409]
    loser = next(doc for status, doc in results if status == 409)
    assert loser["error"] in ("illegal_transition", "conflict")
    row = await pool.fetchrow("SELECT status, version FROM tickets WHERE number=$1", number)
    assert (row["status"], row["version"]) == ("acknowledged", 2)
    acks = await pool.fetchval("SELECT count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
                               "WHERE t.number=$1 AND e.action='acknowledge'", number)
    assert acks == 1


async def test_many_concurrent_actions_keep_versions_consistent(api, pool):
    number = (await api.create())["number"]
    await api.act(number, "acknowledge", dept("market"))
    await api.act(number, "start", dept("market"))
    # escalations do not change status, so all of them apply, one after the other
    results = await asyncio.gather(*(api.post(f"/api/tickets/{number}/escalate", {"note": str(i)},
                                              actor=SUPERVISOR) for i in range(6)))
    assert [s for s, _ in results] == [200] * 6
    row = await pool.fetchrow("SELECT escalation_level, version FROM tickets WHERE number=$1", number)
    assert (row["escalation_level"], row["version"]) == (6, 9)
    versions = [r["version"] for r in await pool.fetch(
        "SELECT e.version FROM ticket_events e JOIN tickets t ON t.id=e.ticket_id WHERE t.number=$1 ORDER BY e.id",
        number)]
    assert versions == list(range(10))


async def test_stale_version_is_a_conflict(api):
    t = await api.create()
    await api.act(t["number"], "acknowledge", dept("market"), version=t["version"])
    status, err = await api.post(f"/api/tickets/{t['number']}/start", {"version": t["version"]},
                                 actor=dept("market"))
    assert (status, err["error"]) == (409, "conflict")


async def test_idempotent_create_retries_return_the_same_ticket(api, pool):
    body = {"kind": "help", "description": "家里停水了", "caller_phone": "13800000011"}
    headers = {"Idempotency-Key": "desk-1001-call-abc"}
    first = await api.post("/api/tickets", body, headers=headers)
    again = await api.post("/api/tickets", body, headers=headers)
    assert (first[0], again[0]) == (201, 200)
    assert first[1]["number"] == again[1]["number"] and again[1]["created"] is False
    # concurrent retries with a new key: still one ticket
    racing = await asyncio.gather(*(api.post("/api/tickets", body | {"idempotency_key": "desk-1001-call-xyz"})
                                    for _ in range(5)))
    assert sorted(s for s, _ in racing) == [200, 200, 200, 200, 201]
    assert len({d["number"] for _, d in racing}) == 1
    assert await pool.fetchval("SELECT count(*) FROM tickets") == 2
    assert await pool.fetchval("SELECT count(*) FROM ticket_events WHERE action='created'") == 2
    # same key, different request: refused, nothing written
    before = await counts(pool)
    status, err = await api.post("/api/tickets", body | {"description": "别的事情"}, headers=headers)
    assert (status, err["error"]) == (409, "idempotency_conflict")
    assert await counts(pool) == before


async def test_service_layer_create_ticket_for_the_agent_desktop(api, pool):
    for call in ("c-1", "c-2"):  # the desk's own calls (an agent attaches only those)
        await pool.execute("INSERT INTO calls(call_id, agent_id) VALUES ($1, $2)", call, AGENT.split(":")[1])
    created = await api.svc.create_ticket(actor=AGENT, kind="咨询", description="公积金怎么提取",
                                          call_ids=["c-1", "c-2"], transcript="坐席：您好……市民：我想问公积金提取",
                                          caller_phone="13800000099", idempotency_key="desk-call-c-1")
    assert created.created and created.ticket.lead_department == "housing_fund"
    row = await pool.fetchrow("SELECT call_ids, transcript FROM tickets WHERE number=$1", created.number)
    assert list(row["call_ids"]) == ["c-1", "c-2"] and "公积金" in row["transcript"]
    again = await api.svc.create_ticket(actor=AGENT, kind="咨询", description="公积金怎么提取",
                                        call_ids=["c-1", "c-2"], transcript="坐席：您好……市民：我想问公积金提取",
                                        caller_phone="13800000099", idempotency_key="desk-call-c-1")
    assert not again.created and again.number == created.number


async def test_replays_never_burn_ticket_numbers(api, pool):
    """A desktop that retries (in a row or at once) gets the first ticket back, and the next
    ticket takes the very next number: retries do not consume numbers."""
    body = {"kind": "help", "description": "路灯坏了", "caller_phone": "13800000012"}
    first = await api.post("/api/tickets", body, headers={"Idempotency-Key": "desk-1002-call-1"})
    for _ in range(3):
        again = await api.post("/api/tickets", body, headers={"Idempotency-Key": "desk-1002-call-1"})
        assert again[1]["number"] == first[1]["number"]
    racing = await asyncio.gather(*(api.post("/api/tickets", body | {"idempotency_key": "desk-1002-call-2"})
                                    for _ in range(8)))
    assert sorted(s for s, _ in racing) == [200] * 7 + [201]
    conflict = await api.post("/api/tickets", body | {"description": "别的事"},
                              headers={"Idempotency-Key": "desk-1002-call-1"})
    assert conflict[0] == 409
    after = await api.create()
    seqs = [int(n.rsplit("-", 1)[1]) for n in (first[1]["number"], racing[0][1]["number"], after["number"])]
    assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
    assert await pool.fetchval("SELECT last FROM ticket_day_seq") == seqs[2]
