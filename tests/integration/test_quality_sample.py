"""The inspectors' queue with real rows (issue 21): every call the citizen rated badly after it
(差评, read through the surveys' api), every fatal automatic hit, every complaint, 效能 or
reopened ticket's call, and a share of each agent's others, each saying why; the hall's word
lists (a supervisor edits them, audited, and the checks use them at once); the figures per agent,
team and week with the appeals' outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from accounts_support import Sessions
from quality_support import CLEAN, FORBIDDEN, call, recorded

from callcenter.surveys.store import SurveyStore

pytestmark = [pytest.mark.timeout(90)]


async def _ticket(pool, number: str, call_id: str, kind: str, lead: str, *, assisting=(), reopened: int = 0) -> None:
    await pool.execute(
        "INSERT INTO tickets (number, kind, channel, status, urgency, description, caller_phone, created_by,"
        " created_at, updated_at, call_ids, lead_department, assisting_departments, reopen_count) VALUES"
        " ($1, $2, 'call', 'dispatched', 'normal', '测试', '', 'test', now(), now(), ARRAY[$3], $4, $5, $6)",
        number, kind, call_id, lead, list(assisting), reopened)


async def test_the_queue_says_why_each_call_is_there(stack, settings, pool):
    root = settings.recordings_dir
    for call_id in ("c-bad", "c-good", "c-eff", "c-reopened", "c-plain1", "c-plain2", "c-plain3"):
        await recorded(pool, root, call_id, "1001", CLEAN)
    await recorded(pool, root, "c-fatal", "1002", FORBIDDEN, seat="seat06")
    store = SurveyStore(pool)
    now = datetime.now(UTC)
    await store.record_rating("c-bad", agent_id="1001", seat_id="seat01", team="A", rating="非常不满意", digit="5",
                              at=now)
    await store.record_rating("c-good", agent_id="1001", seat_id="seat01", team="A", rating="满意", digit="2", at=now)
    await _ticket(pool, "PZH-S1", "c-eff", "help", "housing", assisting=("efficiency",))
    await _ticket(pool, "PZH-S2", "c-reopened", "report", "water", reopened=1)
    s = Sessions(pool, f"http://127.0.0.1:{settings.http_port}")

    status, body = await call(s, "qa:zhou", "GET", "/api/qa/queue")
    assert status == 200, body
    why = {c["call_id"]: c["why"] for c in body["calls"]}
    assert why["c-bad"] == ["差评：非常不满意"]
    assert why["c-fatal"] == ["一票否决：服务禁语"]
    assert why["c-eff"] == ["效能工单"] and why["c-reopened"] == ["重办工单"]
    drawn = [c for c, w in why.items() if w == ["抽检 5%"]]
    assert len(drawn) == 1 and drawn[0] in {"c-good", "c-plain1", "c-plain2", "c-plain3"}  # a good rating: no reason

    # the hall's 服务禁语: a supervisor edits the list (audited); a bad list is refused; inspectors read it
    path = "/api/qa/word-lists/forbidden_words"
    assert (await call(s, "qa:zhou", "PUT", path, {"words": ["不归我们管"]}))[0] == 403
    assert (await call(s, "agent:1001", "GET", "/api/qa/word-lists"))[0] == 403
    status, body = await call(s, "supervisor:li", "PUT", path, {"words": ["  ", "，"]})
    assert status == 422 and "word" in body["message"]
    status, body = await call(s, "supervisor:li", "PUT", "/api/qa/word-lists/nonsense", {"words": ["x"]})
    assert status == 422 and "no such word list" in body["message"]
    status, lists = await call(s, "qa:zhou", "GET", "/api/qa/word-lists")
    before = {x["name"]: x for x in lists["lists"]}["forbidden_words"]
    assert status == 200 and not before["edited"] and "不归我们管" in before["words"]
    status, body = await call(s, "supervisor:li", "PUT", path, {"words": ["不知道", "转给住建部门"]})
    assert status == 200 and body["added"] == ["转给住建部门"] and "不归我们管" in body["removed"]
    audit = await pool.fetchrow("SELECT * FROM audit_log WHERE action='qa_word_list_changed'")
    assert audit["actor"] == "li" and audit["target"] == "forbidden_words"
    assert audit["details"]["added"] == ["转给住建部门"]
    status, found = await call(s, "qa:zhou", "GET", "/api/calls/c-plain1/quality")
    forbidden = next(i for i in found["items"] if i["id"] == "forbidden")
    assert forbidden["passed"] is False and forbidden["finding"]["evidence"][0]["line"] == 2
    assert forbidden["finding"]["evidence"][0]["at_s"] == 7.0  # one click on it seeks there
    status, body = await call(s, "qa:zhou", "GET", "/api/qa/queue")
    why = {c["call_id"]: c["why"] for c in body["calls"]}
    assert why["c-plain1"] == ["一票否决：服务禁语"]
    assert why["c-fatal"] == ["抽检 5%"]  # its 不归我们管 is off the list: agent 1002's one call of the draw

    # the figures: per agent, team (the seat's) and week; fatal items; the appeals' outcomes
    for call_id in ("c-bad", "c-fatal"):
        status, doc = await call(s, "qa:zhou", "POST", f"/api/calls/{call_id}/qa-reviews", {"marks": {"attitude": True}})
        assert status == 201, doc
    assert doc["team"] == "B" and doc["fatal_hits"] == []  # c-fatal: 不归我们管 is off the hall's list now
    status, doc = await call(s, "qa:zhou", "POST", "/api/calls/c-eff/qa-reviews", {"marks": {"attitude": False}})
    assert status == 201 and doc["team"] == "A" and doc["fatal_hits"] == ["forbidden"] and doc["score"] == 0
    assert (await call(s, "agent:1001", "POST", "/api/calls/c-eff/qa-appeal", {"reason": "是转述部门名称"}))[0] == 201
    status, figs = await call(s, "supervisor:li", "GET", "/api/qa/figures?weeks=1")
    assert status == 200
    teams = {t["team"]: t for t in figs["teams"]}
    assert (teams["A"]["reviewed"], teams["A"]["fatal"], teams["A"]["appeals"], teams["A"]["pending"]) == (2, 2, 1, 1)
    assert (teams["B"]["reviewed"], teams["B"]["fatal"]) == (1, 0)
    week, = figs["weeks"]
    assert week["reviewed"] == 3 and week["average"] == round((teams["A"]["average"] * 2 + teams["B"]["average"]) / 3, 1)
    assert figs["fatal_items"] == [{"item": "forbidden", "name": "服务禁语", "hits": 2}]  # both team A calls said 转给住建部门
    assert figs["appeals"] == {"filed": 1, "pending": 1, "upheld": 0, "rejected": 0}
