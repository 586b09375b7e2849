"""One callback per citizen and round (real PostgreSQL): a ticket the incident detector linked
to a mass incident but no agent merged, resolved on its own, would be owed both its own survey
and the incident's callback about the master. Whichever the scheduler made first is dialled; the
other is recorded closed with the reason, in either order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dispatch_support import corpus_of
from surveys_support import survey_config

from callcenter.dispatch.corpus import Corpus
from callcenter.dispatch.incidents import IncidentDetector
from callcenter.dispatch.router import Router
from callcenter.dispatch.service import DispatchService
from callcenter.surveys.model import Reason
from callcenter.surveys.results import ResultSink
from callcenter.surveys.scheduler import Scheduler
from callcenter.surveys.store import SurveyStore
from callcenter.tickets.config import TicketConfig
from callcenter.tickets.service import TicketService
from callcenter.tickets.sla import default_calendar

AGENT, DEPT = "agent:1001", "dept:water:zhang"
TEXTS = ["清香坪停水了，啥时候来水", "清香坪这边停水一上午了", "西区清香坪停水了也没通知"]


@pytest.fixture(scope="module")
def small_corpus() -> Corpus:
    return corpus_of({"water", "power", "gas", "housing"})


async def resolve(tickets: TicketService, number: str) -> None:
    await tickets.act(number, "acknowledge", actor=DEPT)
    await tickets.act(number, "resolve", actor=DEPT, reply="管道已抢修，恢复供水")


async def jobs(pool, phone: str) -> list[tuple[str, str, str | None]]:
    rows = await pool.fetch("SELECT kind, state, reason FROM survey_jobs WHERE phone = $1 ORDER BY id", phone)
    return [tuple(r) for r in rows]


async def test_a_linked_ticket_resolved_on_its_own_gets_one_callback_per_round(pool, small_corpus):
    learned = DispatchService(pool, corpus=small_corpus, detector=IncidentDetector(min_count=5))
    tickets = TicketService(pool, await Router.open(pool, lambda: learned), TicketConfig(prefix="PZH"))
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    phones = [f"1390001{i:04d}" for i in range(7)]
    numbers = {}
    for i, phone in enumerate(phones):
        c = await tickets.create_ticket(actor=AGENT, kind="help", district="西区", caller_phone=phone,
                                               at=t0 + timedelta(seconds=i), description=TEXTS[i % 3])
        numbers[phone] = c.number
    (inc,) = await learned.incidents()
    master = inc["master_ref"]
    early, late = phones[2], phones[6]  # both linked by the detector only, never merged
    links = {r["ref"]: r["confirmed"] for r in await pool.fetch(
        "SELECT ref, confirmed FROM dispatch_incident_links WHERE incident_id = $1", inc["id"])}
    assert links[numbers[early]] is False and links[numbers[late]] is False
    config = survey_config()
    scheduler = Scheduler(SurveyStore(pool), config.survey_policy(), None, default_calendar(),
                          ResultSink(pool, config.scale_(), tickets))

    # the first is resolved on its own before the incident closes: its survey is made ...
    await resolve(tickets, numbers[early])
    assert (await scheduler.run(datetime.now(UTC)))["tickets"] == 1
    assert await jobs(pool, early) == [("ticket", "pending", None)]
    # ... the master is resolved: every other citizen gets the incident's callback, not this one twice
    await resolve(tickets, master)
    counts = await scheduler.run(datetime.now(UTC))
    assert counts["incidents"] == 6 and counts["tickets"] == 1  # 6 linked citizens; the master's own survey
    assert await jobs(pool, early) == [("ticket", "pending", None),
                                       ("incident", "closed", Reason.TICKET_CALLBACK.value)]
    assert await jobs(pool, late) == [("incident", "pending", None)]

    # the other is resolved on its own after the incident closed: its own survey is not made again
    await resolve(tickets, numbers[late])
    assert (await scheduler.run(datetime.now(UTC)))["tickets"] == 1
    assert await jobs(pool, late) == [("incident", "pending", None),
                                      ("ticket", "closed", Reason.INCIDENT_CALLBACK.value)]
    assert (await tickets.get(numbers[late])).ticket.status.value == "closed"  # closed with the reason
    pending = await pool.fetch("SELECT phone FROM survey_jobs WHERE state = 'pending'")
    assert len(pending) == len({r["phone"] for r in pending}) == 7  # one call per citizen
    assert await scheduler.run(datetime.now(UTC)) == {"tickets": 0, "incidents": 0, "stale": 0}
