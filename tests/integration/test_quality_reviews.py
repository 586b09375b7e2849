"""Quality reviews over HTTP with real logins (issue 21): the week's sample holds the call of an
open complaint and a share of each agent's calls; an inspector submits a review (the automatic
findings confirmed or overridden, the manual items scored); it is never edited, a new revision
needs its reason; the call's agent sees the result and appeals once; a supervisor decides."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from accounts_support import Sessions

pytestmark = [pytest.mark.timeout(90)]


def _ogg(path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "2", str(path), "synth", "3", "sine", "440"], check=True)
    return path.stat().st_size


async def _recorded(pool, root, call_id: str, agent: str) -> None:
    started = datetime.now(UTC) - timedelta(hours=2)
    key = f"{started:%Y/%m/%d}/{call_id}-1.ogg"
    size = _ogg(root / key)
    await pool.execute("INSERT INTO calls (call_id, caller, entered_at, agent_id) VALUES ($1, '13800000001', $2, $3)",
                       call_id, started, agent)
    await pool.execute(
        "INSERT INTO recordings (call_id, part, caller_leg, agent_leg, agent_id, seat_id, state, started_at, ended_at,"
        " duration_s, bytes, sha256, format, storage_key) VALUES ($1, 1, $1, $1 || '-a', $2, 'seat01', 'stored',"
        " $3::timestamptz, $3::timestamptz + interval '60 s', 60, $4, repeat('0', 64), 'ogg', $5)",
        call_id, agent, started, size, key)
    for leg, seq, start, end, text in (("agent", 1, 0.5, 2.5, "您好，12345 热线"),
                                       ("citizen", 1, 3.0, 6.0, "你们这个不归我管吗"),
                                       ("agent", 2, 7.0, 9.0, "这个不归我们管")):
        await pool.execute("INSERT INTO transcript_segments(call_id, leg, seq, start_s, end_s, text, status)"
                           " VALUES ($1, $2, $3, $4, $5, $6, 'ok')", call_id, leg, seq, start, end, text)


async def _call(sessions: Sessions, actor: str, method: str, path: str, body=None) -> tuple[int, dict]:
    async with await sessions.client(actor) as http, http.request(method, path, json=body) as r:
        return r.status, await r.json()


async def test_sample_review_revision_appeal_and_decision(stack, settings, pool):
    root = settings.recordings_dir
    for i in range(6):
        await _recorded(pool, root, f"c-q{i}", "1001")
    await _recorded(pool, root, "c-complained", "1002")
    await pool.execute(
        "INSERT INTO tickets (number, kind, channel, status, urgency, description, caller_phone, created_by,"
        " created_at, updated_at, call_ids, lead_department) VALUES ('PZH-Q1', 'complaint', 'call', 'dispatched',"
        " 'normal', '态度差', '', 'test', now(), now(), ARRAY['c-complained'], 'water')")
    s = Sessions(pool, f"http://127.0.0.1:{settings.http_port}")

    status, body = await _call(s, "qa:zhou", "GET", "/api/qa/queue")
    assert status == 200
    queued = {c["call_id"]: c["why"] for c in body["calls"]}
    assert queued["c-complained"] == ["投诉工单"]
    assert len([c for c in queued if c.startswith("c-q")]) == 1  # 5 % of 6 calls: at least one a week
    assert (await _call(s, "agent:1001", "GET", "/api/qa/queue"))[0] == 403

    path = "/api/calls/c-q0/qa-reviews"
    status, body = await _call(s, "qa:zhou", "POST", path, {"marks": {}})
    assert status == 422 and "attitude" in body["message"]  # the items no check decides
    status, body = await _call(s, "qa:zhou", "POST", path, {"marks": {"nonsense": True, "attitude": True}})
    assert status == 422 and "nonsense" in body["message"]
    status, first = await _call(s, "qa:zhou", "POST", path, {"marks": {"attitude": True}, "comment": "用语不规范"})
    assert status == 201, first
    assert first["revision"] == 1 and first["agent_id"] == "1001" and first["fatal_hits"] == ["forbidden"]
    assert first["score"] == 0 and first["passed"] is False  # 服务禁语 "不归我们管": 一票否决
    assert (await _call(s, "supervisor:li", "POST", path, {"marks": {"attitude": True}}))[0] == 403

    # never edited: a new revision, with its reason
    status, body = await _call(s, "qa:zhou", "POST", path, {"marks": {"attitude": True, "forbidden": True}})
    assert status == 409 and "reason" in body["message"]
    status, second = await _call(s, "qa:zhou", "POST", path, {"marks": {"attitude": True, "forbidden": True},
                                                              "reason": "复听：坐席是在转述市民的话"})
    assert status == 201 and second["revision"] == 2 and second["passed"] is True

    # the agent sees it and appeals once; another agent cannot
    status, mine = await _call(s, "agent:1001", "GET", "/api/agents/1001/qa-reviews")
    assert status == 200 and [r["revision"] for r in mine["reviews"]] == [2]
    assert (await _call(s, "agent:1002", "GET", path))[0] == 403
    assert (await _call(s, "agent:1002", "GET", "/api/agents/1001/qa-reviews"))[0] == 403
    status, body = await _call(s, "agent:1002", "POST", "/api/calls/c-q0/qa-appeal", {"reason": "不是我的通话"})
    assert status == 403
    status, appeal = await _call(s, "agent:1001", "POST", "/api/calls/c-q0/qa-appeal", {"reason": "结束语其实说了"})
    assert status == 201 and appeal["review_id"] == second["id"]
    status, body = await _call(s, "agent:1001", "POST", "/api/calls/c-q0/qa-appeal", {"reason": "再申诉一次"})
    assert status == 409 and "once" in body["message"]

    # a supervisor decides, once
    decision = f"/api/qa-appeals/{appeal['id']}/decision"
    assert (await _call(s, "qa:zhou", "POST", decision, {"decision": "upheld"}))[0] == 403
    assert (await _call(s, "supervisor:li", "POST", decision, {"decision": "maybe"}))[0] == 422
    status, decided = await _call(s, "supervisor:li", "POST", decision, {"decision": "upheld", "note": "复核属实"})
    assert status == 200 and decided["decision"] == "upheld" and decided["decided_by"] == "supervisor:li"
    assert (await _call(s, "supervisor:li", "POST", decision, {"decision": "rejected"}))[0] == 409
    status, whole = await _call(s, "qa:zhou", "GET", path)
    assert [r["revision"] for r in whole["reviews"]] == [1, 2] and whole["appeal"]["decision"] == "upheld"
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action='qa_appeal_decided'") == 1
    # the figures: one reviewed call of agent 1001 this week, the latest revision counted
    status, body = await _call(s, "supervisor:li", "GET", "/api/qa/figures?weeks=2")
    mine, = [f for f in body["figures"] if f["agent_id"] == "1001"]
    assert (mine["reviewed"], mine["average"], mine["fatal"], mine["appeals"], mine["upheld"]) == (1, second["score"], 0, 1, 1)
    assert (await _call(s, "supervisor:li", "GET", "/api/qa/figures?weeks=x"))[0] == 422
    # the reviewed call leaves the queue
    status, body = await _call(s, "qa:zhou", "GET", "/api/qa/queue")
    assert "c-q0" not in {c["call_id"] for c in body["calls"]}
