"""Tickets with learned dispatch (real PostgreSQL): the classifier dispatches what the rules
leave open, the hall's decisions become training examples, and new tickets feed the
mass-incident detector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dispatch_support import corpus_of

from callcenter.dispatch.corpus import Corpus
from callcenter.dispatch.incidents import IncidentDetector
from callcenter.dispatch.router import Router
from callcenter.dispatch.service import DispatchService
from callcenter.tickets.config import TicketConfig
from callcenter.tickets.service import TicketService

UNITS = {"water", "power", "gas", "housing", "civil_affairs", "education"}
AGENT, SUPERVISOR = "agent:1001", "supervisor:li"


@pytest.fixture(scope="module")
def small_corpus() -> Corpus:
    return corpus_of(UNITS)


@pytest.fixture
async def wired(pool, small_corpus):
    learned = DispatchService(pool, corpus=small_corpus, detector=IncidentDetector(min_count=5))
    tickets = TicketService(pool, await Router.open(pool, lambda: learned), TicketConfig(prefix="PZH"))
    return tickets, learned


async def test_without_a_model_the_rules_decide_as_before(pool, wired):
    tickets, learned = wired
    assert not learned.ready
    c = await tickets.create_ticket(actor=AGENT, kind="help", description="小区停水三天了还没来水")
    assert c.ticket.lead_department == "water" and "learned" not in c.stored["routing"]


async def test_classifier_dispatches_and_shows_candidates_with_words(pool, wired):
    tickets, learned = wired
    await learned.retrain("test")
    # no keyword rule knows 没得水 / 水龙头: the rules leave it to the hall, the classifier does not
    text = "我们楼从昨天晚上开始水龙头就一滴水都放不出来，一直没得水用"
    rules_only = tickets.dispatch.rules.route(kind="help", description=text)
    assert rules_only.needs_human
    c = await tickets.create_ticket(actor=AGENT, kind="help", description=text)
    routing = c.stored["routing"]
    assert routing["learned"]["decided_by"] == "model" and routing["lead"] == "water"
    assert c.ticket.lead_department == "water" and c.ticket.status.value == "dispatched"
    best = routing["learned"]["candidates"][0]
    assert best["department"] == "water" and best["words"]


async def test_human_dispatch_objection_and_reassignment_become_examples(pool, wired):
    tickets, learned = wired
    await learned.retrain("test")
    c = await tickets.create_ticket(actor=AGENT, kind="help", description="请问一下那个事情咋个办嘛",
                                           auto_dispatch=False)
    assert c.ticket.status.value == "accepted"
    await tickets.act(c.number, "dispatch", actor=SUPERVISOR, lead="civil_affairs")
    rows = await pool.fetch("SELECT ticket_number, department, source, created_by FROM dispatch_examples")
    assert [tuple(r) for r in rows] == [(c.number, "civil_affairs", "human_dispatch", SUPERVISOR)]

    await tickets.act(c.number, "object", actor="dept:civil_affairs:wang", reason="应由教育局办理",
                      suggested="education")
    await tickets.act(c.number, "redispatch", actor=SUPERVISOR, lead="education")
    row = await pool.fetchrow("SELECT department, source FROM dispatch_examples WHERE ticket_number = $1", c.number)
    assert tuple(row) == ("education", "objection")  # one example per ticket: the latest decision

    d = await tickets.create_ticket(actor=AGENT, kind="complaint", description="燃气表坏了不走字",
                                           lead="gas")  # the agent chose the unit while filing
    assert await pool.fetchval("SELECT source FROM dispatch_examples WHERE ticket_number = $1",
                               d.number) == "human_dispatch"


async def test_new_tickets_feed_the_incident_detector(pool, wired):
    tickets, learned = wired
    await learned.retrain("test")
    t0 = datetime.now(UTC)
    for i in range(6):
        await tickets.create_ticket(actor=AGENT, kind="help", district="西区", at=t0 + timedelta(seconds=i),
                                           caller_phone=f"1390000{i:04d}",
                                           description=["清香坪停水了，啥时候来水", "清香坪这边停水一上午了",
                                                        "西区清香坪停水了也没通知"][i % 3])
    (inc,) = await learned.incidents()
    assert inc["district"] == "西区" and inc["department"] == "water" and inc["linked"] >= 5

    # the department resolves the master ticket: the incident closes, its requests are listed
    master = inc["master_ref"]
    await tickets.act(master, "acknowledge", actor="dept:water:zhang")
    await tickets.act(master, "resolve", actor="dept:water:zhang", reply="管道已抢修，恢复供水")
    assert await learned.incidents() == []
    linked = await pool.fetchval("SELECT count(*) FROM dispatch_incident_links WHERE incident_id = $1", inc["id"])
    assert linked == inc["linked"]


async def test_merge_board_panel_and_a_callback_for_every_linked_citizen(pool, wired):
    """并单 on the agent's confirmation, the board's panel, and on the master's resolution one
    survey callback per linked citizen (de-duplicated per phone; the master's caller has its own)."""
    from surveys_support import survey_config

    from callcenter.dispatch.incident_store import open_incidents
    from callcenter.surveys.scheduler import Scheduler
    from callcenter.surveys.store import SurveyStore
    from callcenter.tickets.sla import default_calendar

    tickets, learned = wired
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    texts = ["清香坪停水了，啥时候来水", "清香坪这边停水一上午了", "西区清香坪停水了也没通知"]
    phones = [f"1390000{i:04d}" for i in range(6)] + ["13900000001"]  # the last one called twice
    numbers = []
    for i, phone in enumerate(phones):
        c = await tickets.create_ticket(actor=AGENT, kind="help", district="西区", caller_phone=phone,
                                               at=t0 + timedelta(seconds=i), description=texts[i % 3])
        numbers.append(c.number)
    (inc,) = await learned.incidents()
    master, late = inc["master_ref"], numbers[-1]
    # the desk proposes 并单 for the late ticket (the detector matched it); the agent confirms it
    proposal = await learned.proposal(late)
    assert proposal is not None and proposal["id"] == inc["id"] and proposal["master_ref"] == master
    assert (await tickets.act(late, "merge", actor=AGENT, merged_into=master)).ticket.status.value == "closed"
    assert await learned.proposal(late) is None
    link = await pool.fetchrow("SELECT via, confirmed FROM dispatch_incident_links WHERE ref = $1", late)
    assert tuple(link) == ("agent", True)
    # a caller the IVR attached, and the board's panel
    assert await learned.attach_call(inc["id"], "call-ivr-1", "13700000009")
    (panel,) = await open_incidents(pool)
    assert (panel["district"], panel["master_ref"], panel["linked"]) == ("西区", master, len(numbers) + 1)
    assert panel["title"] and panel["opened_at"]

    await tickets.act(master, "acknowledge", actor="dept:water:zhang")
    await tickets.act(master, "resolve", actor="dept:water:zhang", reply="管道已抢修，恢复供水")
    config = survey_config()
    scheduler = Scheduler(SurveyStore(pool), config.survey_policy(), None, default_calendar())
    now = datetime.now(UTC)
    assert (await scheduler.run(now))["incidents"] == 6  # 5 other ticket callers (one twice) + the IVR caller
    rows = await pool.fetch("SELECT phone, ticket_number, state FROM survey_jobs WHERE kind = 'incident'")
    master_phone = await pool.fetchval("SELECT caller_phone FROM tickets WHERE number = $1", master)
    assert sorted(r["phone"] for r in rows) == sorted({*phones, "13700000009"} - {master_phone})
    assert {r["ticket_number"] for r in rows} == {master} and {r["state"] for r in rows} == {"pending"}
    assert (await scheduler.run(now))["incidents"] == 0  # idempotent
