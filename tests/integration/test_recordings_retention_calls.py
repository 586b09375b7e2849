"""Retention on real recordings (issue 21): three sandbox calls recorded by Asterisk and stored by
the running controller; once past the retention period the app's own sweeper deletes the file of
the call nobody complained about and marks its row, keeps the ones a ticket of the call holds (an
open complaint, an open 效能 case), audits each deletion and hold, and deletes a held one once its
ticket is no longer open. (The rules on crafted rows: test_recordings_access.py.)"""

from __future__ import annotations

import asyncio

import pytest
from acd_support import Phone
from helpers import until
from recording_support import start_stack, stored
from surveys_support import ticket_service

from callcenter.app import PLUGINS

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(150)]


@pytest.fixture
async def recording_app(settings, database, asterisk, pool, live, tmp_path):
    app, runner = await start_stack(settings, recordings_dir=tmp_path / "recordings", wrap_up_s=0,
                                    recording_retention_days=180)
    yield app
    await runner.cleanup()


async def _recorded_call(phone: Phone, pool, caller: str) -> dict:
    call = await phone.call(caller=caller, tone="1000", wait_before=0.2)
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    recorder = phone.app[PLUGINS].recordings.service.get()
    await until(lambda: call in recorder.parts, what="recording")
    await asyncio.sleep(1.5)
    await phone.hangup(call)
    row, = await stored(pool, call)
    assert row["state"] == "stored", row["reason"]
    await until(lambda: phone.agent("1001").state.value == "available", what="the agent free")
    return dict(row)


async def test_the_sweeper_deletes_an_expired_recording_and_keeps_those_under_legal_hold(recording_app, pool,
                                                                                          tmp_path):
    phone = Phone(recording_app)
    await phone.login("1001", "seat01")
    await phone.agent_mode("seat01", tone="440")
    plain = await _recorded_call(phone, pool, "13800000061")
    complained = await _recorded_call(phone, pool, "13800000062")
    efficiency = await _recorded_call(phone, pool, "13800000063")
    svc = ticket_service(recording_app)
    complaint = (await svc.create_ticket(actor="agent:1001", kind="complaint", description="商家卖假冒伪劣商品，要求退货",
                                         caller_phone="13800000062", lead="market",
                                         call_ids=[complained["call_id"]])).number
    await svc.create_ticket(actor="agent:1001", kind="report", description="几个部门互相推诿扯皮，我的事情拖了半年没人管",
                            caller_phone="13800000063", lead="efficiency", call_ids=[efficiency["call_id"]])
    root = tmp_path / "recordings"
    files = {r["call_id"]: root / r["storage_key"] for r in (plain, complained, efficiency)}
    assert all(f.is_file() for f in files.values())

    retention = recording_app[PLUGINS].recordings.retention.get()
    assert await retention.run_once() == {"deleted": 0, "held": 0}  # nothing old enough yet
    # the three recordings are now 200 days old
    await pool.execute("UPDATE recordings SET started_at = started_at - interval '200 days'")
    assert await retention.run_once() == {"deleted": 1, "held": 2}

    assert not files[plain["call_id"]].exists(), "the expired file is gone"
    assert files[complained["call_id"]].is_file() and files[efficiency["call_id"]].is_file()
    rows = {r["call_id"]: r for r in await pool.fetch("SELECT * FROM recordings")}
    gone = rows[plain["call_id"]]
    assert (gone["state"], gone["reason"]) == ("deleted", "retention 180 days") and gone["deleted_at"]
    assert (rows[complained["call_id"]]["state"], rows[complained["call_id"]]["held"]) == ("stored", True)
    assert rows[complained["call_id"]]["reason"] == f"open complaint {complaint}"
    assert rows[efficiency["call_id"]]["held"] and rows[efficiency["call_id"]]["reason"].startswith("open 效能 case")
    audit = {(r["action"], r["target"]): r for r in await pool.fetch(
        "SELECT * FROM audit_log WHERE action LIKE 'recording_%'")}
    deleted = audit[("recording_deleted", plain["call_id"])]
    assert deleted["actor"] == "system:recording-retention"
    assert deleted["details"]["key"] == plain["storage_key"] and deleted["details"]["reason"] == "retention 180 days"
    assert ("recording_held", complained["call_id"]) in audit and ("recording_held", efficiency["call_id"]) in audit

    # the complaint is handled (办结): no longer open, its call's recording goes at the next sweep
    await svc.act(complaint, "acknowledge", actor="dept:market:zhang")
    await svc.act(complaint, "resolve", actor="dept:market:zhang", reply="已责令商家退货")
    assert await retention.run_once() == {"deleted": 1, "held": 1}
    assert not files[complained["call_id"]].exists() and files[efficiency["call_id"]].is_file()
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'recording_deleted'") == 2
