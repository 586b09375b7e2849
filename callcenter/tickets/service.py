"""Ticket use cases: the service object other features get as ``ctx.services["tickets"]``.

Every write is one transaction: the ticket row (locked with ``SELECT ... FOR UPDATE`` and
saved with a version check), its audit events and its outbox messages commit together or not
at all. Used by other features: :meth:`TicketService.create_ticket` (agent desktop),
:meth:`TicketService.ivr_status` (IVR), :meth:`TicketService.record_survey` (surveys).
Creation lives in :mod:`.creation`, reads in :mod:`.reads`, hall/admin use cases in
:mod:`.admin`, the SLA sweep in :mod:`.sweeper`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg
import structlog

from callcenter.infra.logging import get_logger
from callcenter.tickets import catalog, notifier
from callcenter.tickets import repository as repo
from callcenter.tickets.actors import Actor, Role, check_action, check_roles
from callcenter.tickets.admin import AdminMixin
from callcenter.tickets.core import Created, utcnow
from callcenter.tickets.creation import CreateMixin
from callcenter.tickets.errors import FieldError, IllegalTransition
from callcenter.tickets.model import Action, Channel, GeoPoint, TicketStatus
from callcenter.tickets.reads import ReadMixin
from callcenter.tickets.schemas import TicketUpdate
from callcenter.tickets.sla import compute_deadlines
from callcenter.tickets.sweeper import SlaSweeper, SweepResult

log = get_logger("tickets")
__all__ = ["Created", "TicketService"]


class TicketService(CreateMixin, ReadMixin, AdminMixin):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sweeper = SlaSweeper(self)

    @classmethod
    async def open(cls, pool: asyncpg.Pool, **kwargs: Any) -> TicketService:
        """Upsert the department catalogue, load dispatch rules and topics, build the service."""
        async with pool.acquire() as conn, conn.transaction():
            await catalog.sync_departments(conn)
            rules = await catalog.load_rules(conn)
        return cls(pool, rules, **kwargs)

    # ------------------------------------------------------------------ transitions

    async def act(self, number: str, action: Action | str, *, actor: str, at: datetime | None = None,
                  reason: str | None = None, version: int | None = None, **data: Any) -> repo.Stored:
        """Apply one state-machine action (all named use cases below go through here)."""
        who, action, at = Actor.parse(actor), Action(action), at or utcnow()
        if action in (Action.DISPATCH, Action.REDISPATCH):
            self._department("lead", data.get("lead"))
            for code in data.get("assisting") or ():
                self._department("assisting", code)
        with structlog.contextvars.bound_contextvars(ticket_id=number):
            async with self.pool.acquire() as conn, conn.transaction():
                s = await self._locked(conn, number, version)
                check_action(who, action, s.ticket.lead_department)
                if action is Action.DISPATCH and s.ticket.channel is Channel.FIELD_REPORT and not s["verified_at"]:
                    raise IllegalTransition(f"field report {number} must be verified (立案) before dispatch")
                if action is Action.MERGE:
                    await self._check_merge_target(conn, number, data.get("merged_into"))
                await self._apply(conn, s, action, str(who), at, reason, data)
                if action is Action.MERGE:
                    await self._link(conn, data["merged_into"], number, str(who), at)
            log.info("ticket_transition", action=action.value, status=s.ticket.status.value, actor=str(who))
        return s

    async def _check_merge_target(self, conn: asyncpg.Connection, number: str, target: Any) -> None:
        other = await repo.get(conn, target) if isinstance(target, str) else None
        if other is None:
            raise FieldError("into", f"no ticket {target}")
        if other.ticket.merged_into or not other.ticket.is_open or target == number:
            raise FieldError("into", f"ticket {target} is not an open ticket to merge into")

    async def dispatch(self, number: str, lead: str, assisting: list[str] = (), **kw: Any) -> repo.Stored:
        return await self.act(number, Action.DISPATCH, lead=lead, assisting=list(assisting), **kw)

    async def redispatch(self, number: str, lead: str, assisting: list[str] = (), **kw: Any) -> repo.Stored:
        return await self.act(number, Action.REDISPATCH, lead=lead, assisting=list(assisting), **kw)

    async def acknowledge(self, number: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.ACKNOWLEDGE, **kw)

    async def start(self, number: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.START, **kw)

    async def resolve(self, number: str, reply: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.RESOLVE, reply=reply, **kw)

    async def return_ticket(self, number: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.RETURN, **kw)

    async def object(self, number: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.OBJECT, **kw)

    async def request_extension(self, number: str, days: int, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.REQUEST_EXTENSION, days=days, **kw)

    async def approve_extension(self, number: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.APPROVE_EXTENSION, **kw)

    async def deny_extension(self, number: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.DENY_EXTENSION, **kw)

    async def escalate(self, number: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.ESCALATE, **kw)

    async def survey(self, number: str, rating: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.SURVEY, rating=rating, **kw)

    async def reopen(self, number: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.REOPEN, **kw)

    async def close(self, number: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.CLOSE, **kw)

    async def merge(self, number: str, into: str, **kw: Any) -> repo.Stored:
        return await self.act(number, Action.MERGE, merged_into=into, **kw)

    async def record_survey(self, number: str, rating: str, actor: str, at: datetime | None = None,
                            comment: str | None = None) -> repo.Stored:
        """回访 result from the survey scheduler; a bad rating reopens the ticket (重办)."""
        extra = {"comment": comment} if comment else {}
        return await self.act(number, Action.SURVEY, actor=actor, at=at, rating=rating, **extra)

    # ------------------------------------------------------------------ update

    async def update(self, number: str, patch: TicketUpdate, *, actor: str,
                     at: datetime | None = None) -> repo.Stored:
        """Correct a ticket still in the hall (accepted or returned); one audit event."""
        who, at = Actor.parse(actor), at or utcnow()
        check_roles(who, "updating a ticket", Role.AGENT, Role.SUPERVISOR)
        changes = patch.changes()
        if not changes:
            raise FieldError("body", "nothing to change")
        self._check_refs(patch)
        async with self.pool.acquire() as conn, conn.transaction():
            s = await self._locked(conn, number, patch.version)
            t = s.ticket
            if t.status not in (TicketStatus.ACCEPTED, TicketStatus.RETURNED):
                raise IllegalTransition(f"ticket {number} is '{t.status.value}': only tickets in the hall "
                                        "(accepted, returned) can be edited")
            fields = {k: v for k, v in changes.items() if k not in ("add_call_ids", "location")}
            if "location" in changes:
                fields["location"] = GeoPoint(patch.location.lat, patch.location.lon) if patch.location else None
            if "topics" in fields:
                fields["topics"] = tuple(fields["topics"] or ())
            fields["call_ids"] = tuple(dict.fromkeys((*t.call_ids, *patch.add_call_ids)))
            new = replace(t, **fields, version=t.version + 1, updated_at=at)
            if "kind" in changes or "urgency" in changes:
                new.deadlines = compute_deadlines(new.kind, new.urgency, new.created_at, policy=self.policy)
            await repo.save(conn, s.id, new, t.version)
            await repo.set_columns(conn, s.id, tokens=self.tokens(new))
            shown = {k: (v.value if hasattr(v, "value") else v) for k, v in changes.items() if k != "location"}
            await repo.add_note(conn, s.id, "update", actor=str(who), at=at, status=new.status,
                                version=new.version, data={"changed": sorted(changes), "values": shown})
            await notifier.notice(conn, new, "updated", actor=str(who), at=at, data={"changed": sorted(changes)})
            return await repo.get_by_id(conn, s.id)

    async def sweep(self, now: datetime) -> SweepResult:
        """SLA sweep at ``now``: 催办 reminders and 督办 escalations of overdue tickets."""
        return await self.sweeper.sweep(now)

    async def run_sweeper(self, interval: float = 60.0) -> None:
        await self.sweeper.run(interval, refresh=self.refresh_topics)
