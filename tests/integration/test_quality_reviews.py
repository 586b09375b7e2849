"""Quality reviews over HTTP with real logins (issue 21): the week's sample holds the call of an
open complaint and a share of each agent's calls; an inspector submits a review (the automatic
findings confirmed or overridden, the manual items scored); it is never edited, a new revision
needs its reason; the call's agent sees the result and appeals once; a supervisor decides."""

from __future__ import annotations

import pytest
from accounts_support import Sessions
from quality_support import CLEAN, recorded
from quality_support import call as _call

pytestmark = [pytest.mark.timeout(90)]


async def test_sample_review_revision_appeal_and_decision(stack, settings, pool):
    root = settings.recordings_dir
    await recorded(pool, root, "c-q0", "1001")  # said 不归我们管: a fatal automatic hit
    for i in range(1, 6):
        await recorded(pool, root, f"c-q{i}", "1001", CLEAN)
    await recorded(pool, root, "c-complained", "1002", CLEAN)
    await pool.execute(
        "INSERT INTO tickets (number, kind, channel, status, urgency, description, caller_phone, created_by,"
        " created_at, updated_at, call_ids, lead_department) VALUES ('PZH-Q1', 'complaint', 'call', 'dispatched',"
        " 'normal', '态度差', '', 'test', now(), now(), ARRAY['c-complained'], 'water')")
    s = Sessions(pool, f"http://127.0.0.1:{settings.http_port}")

    status, body = await _call(s, "qa:zhou", "GET", "/api/qa/queue")
    assert status == 200
    queued = {c["call_id"]: c["why"] for c in body["calls"]}
    assert queued["c-complained"] == ["投诉工单"]
    assert queued["c-q0"] == ["一票否决：服务禁语"]
    assert len([c for c in queued if c.startswith("c-q") and c != "c-q0"]) == 1  # 5 % of 5 calls: one a week
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

    # while the appeal waits, the review stands as appealed: no revision under the supervisor's feet
    status, body = await _call(s, "qa:zhou", "POST", path, {"marks": {"attitude": False, "forbidden": True},
                                                            "reason": "再听一遍，态度一般"})
    assert status == 409 and "appeal" in body["message"], body

    # a supervisor decides, once
    decision = f"/api/qa-appeals/{appeal['id']}/decision"
    for bad in ("%C2%B2", "1" * 19):  # a superscript digit, a number past the ids
        assert (await _call(s, "supervisor:li", "POST", f"/api/qa-appeals/{bad}/decision",
                            {"decision": "upheld"}))[0] == 422
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
    assert (await _call(s, "supervisor:li", "GET", "/api/qa/figures?weeks=%C2%B2"))[0] == 422
    # the reviewed call leaves the queue
    status, body = await _call(s, "qa:zhou", "GET", "/api/qa/queue")
    assert "c-q0" not in {c["call_id"] for c in body["calls"]}
