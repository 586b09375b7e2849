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

from datetime import datetime
from typing import Any, Protocol

import asyncpg

from callcenter.infra.logging import get_logger
from callcenter.infra.outbox import write_with_event
from callcenter.surveys.model import Done, GiveUp, Outcome, Retry, is_bad_review
from callcenter.surveys.store import Claimed
from callcenter.tickets.api import SatisfactionScale

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


class ResultSink:
    def __init__(self, pool: asyncpg.Pool, scale: SatisfactionScale, tickets: Tickets | None = None) -> None:
        self.pool, self.scale, self.tickets = pool, scale, tickets

    async def attempt_done(self, c: Claimed, outcome: Outcome, step: Done | Retry | GiveUp,
                           answers: dict[str, Any], now: datetime) -> None:
        if c.kind != "ticket" or not c.ticket_number or isinstance(step, Retry):
            return
        if isinstance(step, GiveUp):
            await self.closed(c.ticket_number, step.reason.value, now)
            return
        level = self.scale.by_label(answers["rating"]) if answers.get("rating") else None
        resolved = answers.get("resolved")
        bad = is_bad_review(level, resolved)
        result = "bad_review" if bad else ("rated" if level else "no_valid_answer")
        await write_with_event(self.pool, [], [], f"surveys/tickets/{c.ticket_number}/{result}", {
            "ticket": c.ticket_number, "job_id": c.job_id, "rating": level.label if level else None,
            "resolved": resolved, "department": c.department, "comment_recording": answers.get("comment_recording"),
            "at": now.isoformat()})
        if self.tickets is None:
            return
        try:
            if level is not None:
                await self.tickets.record_survey(c.ticket_number, level.label, ACTOR, now, comment(answers))
                if resolved is False and not level.bad:
                    await self.tickets.act(c.ticket_number, "reopen", actor=ACTOR, at=now, reason=NOT_RESOLVED)
            else:
                await self.tickets.act(c.ticket_number, "close", actor=ACTOR, at=now,
                                       reason=NOT_RESOLVED if resolved is False else NO_VALID)
                if resolved is False:
                    await self.tickets.act(c.ticket_number, "reopen", actor=ACTOR, at=now, reason=NOT_RESOLVED)
        except Exception as exc:  # the ticket moved on meanwhile: the result stays in survey_jobs
            log.warning("survey_ticket_update_failed", ticket_id=c.ticket_number, error=str(exc))

    async def closed(self, number: str, reason: str, now: datetime) -> None:
        """No survey result: close the ticket (归档) with the reason."""
        await write_with_event(self.pool, [], [], f"surveys/tickets/{number}/closed",
                               {"ticket": number, "reason": reason, "at": now.isoformat()})
        if self.tickets is None:
            return
        try:
            await self.tickets.act(number, "close", actor=ACTOR, at=now, reason=reason)
        except Exception as exc:
            log.warning("survey_ticket_close_failed", ticket_id=number, error=str(exc))
