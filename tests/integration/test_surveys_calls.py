"""Satisfaction callbacks (回访) and the post-call rating against the sandbox Asterisk: the
citizen is a Local channel into `citizen-callee` that answers and presses the keys the test
chose, never answers, is busy, or hangs up mid-survey."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta

import pytest
from acd_support import Phone
from helpers import until
from surveys_support import (
    citizen,
    job_of_ticket,
    job_state,
    rating_call,
    resolved_ticket,
    survey_config,
    surveys_on,
)

from callcenter.app import STATE
from callcenter.infra.ari import TRUNK_FORMATS
from callcenter.surveys.model import SHANGHAI

pytestmark = pytest.mark.asterisk


@contextlib.asynccontextmanager
async def running(s, interval: float = 0.2):
    task = asyncio.create_task(s.dialler.run(interval, lambda: True))
    try:
        yield s
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        s.calls.close()


async def _status(app, number: str) -> str:
    return await app[STATE]["pool"].fetchval("SELECT status FROM tickets WHERE number = $1", number)


async def test_reached_and_rated_records_the_survey_on_the_ticket(stack, pool):
    number = await resolved_ticket(stack, "13800000011")
    await citizen(stack, "13800000011", dtmf="12")
    async with running(await surveys_on(stack)):
        job = await job_of_ticket(pool, number)
        done = await job_state(pool, job["id"], "done", "closed")
    assert done["state"] == "done" and done["resolved"] is True and done["rating"] == "满意"
    attempts = await pool.fetch("SELECT * FROM survey_attempts WHERE job_id = $1", job["id"])
    assert [(a["n"], a["outcome"]) for a in attempts] == [(1, "completed")]
    assert attempts[0]["channel_id"] == f"sv-{job['id']}-1" and attempts[0]["answered_at"] is not None
    assert await until(lambda: _is(stack, number, "surveyed"), what="ticket surveyed")


async def _is(app, number: str, status: str) -> bool:
    return await _status(app, number) == status


async def test_bad_review_reopens_the_ticket_to_its_department(stack, pool, mqtt_messages):
    number = await resolved_ticket(stack, "13800000012")
    await citizen(stack, "13800000012", dtmf="14")  # resolved, but 不满意
    async with running(await surveys_on(stack)):
        job = await job_of_ticket(pool, number)
        await job_state(pool, job["id"], "done")
        await until(lambda: _is(stack, number, "dispatched"), what="ticket reopened (重办)")
    row = await pool.fetchrow("SELECT lead_department, reopen_count, satisfaction FROM tickets WHERE number = $1",
                              number)
    assert (row["lead_department"], row["reopen_count"], row["satisfaction"]) == ("market", 1, "不满意")
    await until(lambda: any(t.endswith(f"surveys/tickets/{number}/bad_review") for t, _ in mqtt_messages),
                what="bad_review event")


async def test_not_resolved_reopens_even_with_an_acceptable_rating(stack, pool):
    number = await resolved_ticket(stack, "13800000013")
    await citizen(stack, "13800000013", dtmf="23")  # 未解决, 基本满意
    async with running(await surveys_on(stack)):
        job = await job_of_ticket(pool, number)
        await job_state(pool, job["id"], "done")
        await until(lambda: _is(stack, number, "dispatched"), what="ticket reopened (未解决)")


async def test_unreachable_after_the_attempts_closes_with_a_reason(stack, pool):
    number = await resolved_ticket(stack, "13800000014")
    await citizen(stack, "13800000014", mode="noanswer")
    async with running(await surveys_on(stack, survey_config(max_attempts=2, ring_timeout_s=3))):
        job = await job_of_ticket(pool, number)
        closed = await job_state(pool, job["id"], "closed", timeout=40)
        await until(lambda: _is(stack, number, "closed"), what="ticket closed")
    assert closed["reason"] == "无法联系" and closed["attempts"] == 2
    outcomes = await pool.fetch("SELECT outcome FROM survey_attempts WHERE job_id = $1 ORDER BY n", job["id"])
    assert [r["outcome"] for r in outcomes] == ["no_answer", "no_answer"]


async def test_busy_then_hang_up_mid_survey_then_reached(stack, pool):
    number = await resolved_ticket(stack, "13800000015")
    await citizen(stack, "13800000015", mode="busy")
    s = await surveys_on(stack, survey_config(max_attempts=3))
    async with running(s):
        job = await job_of_ticket(pool, number)
        await until(lambda: pool.fetchval("SELECT outcome FROM survey_attempts WHERE job_id = $1 AND n = 1",
                                          job["id"]), timeout=30, what="attempt 1 ended")
        await citizen(stack, "13800000015", mode="hangup", wait=1)
        await until(lambda: pool.fetchval("SELECT outcome FROM survey_attempts WHERE job_id = $1 AND n = 2",
                                          job["id"]), timeout=30, what="attempt 2 ended")
        await citizen(stack, "13800000015", dtmf="11")
        done = await job_state(pool, job["id"], "done", "closed", timeout=40)
    outcomes = await pool.fetch("SELECT outcome FROM survey_attempts WHERE job_id = $1 ORDER BY n", job["id"])
    assert [r["outcome"] for r in outcomes] == ["busy", "hung_up", "completed"]
    assert done["state"] == "done" and done["rating"] == "非常满意"


async def test_invalid_keys_end_with_no_valid_answer(stack, pool):
    number = await resolved_ticket(stack, "13800000016")
    await citizen(stack, "13800000016", dtmf="190")  # resolved, then two invalid keys for the rating
    async with running(await surveys_on(stack)):
        job = await job_of_ticket(pool, number)
        done = await job_state(pool, job["id"], "done", timeout=40)
        await until(lambda: _is(stack, number, "closed"), what="ticket closed without a rating")
    assert done["rating"] is None and done["result"]["no_valid"] == ["rating"] and done["result"]["invalid"] == 2


async def test_post_call_rating_is_stored_per_call_and_agent(stack, pool):
    await citizen(stack, "13800000017", dtmf="2")
    s = await surveys_on(stack)
    await rating_call(stack, "13800000017", call_id="call-r1", agent="1003", seat="seat03", team="A")
    row = await until(lambda: pool.fetchrow("SELECT * FROM survey_ratings WHERE call_id = 'call-r1'"),
                      timeout=20, what="rating stored")
    s.calls.close()
    assert (row["agent_id"], row["seat_id"], row["team"], row["rating"]) == ("1003", "seat03", "A", "满意")


async def test_post_call_rating_after_the_acd_hands_the_caller_over(stack, pool):
    """What the ACD does when the agent hangs up first: the caller, still in the Stasis app and
    out of the bridge, gets RATING_ARGS and is continued to rating-direct,s,1."""
    ari = stack[STATE]["ari"]
    await citizen(stack, "13800000019", dtmf="4")
    s = await surveys_on(stack)
    chan = f"ho-{uuid.uuid4().hex[:8]}"
    await ari.post("/channels", endpoint="Local/13800000019@handover-sim/n", context="citizen-callee",
                   extension="13800000019", priority=1, formats=TRUNK_FORMATS, channelId=f"x-{chan}",
                   otherChannelId=chan, callerId="13800000019")
    await until(lambda: _in_app(ari, chan), what="the caller in the Stasis app")
    await ari.post(f"/channels/{chan}/variable", variable="RATING_ARGS", value="call-h1,1004,seat04,A")
    await ari.post(f"/channels/{chan}/continue", context="rating-direct", extension="s", priority=1)
    row = await until(lambda: pool.fetchrow("SELECT * FROM survey_ratings WHERE call_id = 'call-h1'"),
                      timeout=30, what="rating stored")
    s.calls.close()
    assert (row["agent_id"], row["seat_id"], row["team"], row["rating"]) == ("1004", "seat04", "A", "不满意")


async def _in_app(ari, chan: str) -> bool:
    try:
        ch = await ari.get(f"/channels/{chan}")
    except Exception:
        return False
    return ch.get("state") == "Up" and "Stasis" in str(ch.get("dialplan", {}).get("app_name", ""))


async def test_calling_hours_hold_a_due_callback_until_they_open(stack, pool):
    now = datetime.now(SHANGHAI)
    opens = now + timedelta(seconds=4)
    if opens.date() != now.date() or (now + timedelta(seconds=60)).date() != now.date():
        pytest.skip("too close to local midnight for a same-day window")
    window = f"{opens:%H:%M:%S}-{now + timedelta(seconds=60):%H:%M:%S}"
    number = await resolved_ticket(stack, "13800000018")
    await citizen(stack, "13800000018", dtmf="12")
    s = await surveys_on(stack, survey_config(hours=window))
    await s.dialler.tick()
    job = await job_of_ticket(pool, number)
    assert job["state"] == "pending" and job["due_at"] >= opens.replace(microsecond=0)
    assert s.dialler.dialled == 0
    async with running(s):
        done = await job_state(pool, job["id"], "done", timeout=30)
    attempt = await pool.fetchrow("SELECT claimed_at FROM survey_attempts WHERE job_id = $1", job["id"])
    assert attempt["claimed_at"] >= opens.replace(microsecond=0) and done["rating"] == "满意"


async def test_a_bad_review_leaves_a_recorded_comment_for_the_department(stack, pool, asterisk):
    number = await resolved_ticket(stack, "13800000020")
    await citizen(stack, "13800000020", dtmf="15")  # resolved, 非常不满意, then says nothing
    async with running(await surveys_on(stack, survey_config(comment_s=3))):
        job = await job_of_ticket(pool, number)
        done = await job_state(pool, job["id"], "done", timeout=40)
        await until(lambda: _is(stack, number, "dispatched"), what="ticket reopened (重办)")
    name = f"survey-sv-{job['id']}-1"
    assert done["result"]["comment_recording"] == name
    data = await pool.fetchval("SELECT e.data FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
                               " WHERE t.number = $1 AND e.action = 'survey'", number)
    assert name in str(data)
    assert (asterisk.host_dir / "spool" / "recording" / f"{name}.wav").exists()


async def test_a_caller_whose_agent_hangs_up_first_rates_that_agent(stack, pool):
    """The whole path: a caller reaches an agent through the ACD, the agent hangs up first, the
    ACD hands the caller over (not hung up), the caller presses 2 (满意) during the rating prompt."""
    phone = Phone(stack)
    phone.acd.rating_on = lambda: True  # CALLCENTER_RATING_ENABLED (off in the test settings)
    await phone.login("1002", "seat02", talk=0.5)
    # the caller's key comes 3 s after it entered (the agent has hung up by then: 0.5 s of talk),
    # during the rating prompt; it hangs up a second later, in the thanks (as many do)
    call_id = await phone.call(dtmf="2", wait_before=3, hold_for=1, caller="13800000021")
    row = await until(lambda: pool.fetchrow("SELECT * FROM survey_ratings WHERE call_id = $1", call_id),
                      timeout=20, what="rating stored")
    team = phone.agent("1002").team
    assert (row["agent_id"], row["seat_id"], row["team"], row["rating"]) == ("1002", "seat02", team, "满意")
    call = await pool.fetchrow("SELECT disposition, agent_id FROM calls WHERE call_id = $1", call_id)
    assert (call["disposition"], call["agent_id"]) == ("answered", "1002")
    assert call_id not in phone.acd.calls and call_id not in phone.acd.legs
