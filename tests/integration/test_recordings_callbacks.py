"""Outbound calls made by a person are recorded like inbound ones (issue 21), on the rule of the
line of the call they are about: a ticket's 回访 by an agent (the ticket filed from a call on a
recording line) is recorded; a 漏话回拨 of a call missed on a line that does not record is not.
(The 漏话回拨 on a recording line: tests/integration/test_recordings_calls.py.)"""

from __future__ import annotations

import pytest
from acd_support import Phone
from helpers import until
from recording_support import called_back_through_an_agent, start_stack, stored
from surveys_support import citizen, survey_config, surveys_on, ticket_service

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(150)]

OFF_LINE = "12329"


@pytest.fixture
async def recording_app(settings, database, asterisk, pool, live, tmp_path):
    app, runner = await start_stack(settings, recordings_dir=tmp_path / "recordings", recording_off_lines=[OFF_LINE],
                                    wrap_up_s=0)
    yield app
    await runner.cleanup()


async def _attempt(s, pool, sql: str, *args):
    async def reached():
        await s.dialler.tick()
        return await pool.fetchrow(sql, *args)

    return await until(reached, timeout=40, what="the citizen reached through an agent")


async def test_a_tickets_callback_by_a_person_is_recorded_on_the_rule_of_the_tickets_call(recording_app, pool):
    phone = Phone(recording_app)
    await phone.login("1001", "seat01")
    call = await phone.call(caller="13800000051", dnis="12345")
    await until(lambda: phone.acd.calls[call].state == "bridged", what="the citizen's call answered")
    await phone.hangup(call)
    await until(lambda: phone.agent("1001").state.value == "available", what="the agent free again")
    svc = ticket_service(recording_app)
    number = (await svc.create_ticket(actor="agent:1001", kind="complaint", description="商家卖假冒伪劣商品，要求退货",
                                      caller_phone="13800000051", lead="market", call_ids=[call])).number
    await svc.act(number, "acknowledge", actor="dept:market:zhang")
    await svc.act(number, "resolve", actor="dept:market:zhang", reply="已责令商家退货")
    await citizen(recording_app, "13800000051", hold=2)  # answers the 回访, talks, hangs up
    s = await surveys_on(recording_app, survey_config(), acd=True)
    try:
        assert await s.store.flag_for_person(number, "投诉人要求人工回访", "supervisor:li")
        attempt = await _attempt(s, pool, "SELECT a.channel_id FROM survey_attempts a JOIN survey_jobs j"
                                 " ON j.id = a.job_id WHERE j.ticket_number = $1 AND a.agent_id = '1001'", number)
        row, = await stored(pool, attempt["channel_id"])
    finally:
        s.unsubscribe()
        s.calls.close()
    assert row["state"] == "stored", row["reason"]
    assert (row["seat_id"], row["agent_id"], row["line"]) == ("seat01", "1001", "12345")
    assert row["duration_s"] > 1


async def test_a_missed_call_on_a_line_that_does_not_record_is_called_back_unrecorded(recording_app, pool):
    phone = Phone(recording_app)
    seen: set[str] = set()

    async def recording_channels() -> None:
        seen.update(c["id"] for c in await phone.ari.get("/channels") if c["id"].startswith("rec-"))

    attempt = await called_back_through_an_agent(recording_app, pool, "13900000052", dnis=OFF_LINE,
                                                 on_tick=recording_channels)
    assert attempt["agent_id"] == "1004"  # a person talked to the citizen
    assert await pool.fetchval("SELECT line FROM calls WHERE call_id = $1", attempt["channel_id"]) == "outbound"
    assert not seen, "the callback of a call on a line that does not record was recorded"
    assert await pool.fetchval("SELECT count(*) FROM recordings") == 0
