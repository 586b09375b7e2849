"""Agent-driven callbacks on the sandbox: the dialler asks the ACD, which reserves an agent
first (its phone rings and answers), then dials the citizen and bridges them; the job is
recorded as reached. A ticket flagged for a person is called back the same way and the agent
enters the result on the desk (only for their own callback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from acd_support import Phone
from helpers import until
from surveys_support import citizen, job_state, resolved_ticket, survey_config, surveys_on, ticket_service

from callcenter.acd.board.ratings import missed_callbacks
from callcenter.app import STATE

pytestmark = pytest.mark.asterisk


async def _tick_until(s, check):
    await s.dialler.tick()
    return await check()


async def test_a_missed_caller_is_called_back_through_an_agent(stack, pool):
    phone = Phone(stack)
    call_id = await phone.call(caller="13900000031", hold_for=2)  # no agent yet: gives up after 2 s
    await until(lambda: pool.fetchval("SELECT disposition = 'abandoned' FROM calls WHERE call_id = $1", call_id),
                timeout=20, what="abandoned")
    await phone.login("1001", "seat01")  # a simulated agent, answers after 0.2 s
    await citizen(stack, "13900000031", hold=1)  # answers, talks ~2 s, hangs up
    s = await surveys_on(stack, survey_config(agent_callbacks=True), acd=True)
    try:
        job = await until(lambda: _tick_until(s, lambda: pool.fetchrow(
            "SELECT * FROM survey_jobs WHERE call_id = $1 AND state = 'done'", call_id)),
            timeout=30, what="missed call reached through an agent")
    finally:
        s.unsubscribe()
        s.calls.close()
    assert (job["kind"], job["by_agent"], job["attempts"]) == ("missed", True, 1)
    [attempt] = await pool.fetch("SELECT * FROM survey_attempts WHERE job_id = $1", job["id"])
    assert (attempt["outcome"], attempt["agent_id"]) == ("completed", "1001")
    # the ACD's record of the callback: the agent's leg answered before the citizen was connected
    cb = await pool.fetchrow("SELECT * FROM calls WHERE call_id = $1", attempt["channel_id"])
    assert (cb["line"], cb["queue"], cb["caller"], cb["disposition"]) == ("outbound", None, "13900000031", "answered")
    [agent_leg] = await pool.fetch("SELECT * FROM call_legs WHERE call_id = $1", attempt["channel_id"])
    assert agent_leg["seat_id"] == "seat01" and agent_leg["started_at"] <= cb["answered_at"]
    # the board's 漏话回拨率 counts it: reached ÷ eligible
    assert await _rate(s) == {"rate": 1.0, "eligible": 1, "reached": 1, "already_served": 0}


async def _rate(s) -> dict:
    now = datetime.now(UTC)
    doc = missed_callbacks(await s.store.records(now - timedelta(hours=1), now + timedelta(hours=1)),
                           s.config.scale_(), "today")
    return {k: v for k, v in doc.items() if k != "day"}


async def test_a_busy_citizen_is_recorded_busy_and_counts_as_not_reached(stack, pool):
    """Issue 13: the ACD's report carried no cause, so a busy citizen was recorded as no_answer."""
    phone = Phone(stack)
    call_id = await phone.call(caller="13900000033", hold_for=2)
    await until(lambda: pool.fetchval("SELECT disposition = 'abandoned' FROM calls WHERE call_id = $1", call_id),
                timeout=20, what="abandoned")
    await phone.login("1001", "seat01")
    await citizen(stack, "13900000033", mode="busy")
    s = await surveys_on(stack, survey_config(agent_callbacks=True, missed_max_attempts=1), acd=True)
    try:
        job = await until(lambda: _tick_until(s, lambda: pool.fetchrow(
            "SELECT * FROM survey_jobs WHERE call_id = $1 AND state = 'closed'", call_id)),
            timeout=30, what="the busy caller given up")
        assert await _rate(s) == {"rate": 0.0, "eligible": 1, "reached": 0, "already_served": 0}
    finally:
        s.unsubscribe()
        s.calls.close()
    assert (job["by_agent"], job["reason"]) == (True, "无法联系")
    [attempt] = await pool.fetch("SELECT * FROM survey_attempts WHERE job_id = $1", job["id"])
    assert attempt["outcome"] == "busy"
    # the ACD's journal writes the call's end on its own, maybe just after the report closed the job
    await until(lambda: pool.fetchval("SELECT disposition = 'callback_failed' FROM calls WHERE call_id = $1",
                                      attempt["channel_id"]), what="the callback's call recorded as failed")


