"""Survey results that raced or failed (real PostgreSQL; the ticket service a fake): a desk result
committed between the dialler's read and the attempt's end is kept and applied, and a ticket
closed by the scheduler without a call is owed to the ticket until the close is applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from surveys_support import FlakyTickets as Tickets
from surveys_support import distinct_job_ids, survey_config

from callcenter.surveys.dialler import Dialler
from callcenter.surveys.results import ResultSink
from callcenter.surveys.scheduler import Scheduler
from callcenter.surveys.store import SurveyStore
from callcenter.tickets.api import default_calendar


class RacingStore(SurveyStore):
    """The agent enters the result on the desk right after the dialler read that there is none."""

    entering: tuple[str, dict] | None = None

    async def desk_answers(self, channel_ids):
        seen = await super().desk_answers(channel_ids)
        if self.entering is not None:
            (channel, answers), self.entering = self.entering, None
            assert await self.desk_result(channel, "1001", answers) is None  # committed
        return seen


async def test_a_desk_result_committed_between_the_read_and_the_end_is_kept(pool):
    await distinct_job_ids(pool)
    config = survey_config()
    scale = config.scale_()
    good = next(lv for lv in scale.levels if not lv.bad)
    now = datetime.now(UTC)
    await pool.execute(
        "INSERT INTO survey_jobs (kind, ticket_number, phone, state, max_attempts, by_agent, due_at, deadline,"
        " created_at, updated_at) VALUES ('ticket', 'T-D1', '13900000001', 'pending', 2, true, $1, $2, $1, $1)",
        now - timedelta(minutes=20), now + timedelta(days=3))
    store = RacingStore(pool)
    [c] = await store.claim_many(now - timedelta(minutes=20), "w", ["ticket"], 1)
    await store.agent_talked(c.channel_id, "1001", now - timedelta(minutes=15))
    tickets = Tickets({})
    results = ResultSink(pool, scale, tickets)  # type: ignore[arg-type]
    dialler = Dialler(store, None, None, None, results, app="t", survey=config.survey_policy(),  # type: ignore[arg-type]
                      missed=None, calendar=default_calendar(), max_concurrent=1, acd=lambda: None,
                      clock=lambda: now)
    assert dialler.agents is not None
    dialler.inflight[c.channel_id] = c
    dialler.agents.awaiting[c.channel_id] = now - timedelta(minutes=11)  # result_wait_s (600 s) passed
    answers = {"rating": good.label, "resolved": True, "by_agent": "1001"}
    store.entering = (c.channel_id, answers)
    await dialler.agents.tick(now, dialler.inflight)
    attempt = await pool.fetchrow("SELECT * FROM survey_attempts WHERE channel_id = $1", c.channel_id)
    job = await pool.fetchrow("SELECT * FROM survey_jobs WHERE id = $1", c.job_id)
    assert (attempt["outcome"], attempt["answers"]) == ("completed", answers)
    assert (job["state"], job["rating"], job["resolved"]) == ("done", good.label, True)
    assert tickets.done == [("T-D1", "survey")]  # recorded as rated, not closed as 回访无有效回答
    topics = [r["topic"] for r in await pool.fetch("SELECT topic FROM outbox")]
    assert "surveys/tickets/T-D1/rated" in topics, topics


async def test_a_ticket_closed_without_a_call_is_owed_until_the_close_is_applied(pool):
    """No callback due (an anonymous caller): the scheduler closes the job at once and the ticket
    is closed with the reason; a ticket service that fails once leaves it owed, retried later."""
    await distinct_job_ids(pool)
    config = survey_config()
    now = datetime.now(UTC)
    await pool.execute(
        "INSERT INTO tickets (number, kind, channel, status, urgency, description, caller_phone, created_by,"
        " created_at, updated_at) VALUES ('T-C1', 'complaint', 'call', 'resolved', 'normal', '路灯不亮', '',"
        " 'test', $1, $1)", now - timedelta(hours=1))
    tickets = Tickets({"close": ConnectionError("connection reset")})
    results = ResultSink(pool, config.scale_(), tickets)  # type: ignore[arg-type]
    scheduler = Scheduler(SurveyStore(pool), config.survey_policy(), None, default_calendar(), results)
    assert await scheduler.tickets(now) == 1
    job = await pool.fetchrow("SELECT * FROM survey_jobs WHERE ticket_number = 'T-C1'")
    assert (job["state"], job["reason"]) == ("closed", "匿名来电")
    assert tickets.done == [] and job["result_step"] == 1  # the event written, the close owed
    await results.retry(now + timedelta(minutes=1))
    assert tickets.done == [("T-C1", "close")]
    assert await pool.fetchval("SELECT result_step FROM survey_jobs WHERE id = $1", job["id"]) is None
    await results.retry(now + timedelta(minutes=2))
    assert tickets.done == [("T-C1", "close")]  # applied once
    topics = [r["topic"] for r in await pool.fetch("SELECT topic FROM outbox")]
    assert topics.count("surveys/tickets/T-C1/closed") == 1, topics
