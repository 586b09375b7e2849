"""Live transcripts into the mass-incident detector (real PostgreSQL): the citizen's finals of a
call count as one request in the district of the caller's latest ticket (or the one they name);
a ticket filed from a counted call takes its place; a caller whose call was linked but who never
got a ticket is called back when the incident closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dispatch_support import corpus_of
from surveys_support import survey_config

from callcenter.dispatch.corpus import Corpus
from callcenter.dispatch.incidents import IncidentDetector
from callcenter.dispatch.router import Router
from callcenter.dispatch.service import DispatchService
from callcenter.surveys.scheduler import Scheduler
from callcenter.surveys.store import SurveyStore
from callcenter.tickets.config import TicketConfig
from callcenter.tickets.service import TicketService
from callcenter.tickets.sla import default_calendar

AGENT, DEPT = "agent:1001", "dept:water:zhang"
SAID = ["喂你好", "清香坪这边停水了，一早上都没得水", "停水好久了嘛，啥时候来水"]


@pytest.fixture(scope="module")
def small_corpus() -> Corpus:
    return corpus_of({"water", "power", "gas", "housing_fund"})


async def test_a_calls_transcript_counts_once_and_its_caller_gets_the_callback(pool, small_corpus):
    learned = DispatchService(pool, corpus=small_corpus, detector=IncidentDetector(min_count=4))
    tickets = TicketService(pool, await Router.open(pool, lambda: learned), TicketConfig(prefix="PZH"))
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    phones = [f"1390003{i:04d}" for i in range(5)]
    for i, phone in enumerate(phones[:3]):  # callers 0-2 filed a ticket from 西区 before (another matter)
        await tickets.create_ticket(actor=AGENT, kind="enquiry", district="西区", caller_phone=phone,
                                           at=t0 + timedelta(seconds=i), description="咨询公积金提取需要哪些材料")
    await pool.executemany("INSERT INTO calls (call_id, caller, entered_at, agent_id) VALUES ($1, $2, $3, '1001')",
                           [(f"call-{i}", p, t0 + timedelta(minutes=10)) for i, p in enumerate(phones)])
    at = t0 + timedelta(minutes=11)
    for i in range(5):
        for n, text in enumerate(SAID):
            # caller 3 has no history but names the district; caller 4 neither: not counted
            said = f"西区{text}" if i == 3 and n == 1 else text
            learned.heard(f"call-{i}", "agent", "您好，请讲", at)
            learned.heard(f"call-{i}", "citizen", said, at + timedelta(seconds=n))
    await learned.aclose()  # the calls being fed
    assert await pool.fetchval("SELECT count(*) FROM dispatch_incidents") == 0  # 4 calls, but no ticket yet

    # the agent files a ticket from call 0: it takes the call's place and, being a ticket, opens the incident
    first = await tickets.create_ticket(actor=AGENT, kind="help", district="西区", caller_phone=phones[0],
                                               call_ids=["call-0"], at=at + timedelta(minutes=1),
                                               description="清香坪停水了，一早上都没来水")
    (inc,) = await learned.incidents()
    assert inc["master_ref"] == first.number and inc["district"] == "西区"
    # and one from call 1, after the incident opened: it takes over that call's link
    second = await tickets.create_ticket(actor=AGENT, kind="help", district="西区", caller_phone=phones[1],
                                                call_ids=["call-1"], at=at + timedelta(minutes=2),
                                                description="清香坪这边停水了")
    await learned.flush()
    refs = {r["ref"] for r in await pool.fetch("SELECT ref FROM dispatch_incident_links WHERE incident_id = $1",
                                               inc["id"])}
    assert refs == {first.number, second.number, "call-2", "call-3"}
    assert (await learned.proposal(second.number))["others"] == 3

    await tickets.act(first.number, "acknowledge", actor=DEPT)
    await tickets.act(first.number, "resolve", actor=DEPT, reply="管道已抢修，恢复供水")
    scheduler = Scheduler(SurveyStore(pool), survey_config().survey_policy(), None, default_calendar())
    assert (await scheduler.run(datetime.now(UTC)))["incidents"] == 3
    called = {r["phone"] for r in await pool.fetch("SELECT phone FROM survey_jobs WHERE kind = 'incident'")}
    assert called == {phones[1], phones[2], phones[3]}  # the master's caller gets its own survey