async def test_an_agent_who_hangs_up_while_the_citizen_rings_leaves_the_callback_to_retry(stack, pool):
    """Defect: the agent hung up while the citizen's phone still rang; the callback was recorded
    answered, with no agent. The citizen's leg is hung up, the ACD's record says not reached, and
    the dialler ends the attempt as `agent_gone` and schedules the next one."""
    phone = Phone(stack)
    call_id = await phone.call(caller="13900000035", hold_for=2)
    await until(lambda: pool.fetchval("SELECT disposition = 'abandoned' FROM calls WHERE call_id = $1", call_id),
                timeout=20, what="abandoned")
    await phone.login("1001", "seat01", talk=2)  # answers the callback, hangs up 2 s later
    await citizen(stack, "13900000035", mode="noanswer")  # rings on
    s = await surveys_on(stack, survey_config(agent_callbacks=True, missed_retry_minutes=5), acd=True)
    try:
        attempt = await until(lambda: _tick_until(s, lambda: pool.fetchrow(
            "SELECT a.* FROM survey_attempts a JOIN survey_jobs j ON j.id = a.job_id"
            " WHERE j.call_id = $1 AND a.outcome IS NOT NULL", call_id)),
            timeout=30, what="the attempt ended")
        assert (await _rate(s))["reached"] == 0  # (not eligible yet: the job is still open)
    finally:
        s.unsubscribe()
        s.calls.close()
    assert (attempt["outcome"], attempt["answered_at"], attempt["agent_id"]) == ("agent_gone", None, None)
    job = await pool.fetchrow("SELECT * FROM survey_jobs WHERE id = $1", attempt["job_id"])
    assert (job["state"], job["attempts"]) == ("pending", 1)  # retried, not lost
    cb = await pool.fetchrow("SELECT * FROM calls WHERE call_id = $1", attempt["channel_id"])
    assert (cb["disposition"], cb["answered_at"], cb["agent_id"]) == ("callback_failed", None, None)
    ari = stack[STATE]["ari"]  # the citizen's phone stopped ringing: none of the callback's legs is left
    await until(lambda: _no_leg_of(ari, attempt["channel_id"]), timeout=10, what="the citizen's leg hung up")


async def _no_leg_of(ari, call_id: str) -> bool:
    return not [c for c in await ari.get("/channels") if c["id"].endswith(call_id)]


