"""The hall's dispatch desk (派单台) over HTTP with real logins, real PostgreSQL and a trained
dispatch model: a ticket the classifier was not sure of waits in the hall with its candidates and
their words (number masked), only the hall may read the queue, a supervisor's dispatch takes it
out and becomes a training example, a second dispatch is a clear 409; a department's 退单 and
派单异议 come back with who returned it and why, and go out again by 改派."""

from __future__ import annotations

import pytest
from dispatch_support import corpus_of
from tickets_support import ADMIN, AGENT, SUPERVISOR, dept, tickets_app

from callcenter.dispatch.incidents import IncidentDetector
from callcenter.dispatch.service import DispatchService

UNITS = {"water", "power", "gas", "housing", "civil_affairs", "education", "market"}
PHONE = "13912345678"
VAGUE = "那个东西坏了好久了没人来修"  # says nothing of what: the classifier is not sure
QUEUE = "/api/hall/queue"


@pytest.fixture
async def desk(settings, pool):
    learned = DispatchService(pool, corpus=corpus_of(UNITS), detector=IncidentDetector(min_count=50))
    await learned.retrain("test")
    async with tickets_app(settings, pool, dispatch=learned) as api:
        yield api


async def queue(api, actor: str = SUPERVISOR) -> dict:
    status, doc = await api.get(QUEUE, actor=actor)
    assert status == 200, doc
    return doc


def numbers(doc: dict) -> list[str]:
    return [t["number"] for t in doc["items"]]


async def test_a_ticket_left_to_the_hall_is_dispatched_from_the_desk_and_teaches_the_model(desk, pool):
    api = desk
    left = await api.create(kind="help", description=VAGUE, caller_phone=PHONE)
    assert left["status"] == "accepted" and left["routing"]["learned"]["decided_by"] == "hall", left["routing"]
    sure = await api.create(kind="complaint", category="假冒伪劣", description="商家卖假冒伪劣商品")
    assert sure["status"] == "dispatched"  # routed by the rules: never on the desk

    for who in (AGENT, dept("market")):
        status, doc = await api.get(QUEUE, actor=who)
        assert status == 403, (who, doc)
    assert left["number"] in numbers(await queue(api, ADMIN))  # the admin may look

    doc = await queue(api)
    assert numbers(doc) == [left["number"]] and doc["total"] == 1
    (item,) = doc["items"]
    stored = left["routing"]["learned"]["candidates"]
    assert (item["why"], item["why_label"], item["action"], item["status"]) == (
        "unsure", "模型不确定", "dispatch", "accepted")
    assert [c["department"] for c in item["candidates"]] == [c["department"] for c in stored]
    assert item["candidates"][0]["words"] == stored[0]["words"] and item["candidates"][0]["words"]
    assert item["candidates"][0]["probability"] == pytest.approx(stored[0]["probability"])
    assert item["caller_phone"] == "139****5678" and PHONE not in str(doc)
    assert item["description"] == VAGUE and item["excerpt"] == VAGUE and item["waiting_s"] >= 0

    lead = item["candidates"][0]["department"]
    status, done = await api.post(f"/api/tickets/{left['number']}/dispatch",
                                  {"lead": lead, "version": item["version"], "note": "派单台"}, actor=SUPERVISOR)
    assert status == 200, done
    assert (done["status"], done["lead_department"]) == ("dispatched", lead)
    assert numbers(await queue(api)) == []
    example = await pool.fetchrow("SELECT department, source, created_by FROM dispatch_examples"
                                  " WHERE ticket_number = $1", left["number"])
    assert tuple(example) == (lead, "human_dispatch", SUPERVISOR)
    audit = await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'ticket_dispatched' AND target = $1",
                                f"/api/tickets/{left['number']}/dispatch")
    assert audit == 1

    # a second dispatcher with the same view of it: the version they saw is gone
    status, again = await api.post(f"/api/tickets/{left['number']}/dispatch",
                                   {"lead": "housing", "version": item["version"]}, actor=SUPERVISOR)
    assert status == 409 and again["error"] == "conflict" and left["number"] in again["message"]
    # without a version: not in the hall any more
    status, again = await api.post(f"/api/tickets/{left['number']}/dispatch", {"lead": "housing"}, actor=SUPERVISOR)
    assert status == 409 and again["error"] == "illegal_transition" and "'dispatched'" in again["message"]
    row = await pool.fetchrow("SELECT status, lead_department FROM tickets WHERE number = $1", left["number"])
    assert tuple(row) == ("dispatched", lead)  # the first decision stands


async def test_a_return_and_an_objection_wait_with_the_departments_reason_and_go_out_by_redispatch(desk, pool):
    api = desk
    back = await api.create(kind="complaint", category="假冒伪劣", description="商家卖假冒伪劣商品，要求退货")
    objected = await api.create(kind="complaint", category="假冒伪劣", description="超市卖过期食品")
    await api.act(back["number"], "return", dept("market"), reason="不属于本部门职责")
    await api.act(objected["number"], "object", dept("market"), reason="应由住建局办理", suggested="housing")

    doc = await queue(api)
    by = {t["number"]: t for t in doc["items"]}
    assert set(by) == {back["number"], objected["number"]}
    assert (by[back["number"]]["why_label"], by[back["number"]]["reason"], by[back["number"]]["returned_by"]) == (
        "退单", "不属于本部门职责", "market")
    o = by[objected["number"]]
    assert (o["why_label"], o["reason"], o["returned_by"], o["suggested"], o["action"]) == (
        "派单异议", "应由住建局办理", "market", "housing", "redispatch")

    status, done = await api.post(f"/api/tickets/{objected['number']}/redispatch",
                                  {"lead": "housing", "version": o["version"]}, actor=SUPERVISOR)
    assert status == 200 and done["lead_department"] == "housing", done
    assert numbers(await queue(api)) == [back["number"]]
    source = await pool.fetchval("SELECT source FROM dispatch_examples WHERE ticket_number = $1",
                                 objected["number"])
    assert source == "objection"
