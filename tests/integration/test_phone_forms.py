"""One citizen, one number, whichever form the channel or a person used: a caller id of
``+8613912340001`` is the ticket's ``13912340001`` for the desk's caller history, the caller's
district for mass incidents, survey opt-outs and the blacklist, and the missed-call callback
the citizen made moot by calling again (callcenter/infra/phones.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from acd_support import Phone
from helpers import until
from surveys_support import job_state, resolved_ticket, surveys_on, ticket_service

from callcenter.calls.records import CallRecords
from callcenter.dispatch import incident_store
from callcenter.ivr.repository import IvrRepository
from callcenter.surveys.store import SurveyStore

pytestmark = pytest.mark.asterisk


async def test_the_desk_history_finds_calls_the_channel_presented_internationally(stack, pool, logins):
    await CallRecords(pool).call_started("pf-hist-1", caller="+8613912340001", dnis="12345", at=datetime.now(UTC))
    async with await logins.client("supervisor:li") as http:
        for form in ("13912340001", "008613912340001", "+86 139-1234-0001"):
            async with http.get(f"/api/callers/{form}/history") as r:
                assert r.status == 200, form
                assert [c["call_id"] for c in (await r.json())["calls"]] == ["pf-hist-1"], form


async def test_the_callers_district_comes_from_a_ticket_filed_under_another_form(stack, pool):
    tickets = ticket_service(stack)
    await tickets.create_ticket(actor="agent:1001", kind="help", district="西区", caller_phone="13912340002",
                                       description="停水三天了")
    await CallRecords(pool).call_started("pf-dist-1", caller="8613912340002", dnis="12345", at=datetime.now(UTC))
    async with pool.acquire() as conn:
        assert await incident_store.caller_district(conn, "pf-dist-1") == "西区"


async def test_an_opt_out_or_blacklist_entry_in_another_form_stops_the_survey(stack, pool):
    opted, listed = await resolved_ticket(stack, "13912340003"), await resolved_ticket(stack, "0812-3334445")
    store = SurveyStore(pool)
    await store.opt_out("+86 139 1234 0003", "不要回访", "admin:root")
    now = datetime.now(UTC)
    await IvrRepository(pool).add_blacklist("+86 812 3334445", reason="骚扰", created_by="admin:root",
                                            expires_at=now + timedelta(days=1), now=now)
    rows = {r["number"]: r for r in await store.ticket_candidates(datetime.now(UTC))}
    assert rows[opted]["opted_out"] and not rows[opted]["blacklisted"]
    assert rows[listed]["blacklisted"] and not rows[listed]["opted_out"]


async def test_a_missed_call_is_cancelled_when_the_caller_calls_again_in_another_form(stack, pool):
    phone = Phone(stack)
    first = await phone.call(caller="+8613900000025", hold_for=2)  # no agent: gives up after 2 s
    await until(lambda: pool.fetchval("SELECT disposition = 'abandoned' FROM calls WHERE call_id = $1", first),
                timeout=20, what="abandoned")
    s = await surveys_on(stack)
    try:
        await s.dialler.scheduler.run(datetime.now(UTC))
        job = await pool.fetchrow("SELECT * FROM survey_jobs WHERE call_id = $1", first)
        assert (job["state"], job["phone"]) == ("pending", "13900000025")
        second = await phone.call(caller="013900000025", hold_for=60)  # the trunk's 0 before the mobile
        await until(lambda: pool.fetchval("SELECT count(*) = 1 FROM calls WHERE call_id = $1", second))
        await s.dialler.tick()
        job = await job_state(pool, job["id"], "cancelled")
        assert job["reason"] == "已再次来电" and s.dialler.dialled == 0
        await phone.hangup(second)
    finally:
        s.calls.close()