async def test_complaints_and_rehandled_tickets_are_scheduled_for_a_person(stack, pool, logins):
    """The policy's person rules (on by default: 投诉, and tickets re-handled once), and a flag
    set after the callback was scheduled moves it to an agent."""
    svc = ticket_service(stack)
    s = await surveys_on(stack, survey_config(person_kinds="complaint", person_after_reopens=1))
    try:
        complaint = await resolved_ticket(stack, "13800000041")
        report = await _resolved(svc, "13800000042")
        rehandled = await _resolved(svc, "13800000043")
        await svc.record_survey(rehandled, "不满意", "system:survey")  # 重办: back to its department
        await svc.act(rehandled, "acknowledge", actor="dept:market:zhang")
        await svc.act(rehandled, "resolve", actor="dept:market:zhang", reply="已再次处理")
        await s.dialler.scheduler.run(datetime.now(UTC))
        jobs = {r["ticket_number"]: r for r in await pool.fetch("SELECT * FROM survey_jobs WHERE kind = 'ticket'"
                                                                 " AND state = 'pending'")}
        assert {n: (j["by_agent"], j["round"]) for n, j in jobs.items()} == {
            complaint: (True, 0), report: (False, 0), rehandled: (True, 1)}
        # the desk flags the report later (the citizen asked for a person): its pending job follows
        async with await logins.client("agent:1001") as http:
            async with http.post("/api/surveys/person-callbacks", json={"ticket": report, "reason": "市民要求"}) as resp:
                assert resp.status == 201, await resp.text()
            async with http.post("/api/surveys/person-callbacks", json={"ticket": "PZH-NONE"}) as resp:
                assert resp.status == 404
        assert await pool.fetchval("SELECT by_agent FROM survey_jobs WHERE ticket_number = $1", report)
        assert await pool.fetchval("SELECT created_by FROM survey_person_tickets WHERE ticket_number = $1",
                                   report) == "agent:1001"
    finally:
        s.calls.close()


async def _resolved(svc, phone: str) -> str:
    create = getattr(svc, "intake", svc).create_ticket
    number = (await create(actor="agent:1001", kind="report", description="有人在小区内违规经营", caller_phone=phone,
                           lead="market")).number
    await svc.act(number, "acknowledge", actor="dept:market:zhang")
    await svc.act(number, "resolve", actor="dept:market:zhang", reply="已查处")
    return number


async def test_a_ticket_flagged_for_a_person_gets_the_agents_result(stack, pool, logins):
    phone = Phone(stack)
    await phone.login("1001", "seat01")
    number = await resolved_ticket(stack, "13800000032")
    await citizen(stack, "13800000032", hold=1)
    s = await surveys_on(stack, survey_config(), acd=True)
    try:
        assert await s.store.flag_for_person(number, "投诉人要求人工回访", "supervisor:li")
        job = await until(lambda: _tick_until(s, lambda: pool.fetchrow(
            "SELECT j.*, a.channel_id FROM survey_jobs j JOIN survey_attempts a ON a.job_id = j.id"
            " WHERE j.ticket_number = $1 AND a.agent_id = '1001'", number)),
            timeout=30, what="the person callback connected")
        assert job["by_agent"]
        other = await logins.client("agent:1002")
        mine = await logins.client("agent:1001")
        async with other, mine:
            url = f"/api/agents/1002/callbacks/{job['channel_id']}/result"
            async with other.post(url, json={"resolved": True, "satisfaction": 1}) as resp:
                assert resp.status == 404  # not theirs
            async with mine.get("/api/agents/1001/callbacks") as resp:
                [desk] = (await resp.json())["callbacks"]
            assert desk["ticket_number"] == number and desk["caller_masked"] != "13800000032"
            url = f"/api/agents/1001/callbacks/{job['channel_id']}/result"
            async with mine.post(url, json={"resolved": True, "satisfaction": 7}) as resp:
                assert resp.status == 422
            async with mine.post(url, json={"resolved": False, "satisfaction": 4, "comment": "没有退货"}) as resp:
                assert resp.status == 201, await resp.text()
        done = await until(lambda: _tick_until(s, lambda: pool.fetchrow(
            "SELECT * FROM survey_jobs WHERE id = $1 AND state = 'done'", job["id"])),
            timeout=30, what="the result stored")
    finally:
        s.unsubscribe()
        s.calls.close()
    assert (done["resolved"], done["rating"]) == (False, "不满意")
    await job_state(pool, job["id"], "done")
    # a bad review reopens the ticket to its department, with the agent's note
    await until(lambda: pool.fetchval("SELECT status IN ('dispatched', 'returned', 'accepted') FROM tickets"
                                      " WHERE number = $1 AND reopen_count = 1", number), what="ticket reopened")
