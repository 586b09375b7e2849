"""The desk's routes of agent-driven ticket callbacks under attack, with real logins on the
stack: an agent reads and answers only their own callbacks, the citizen's number is masked in
the list, and a result body of the wrong types (a string for the yes/no, ``true`` for the
satisfaction digit), out of range, too long, with a NUL or an unknown field gets a 4xx JSON
error and stores nothing: a coerced ``"no"``/``true`` would have stored "very dissatisfied"
and reopened the ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(60)]
PHONE = "13812345678"


async def _callback(pool, number: str, agent_id: str, channel: str) -> None:
    now = datetime.now(UTC)
    job = await pool.fetchval(
        "INSERT INTO survey_jobs (kind, ticket_number, phone, state, attempts, by_agent, created_at, updated_at)"
        " VALUES ('ticket', $1, $2, 'dialling', 1, true, $3, $3) RETURNING id", number, PHONE, now)
    await pool.execute(
        "INSERT INTO survey_attempts (job_id, n, channel_id, worker, claimed_at, lease_until, answered_at, agent_id)"
        " VALUES ($1, 1, $2, 'w', $3, $4, $3, $5)", job, channel, now, now + timedelta(minutes=5), agent_id)


async def test_desk_callbacks_are_the_agents_own_masked_and_validated(stack, logins, pool):
    async with await logins.client("supervisor:li") as hall, hall.post("/api/tickets", json={
            "kind": "complaint", "description": "噪音扰民，要求处理", "caller_phone": PHONE,
            "auto_dispatch": False}) as r:
        assert r.status == 201, await r.text()
        number = (await r.json())["number"]
    await _callback(pool, number, "1001", "cb-1001")
    mine, other = await logins.client("agent:1001"), await logins.client("agent:1002")
    async with mine, other:
        async with mine.get("/api/agents/1001/callbacks") as r:
            text = await r.text()
            assert r.status == 200 and PHONE not in text, text
            [cb] = (await r.json())["callbacks"]
        assert (cb["callback_id"], cb["caller_masked"], cb["result_open"]) == ("cb-1001", "138****5678", True)
        async with other.get("/api/agents/1001/callbacks") as r:
            assert r.status == 403 and (await r.json())["error"] == "forbidden"
        async with other.get("/api/agents/1002/callbacks") as r:
            assert r.status == 200 and (await r.json())["callbacks"] == []
        good = {"resolved": True, "satisfaction": 1}
        async with other.post("/api/agents/1001/callbacks/cb-1001/result", json=good) as r:
            assert r.status == 403
        async with other.post("/api/agents/1002/callbacks/cb-1001/result", json=good) as r:
            assert r.status == 404 and (await r.json())["error"] == "not_found"

        url = "/api/agents/1001/callbacks/cb-1001/result"
        for body in ({"resolved": "no", "satisfaction": 1}, {"resolved": 0, "satisfaction": 5},
                     {"resolved": True, "satisfaction": True}, {"resolved": True, "satisfaction": "5"},
                     {"resolved": True, "satisfaction": 4.0}, {"resolved": True, "satisfaction": 0},
                     {"resolved": True, "satisfaction": 6}, {"resolved": True, "satisfaction": 10},
                     {"resolved": True}, {"resolved": True, "satisfaction": 5, "comment": "好" * 1001},
                     {"resolved": True, "satisfaction": 5, "comment": "好\u0000"},
                     {"resolved": True, "satisfaction": 5, "comment": ["好"]},
                     {"resolved": True, "satisfaction": 5, "by_agent": "1003"}, [good], "good"):
            async with mine.post(url, json=body) as r:
                err = await r.json()
                assert r.status in (400, 422) and err["error"] in ("invalid", "bad_json"), (body, r.status, err)
        assert await pool.fetchval("SELECT answers FROM survey_attempts WHERE channel_id = 'cb-1001'") is None

        async with mine.post(url, json=good) as r:
            assert r.status == 201, await r.text()
        async with mine.post(url, json={"resolved": False, "satisfaction": 2, "comment": "还没修好"}) as r:
            assert r.status == 201, await r.text()  # corrected while the call is still on
    answers = await pool.fetchval("SELECT answers FROM survey_attempts WHERE channel_id = 'cb-1001'")
    assert (answers["resolved"], answers["digit"], answers["by_agent"]) == (False, "2", "1001")
