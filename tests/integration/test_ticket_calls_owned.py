"""A ticket's ``call_ids`` decide which department reads a call's transcript and which stored
dialogue the ticket carries, so an agent attaches only calls that were bridged to them (the call
record names them, or their state history says they answered it before a requeue); supervisors
attach any. Real logins against the tickets app; the calls are rows in PostgreSQL."""

from __future__ import annotations

import pytest
from tickets_support import SUPERVISOR, counts, tickets_app

BODY = {"kind": "enquiry", "description": "市民来电咨询公积金", "channel": "call"}


@pytest.fixture
async def api(settings, pool):
    async with tickets_app(settings, pool) as client:
        yield client


async def _call(pool, call_id: str, agent_id: str | None) -> None:
    await pool.execute("INSERT INTO calls(call_id, caller, dnis, agent_id) VALUES ($1, '13812345678', '12345', $2)",
                       call_id, agent_id)


async def test_an_agent_attaches_only_calls_bridged_to_them(api, pool):
    await _call(pool, "c-of-1001", "1001")
    await _call(pool, "c-requeued", "1003")
    await pool.execute("INSERT INTO agent_states(agent_id, seat_id, from_state, to_state, reason, at)"
                       " VALUES ('1002', 'seat02', 'ringing', 'on_call', 'answer c-requeued', now())")
    before = await counts(pool)
    for ids in (["c-of-1001"], ["c-requeued", "c-of-1001"], ["c-nowhere"]):
        status, err = await api.post("/api/tickets", BODY | {"call_ids": ids}, actor="agent:1002")
        assert status == 403 and err["error"] == "forbidden", err
        assert "c-of-1001" in err["message"] or "c-nowhere" in err["message"]
    assert await counts(pool) == before  # nothing written

    mine = await api.post("/api/tickets", BODY | {"call_ids": ["c-requeued"], "auto_dispatch": False},
                          actor="agent:1002")
    assert mine[0] == 201, mine
    assert (await api.post("/api/tickets", BODY | {"call_ids": ["c-of-1001"]}, actor="agent:1001"))[0] == 201
    assert (await api.post("/api/tickets", BODY | {"call_ids": ["c-of-1001", "c-nowhere"]}, actor=SUPERVISOR))[0] == 201

    # the same rule when calls are added to a ticket still in the hall
    number = mine[1]["number"]
    status, err = await api.call("PATCH", f"/api/tickets/{number}", {"add_call_ids": ["c-of-1001"]},
                                 actor="agent:1002")
    assert status == 403 and err["error"] == "forbidden", err
    assert await pool.fetchval("SELECT call_ids FROM tickets WHERE number = $1", number) == ["c-requeued"]
    status, _ = await api.call("PATCH", f"/api/tickets/{number}", {"add_call_ids": ["c-of-1001"]}, actor=SUPERVISOR)
    assert status == 200
    assert await pool.fetchval("SELECT call_ids FROM tickets WHERE number = $1", number) == ["c-requeued", "c-of-1001"]
