"""SLA sweeper: 催办 reminders before the deadline, 督办 escalation once a deadline passes.

``sweep(now)`` is idempotent: each reminder/escalation is remembered against the deadline it
was made for (``reminded_due``, ``escalated_take_up_due``, ``escalated_resolve_due``), so a
deadline moved by an extension or a re-dispatch is watched again. Rows are taken in batches
with ``FOR UPDATE SKIP LOCKED``: two sweepers (or a sweeper and a handler) never collide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every
from callcenter.tickets import notifier
from callcenter.tickets import repository as repo
from callcenter.tickets.config import SLA
from callcenter.tickets.model import Action, require_aware
from callcenter.tickets.repository import TicketRepository
from callcenter.tickets.sla import Overdue, due_for_reminder, overdue
from callcenter.tickets.unit_of_work import UnitOfWork

log = get_logger("tickets.sla")
_OPEN = ", ".join(f"'{s}'" for s in repo.OPEN)
_AWAITING = ", ".join(f"'{s}'" for s in repo.AWAITING_TAKE_UP)
# the WHERE clauses repeat the partial-index predicates of migration 0002 and walk those
# indexes in order (keyset on the deadline and id), so a sweep with little to do is cheap
_REMIND_SQL = (f"SELECT * FROM tickets WHERE status IN ({_OPEN}) AND reminded_due IS DISTINCT FROM resolve_due "
               "AND remind_at <= $1 AND (remind_at, id) > ($3, $4) "
               "ORDER BY remind_at, id LIMIT $2 FOR UPDATE SKIP LOCKED")
_TAKE_UP_SQL = (f"SELECT * FROM tickets WHERE status IN ({_AWAITING}) "
                "AND escalated_take_up_due IS DISTINCT FROM take_up_due AND take_up_due < $1 "
                "AND (take_up_due, id) > ($3, $4) ORDER BY take_up_due, id LIMIT $2 FOR UPDATE SKIP LOCKED")
_RESOLVE_SQL = (f"SELECT * FROM tickets WHERE status IN ({_OPEN}) "
                "AND escalated_resolve_due IS DISTINCT FROM resolve_due AND resolve_due < $1 "
                "AND (resolve_due, id) > ($3, $4) ORDER BY resolve_due, id LIMIT $2 FOR UPDATE SKIP LOCKED")
_START = datetime(1, 1, 1, tzinfo=UTC)


@dataclass
class SweepResult:
    reminded: int = 0
    escalated: int = 0


class SlaSweeper:
    def __init__(self, uow: Callable[..., UnitOfWork], *, batch: int = 200) -> None:
        self.uow, self.batch = uow, batch

    async def sweep(self, now: datetime) -> SweepResult:
        require_aware(now, "now")
        result = SweepResult()
        async with self.uow(atomic=False) as uow:  # one transaction per batch
            result.reminded = await self._all(uow, _REMIND_SQL, "remind_at", now, self._remind)
            # a ticket late on both deadlines is escalated once, in the first pass that finds it
            result.escalated = await self._all(uow, _TAKE_UP_SQL, "take_up_due", now, self._escalate)
            result.escalated += await self._all(uow, _RESOLVE_SQL, "resolve_due", now, self._escalate)
        if result.reminded or result.escalated:
            log.info("sla_sweep", reminded=result.reminded, escalated=result.escalated, at=now.isoformat())
        return result

    async def _all(self, uow: UnitOfWork, sql: str, key: str, now: datetime, handle: Any) -> int:
        """Handle every matching row, one transaction per batch, walking the index forward."""
        done, last = 0, (_START, 0)
        while True:
            async with uow.transaction():
                rows = await uow.conn.fetch(sql, now, self.batch, *last)
                for row in rows:
                    done += await handle(uow.tickets, repo.stored(row), now)
            if len(rows) < self.batch:
                return done
            last = (rows[-1][key], rows[-1]["id"])

    @staticmethod
    async def _remind(tickets: TicketRepository, s: repo.Stored, now: datetime) -> int:
        t = s.ticket
        await tickets.set_columns(s.id, reminded_due=t.deadlines.resolve_due)
        if not due_for_reminder(t, now):
            return 0
        data = {"resolve_due": t.deadlines.resolve_due.isoformat(), "lead": t.lead_department}
        await tickets.add_note(s.id, "remind", actor=SLA, at=now, status=t.status, version=t.version,
                               reason="催办: deadline approaching", data=data)
        await notifier.notice(tickets.conn, t, "remind", actor=SLA, at=now, reason="催办: deadline approaching", data=data)
        return 1

    @staticmethod
    async def _escalate(tickets: TicketRepository, s: repo.Stored, now: datetime) -> int:
        t, d = s.ticket, s.ticket.deadlines
        late = set(overdue(t, now))
        marks: dict[str, Any] = {}
        if Overdue.TAKE_UP in late and s["escalated_take_up_due"] != d.take_up_due:
            marks["escalated_take_up_due"] = d.take_up_due
        if Overdue.RESOLVE in late and s["escalated_resolve_due"] != d.resolve_due:
            marks |= {"escalated_resolve_due": d.resolve_due, "reminded_due": d.resolve_due}
        if not marks:
            return 0
        what = " and ".join(k for k in ("take_up", "resolve") if f"escalated_{k}_due" in marks)
        await tickets.apply(s, Action.ESCALATE, SLA, now, reason=f"督办: {what} deadline passed",
                            data={"note": f"overdue: {what}"})
        await tickets.set_columns(s.id, **marks)
        return 1

    async def run(self, interval: float = 60.0) -> None:
        """Sweep forever (the plugin's background task); errors are logged, never fatal."""
        async def once() -> None:
            await self.sweep(datetime.now(UTC))

        await every(interval, once, log=log, failed="sla_sweep_failed", at_once=True)
