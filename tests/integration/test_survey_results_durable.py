"""A survey result is owed to its ticket until all of it is applied (real PostgreSQL; the ticket
service a fake that fails once, as a database blip would): the failed part and what follows is
applied again by the dialler's next rounds, never a part twice, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from surveys_support import FlakyTickets as Tickets
from surveys_support import distinct_job_ids, survey_config

from callcenter.surveys.model import Done, GiveUp, Outcome, Reason
from callcenter.surveys.results import ResultSink
from callcenter.surveys.store import SurveyStore
from callcenter.tickets.api import TicketError


async def ended_job(pool, step, answers) -> tuple[SurveyStore, object]:
    await distinct_job_ids(pool)
    now = datetime.now(UTC) - timedelta(minutes=5)
    await pool.execute(
        "INSERT INTO survey_jobs (kind, ticket_number, phone, state, max_attempts, due_at, deadline, created_at,"
        " updated_at) VALUES ('ticket', 'T-R1', '13900000001', 'pending', 2, $1, $2, $1, $1)",
        now, now + timedelta(days=3))
    store = SurveyStore(pool)
    [c] = await store.claim_many(now, "w", ["ticket"], 1)
    assert await store.finish(c, Outcome.COMPLETED, step, datetime.now(UTC), answers) is not None
    return store, c


async def owed(pool) -> int | None:
    return await pool.fetchval("SELECT result_step FROM survey_jobs WHERE ticket_number = 'T-R1'")


async def test_a_failed_reopen_is_applied_on_a_later_round_without_recording_twice(pool):
    scale = survey_config().scale_()
    good = next(lv for lv in scale.levels if not lv.bad)
    answers = {"rating": good.label, "resolved": False}  # satisfied, yet not resolved: 回访 then 重办
    _, c = await ended_job(pool, Done(), answers)
    assert await owed(pool) == 0  # owed, with the job's end
    tickets = Tickets({"reopen": ConnectionError("connection reset")})
    sink = ResultSink(pool, scale, tickets)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    await sink.attempt_done(c, Outcome.COMPLETED, Done(), answers, now)  # type: ignore[arg-type]
    assert tickets.done == [("T-R1", "survey")] and await owed(pool) == 2
    await sink.retry(now)  # too soon: the attempt's own application may still be running
    assert tickets.done == [("T-R1", "survey")]
    await sink.retry(now + timedelta(minutes=1))
    assert tickets.done == [("T-R1", "survey"), ("T-R1", "reopen")] and await owed(pool) is None
    events = await pool.fetch("SELECT topic FROM outbox")
    assert [r["topic"] for r in events].count("surveys/tickets/T-R1/bad_review") == 1, events


async def test_a_database_blip_before_anything_is_applied_is_retried_in_full(pool):
    scale = survey_config().scale_()
    _, c = await ended_job(pool, GiveUp(Reason.UNREACHABLE), {})
    tickets = Tickets({"close": OSError("server closed the connection")})
    sink = ResultSink(pool, scale, tickets)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    await sink.attempt_done(c, Outcome.NO_ANSWER, GiveUp(Reason.UNREACHABLE), {}, now)  # type: ignore[arg-type]
    assert tickets.done == [] and await owed(pool) == 1
    await sink.retry(now + timedelta(minutes=1))
    assert tickets.done == [("T-R1", "close")] and await owed(pool) is None


async def test_a_ticket_that_moved_on_ends_the_result_without_retrying(pool):
    scale = survey_config().scale_()
    answers = {"rating": scale.levels[0].label, "resolved": True}
    _, c = await ended_job(pool, Done(), answers)
    tickets = Tickets({"survey": TicketError("reopened by the department meanwhile")})
    sink = ResultSink(pool, scale, tickets)  # type: ignore[arg-type]
    await sink.attempt_done(c, Outcome.COMPLETED, Done(), answers, datetime.now(UTC))  # type: ignore[arg-type]
    assert await owed(pool) is None and tickets.done == []
