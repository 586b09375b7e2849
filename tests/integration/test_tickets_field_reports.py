"""Field reports (城管通) and topics (专题问题库) through the API."""

from __future__ import annotations

import pytest
from tickets_support import AGENT, SUPERVISOR, tickets_app

from callcenter.dispatch.router import Router

COLLECTOR = "collector:c07"
SPOT = {"lat": 26.5823, "lon": 101.7186}  # 炳草岗, 东区
NEARBY = {"lat": 26.5825, "lon": 101.7187}  # ~25 m away
PHOTO = {"ref": "s3://field/2026/c07/0001.jpg", "content_type": "image/jpeg", "size_bytes": 123456}


@pytest.fixture
async def api(settings, pool):
    async with tickets_app(settings, pool) as a:
        yield a


def report(**extra):
    return {"field_kind": "component", "description": "井盖破损，有安全隐患", "location": SPOT,
            "district": "东区", "address": "炳草岗大街 12 号", "photo": PHOTO} | extra


async def test_report_verify_dispatch_and_duplicates_are_linked(api, pool):
    status, first = await api.post("/api/field-reports", report(), actor=COLLECTOR)
    assert status == 201, first
    number = first["number"]
    assert (first["status"], first["channel"], first["field_kind"], first["verified_at"]) == (
        "accepted", "field_report", "component", None)
    _, detail = await api.get(f"/api/tickets/{number}", actor=SUPERVISOR)
    assert detail["attachments"][0]["ref"] == PHOTO["ref"]

    status, dup = await api.post("/api/field-reports", report(location=NEARBY, field_kind="event",
                                                              address="炳草岗大街12号附近"), actor="collector:c11")
    assert status == 201
    assert (dup["status"], dup["merged_into"], dup["lead_department"]) == ("closed", number, None)
    assert await api.svc.ivr_status(dup["number"]) == "accepted"  # answers for the ticket it joined

    _, pending = await api.get("/api/field-reports", actor=SUPERVISOR)
    assert [x["number"] for x in pending["items"]] == [number]
    assert pending["items"][0]["duplicate_count"] == 1

    status, err = await api.post(f"/api/tickets/{number}/dispatch", {"lead": "urban_management"},
                                 actor=SUPERVISOR)
    assert status == 409  # 立案 first
    status, verified = await api.post(f"/api/field-reports/{number}/verify", actor=SUPERVISOR)
    assert status == 200, verified
    assert (verified["status"], verified["lead_department"]) == ("dispatched", "urban_management")
    assert verified["assisting_departments"] == ["east_district"] and verified["verified_at"]
    status, _ = await api.post(f"/api/field-reports/{number}/verify", actor=SUPERVISOR)
    assert status == 409
    # one dispatch in total: the duplicate was never dispatched
    assert await pool.fetchval("SELECT count(*) FROM ticket_events WHERE action='dispatch'") == 1
    far = await api.post("/api/field-reports", report(location={"lat": 26.59, "lon": 101.73}, address="金沙江大道"),
                         actor=COLLECTOR)
    assert far[1]["merged_into"] is None


async def test_field_report_validation_and_roles(api, pool):
    status, err = await api.post("/api/field-reports", report(field_kind="rumour"), actor=COLLECTOR)
    assert status == 422 and "field_kind" in err["fields"]
    status, err = await api.post("/api/field-reports", report(location=None), actor=COLLECTOR)
    assert status == 422 and "location" in err["fields"]
    status, _ = await api.post("/api/field-reports", report(), actor=AGENT)
    assert status == 403
    assert await pool.fetchval("SELECT count(*) FROM tickets") == 0


async def test_topics_added_at_run_time_route_and_persist(api, pool, settings):
    topic = {"code": "flood_control", "name": "防汛专题", "department": "water", "keywords": ["内涝", "防汛"]}
    status, err = await api.post("/api/topics", topic, actor=AGENT)
    assert status == 403
    status, made = await api.post("/api/topics", topic, actor="admin:root")
    assert status == 201 and made["department"] == "water"
    status, err = await api.post("/api/topics", topic, actor="admin:root")
    assert status == 409
    status, err = await api.post("/api/topics", topic | {"code": "x_topic", "department": "nowhere"},
                                 actor="admin:root")
    assert status == 422 and "department" in err["fields"]
    _, listed = await api.get("/api/topics")
    assert {t["code"] for t in listed["items"]} == {"epidemic_prevention", "flood_control"}

    tagged = await api.create(kind="help", description="路口积水严重", topics=["flood_control"])
    assert tagged["lead_department"] == "water"
    by_words = await api.create(kind="help", description="下雨后小区内涝严重")
    assert by_words["routing"]["matched_rules"] and "topic:flood_control" in by_words["routing"]["matched_rules"][0]

    restarted = await Router.open(pool)  # another process / after a restart
    assert "flood_control" in restarted.rules.topics and restarted.knows_topic("flood_control")
