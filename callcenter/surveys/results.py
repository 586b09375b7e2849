"""Where a finished callback goes: the ticket (through the ticket service) and an MQTT event.

- reached, rated: 回访 recorded on the ticket (`record_survey`); a bad rating reopens it (重办)
  inside the ticket service; "not resolved" with an acceptable rating reopens it too;
- reached without a valid rating: closed with "回访无有效回答" (reopened when 未解决);
- unreachable after the attempts, or no callback due (匿名, 拒绝, 退订, 黑名单): closed with
  the reason.

Every result is also in `survey_jobs` and published as `surveys/tickets/<number>/<result>`
(e.g. `bad_review`), so nothing depends on the ticket service being there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import asyncpg

from callcenter.infra.logging import get_logger
from callcenter.infra.outbox import write_with_event
from callcenter.surveys.model import Done, GiveUp, Outcome, Reason, Retry, is_bad_review
from callcenter.surveys.store import Claimed
from callcenter.tickets.api import SatisfactionScale, TicketError

log = get_logger("surveys.results")

ACTOR = "system:survey"
NO_VALID = "回访无有效回答"
NOT_RESOLVED = "回访未解决"


class Tickets(Protocol):
    """What the surveys need of the ticket service (callcenter.tickets.service.TicketService)."""

    async def record_survey(self, number: str, rating: str, actor: str, at: datetime | None = None,
                            comment: str | None = None) -> Any: ...

    async def act(self, number: str, action: Any, *, actor: str, at: datetime | None = None,
                  reason: str | None = None, version: int | None = None, **data: Any) -> Any: ...


def comment(answers: dict[str, Any]) -> str | None:
    """The note the department sees with a 重办: where the citizen's recorded comment is (its
    transcript once a transcriber is wired to recordings)."""
    name, text = answers.get("comment_recording"), answers.get("comment")
    if text:  # typed by the agent of an agent-driven callback
        return f"人工回访意见: {text}"
    return f"回访留言录音: {name}" if name else None


# what is left of a result is kept in survey_jobs.result_step (migrations/0019): set to 0 with the
# job's end (`SurveyStore.finish`), 1 once the event is written, 2 once the ticket's first action is
# done, NULL when all is; `retry` takes up what a failure left, from where it stopped
STEP = "UPDATE survey_jobs SET result_step = $2 WHERE id = $1"
OWED = """
UPDATE survey_jobs SET updated_at = $1 WHERE id IN (
    SELECT id FROM survey_jobs WHERE result_step IS NOT NULL AND updated_at < $2 ORDER BY id LIMIT 50
    FOR UPDATE SKIP LOCKED)
RETURNING id, ticket_number, department, state, reason, result, result_step
"""
RETRY_AFTER = timedelta(seconds=30)  # an attempt's own application is done well before


class ResultSink:
    def __init__(self, pool: asyncpg.Pool, scale: SatisfactionScale, tickets: Tickets | None = None) -> None:
        self.pool, self.scale, self.tickets = pool, scale, tickets

    async def attempt_done(self, c: Claimed, outcome: Outcome, step: Done | Retry | GiveUp,
                           answers: dict[str, Any], now: datetime) -> None:
        if c.kind != "ticket" or not c.ticket_number or isinstance(step, Retry):
            return
        await self._apply(c.job_id, c.ticket_number, c.department, step, answers, now, 0)

    async def retry(self, now: datetime) -> None:
        """Apply the results a failure left owed (a database or ticket-service blip), from where
        each stopped; a row is taken by one worker at a time (its `updated_at` moves on)."""
        for r in await self.pool.fetch(OWED, now, now - RETRY_AFTER):
            step = Done() if r["state"] == "done" else GiveUp(Reason(r["reason"]))
            log.info("survey_result_retried", job_id=r["id"], ticket_id=r["ticket_number"], step=r["result_step"])
            await self._apply(r["id"], r["ticket_number"], r["department"], step, r["result"] or {}, now,
                              r["result_step"])

    async def _apply(self, job_id: int, number: str, department: str | None, step: Done | GiveUp,
                     answers: dict[str, Any], now: datetime, done: int) -> None:
        """The event, then the ticket's actions, each recorded as done; a refusal by the ticket
        service (it moved on meanwhile) ends it, any other failure leaves the rest for `retry`."""
        topic, payload, actions = self._plan(job_id, number, department, step, answers, now)
        try:
            if done == 0:
                await write_with_event(self.pool, [STEP], [job_id, 1], topic, payload)
                done = 1
            for i, action in enumerate(actions[done - 1:] if self.tickets is not None else [], start=done):
                await action()
                await self.pool.execute(STEP, job_id, i + 1)
        except TicketError as exc:  # the ticket moved on meanwhile: the result stays in survey_jobs
            log.warning("survey_ticket_update_failed", ticket_id=number, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - kept owed in survey_jobs; `retry` goes on from here
            log.warning("survey_result_owed", ticket_id=number, job_id=job_id, error=repr(exc))
            return
        await self.pool.execute(STEP, job_id, None)

    def _plan(self, job_id: int, number: str, department: str | None, step: Done | GiveUp,
              answers: dict[str, Any], now: datetime) -> tuple[str, dict[str, Any], list[Callable[[], Awaitable[Any]]]]:
        """The event and the ticket actions a result comes to, in order."""
        t = self.tickets

        def act(action: str, reason: str) -> Callable[[], Awaitable[Any]]:
            return lambda: t.act(number, action, actor=ACTOR, at=now, reason=reason)  # type: ignore[union-attr]

        if isinstance(step, GiveUp):
            return (f"surveys/tickets/{number}/closed", {"ticket": number, "reason": step.reason.value,
                                                         "at": now.isoformat()}, [act("close", step.reason.value)])
        level = self.scale.by_label(answers["rating"]) if answers.get("rating") else None
        resolved = answers.get("resolved")
        result = "bad_review" if is_bad_review(level, resolved) else ("rated" if level else "no_valid_answer")
        payload = {"ticket": number, "job_id": job_id, "rating": level.label if level else None,
                   "resolved": resolved, "department": department,
                   "comment_recording": answers.get("comment_recording"), "at": now.isoformat()}
        if level is not None:
            label = level.label
            actions = [lambda: t.record_survey(number, label, ACTOR, now, comment(answers))]  # type: ignore[union-attr]
            if resolved is False and not level.bad:
                actions.append(act("reopen", NOT_RESOLVED))
        else:
            actions = [act("close", NOT_RESOLVED if resolved is False else NO_VALID)]
            if resolved is False:
                actions.append(act("reopen", NOT_RESOLVED))
        return f"surveys/tickets/{number}/{result}", payload, actions

    async def closed(self, job_id: int, number: str, reason: str, now: datetime) -> None:
        """No survey result (no callback due): close the ticket (归档) with the reason, owed in
        survey_jobs like an attempt's result until it is applied (`retry` takes up a failure)."""
        await self._apply(job_id, number, None, GiveUp(Reason(reason)), {}, now, 0)
