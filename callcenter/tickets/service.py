"""The ticket service: what the routes and the other features get (one plain class).

Every write is one transaction: the ticket row (locked with ``SELECT ... FOR UPDATE`` and
saved with a version check), its audit events and its outbox messages commit together or not
at all. :class:`TicketService` handles a ticket through its life (any state-machine action,
corrections in the hall, 立案 of field reports, the survey result) and reads tickets; the
other use cases are plain classes it holds, sharing its :class:`~.store.TicketStore`:
``intake`` files tickets (:mod:`.creation`), ``admin`` keeps topics, catalogue and dispatch
rules (:mod:`.admin`), ``sweeper`` runs the SLA sweep (:mod:`.sweeper`).

Used by other features: :meth:`TicketService.ivr_status` (IVR), :meth:`TicketService.board`
(supervisor board), :meth:`TicketService.record_survey` (surveys), ``intake.create_ticket``
(agent desktop).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg
import structlog

from callcenter.infra.logging import get_logger
from callcenter.tickets import catalog, hall, learned, notifier, queries
from callcenter.tickets import repository as repo
from callcenter.tickets.actors import Actor, Role, check_action, check_department, check_roles
from callcenter.tickets.admin import TicketAdmin
from callcenter.tickets.creation import TicketIntake
from callcenter.tickets.errors import FieldError, IllegalTransition, NotFound
from callcenter.tickets.model import Action, Channel, GeoPoint, TicketStatus
from callcenter.tickets.responses import ivr_status_of
from callcenter.tickets.schemas import TicketUpdate
from callcenter.tickets.sla import compute_deadlines
from callcenter.tickets.store import ROUTER, TicketStore, utcnow
from callcenter.tickets.sweeper import SlaSweeper

log = get_logger("tickets")


class TicketService:
    def __init__(self, store: TicketStore) -> None:
        self.store = store
        self.intake = TicketIntake(store)
        self.admin = TicketAdmin(store)
        self.sweeper = SlaSweeper(store)

    @classmethod
    async def open(cls, pool: asyncpg.Pool, **kwargs: Any) -> TicketService:
        """Upsert the department catalogue, load dispatch rules and topics, build the service
        (``kwargs``: the :class:`TicketStore` settings, e.g. ``prefix``)."""
        async with pool.acquire() as conn, conn.transaction():
            await catalog.sync_departments(conn)
            rules = await catalog.load_rules(conn)
        return cls(TicketStore(pool, rules, **kwargs))

    # ------------------------------------------------------------------ handling

    async def act(self, number: str, action: Action | str, *, actor: str, at: datetime | None = None,
                  reason: str | None = None, version: int | None = None, **data: Any) -> repo.Stored:
        """Apply one state-machine action (派单, 签收, 办结, 退单, 延期, 督办, 回访, 并单, ...)."""
        who, action, at, store = Actor.parse(actor), Action(action), at or utcnow(), self.store
        if action in (Action.DISPATCH, Action.REDISPATCH):
            store.check_departments(data.get("lead"), data.get("assisting"))
        with structlog.contextvars.bound_contextvars(ticket_id=number):
            async with store.pool.acquire() as conn, conn.transaction():
                s = await store.lock(conn, number, version)
                check_action(who, action, s.ticket.lead_department)
                if action is Action.DISPATCH and s.ticket.channel is Channel.FIELD_REPORT and not s["verified_at"]:
                    raise IllegalTransition(f"field report {number} must be verified (立案) before dispatch")
                if action is Action.MERGE:
                    await self._check_merge_target(conn, number, data.get("merged_into"))
                teaches = learned.source_of(action, s.ticket.objection) if str(who) != ROUTER else None
                await store.apply(conn, s, action, str(who), at, reason, data)
                if action is Action.MERGE:
                    await store.link(conn, data["merged_into"], number, str(who), at)
            log.info("ticket_transition", action=action.value, status=s.ticket.status.value, actor=str(who))
        if teaches:  # a person chose the unit: a training example for the dispatch classifier
            await learned.learn(store.dispatch, s.ticket, teaches, str(who))
        if action is Action.RESOLVE:  # a master ticket's incident (热点诉求) closes with it
            await learned.resolved(store.dispatch, s.ticket)
        if action is Action.MERGE:  # 并单 into an incident's master ticket: the agent confirmed the link
            await learned.merged(store.dispatch, number, data["merged_into"])
        return s

    async def _check_merge_target(self, conn: asyncpg.Connection, number: str, target: Any) -> None:
        other = await repo.get(conn, target) if isinstance(target, str) else None
        if other is None:
            raise FieldError("into", f"no ticket {target}")
        if other.ticket.merged_into or not other.ticket.is_open or target == number:
            raise FieldError("into", f"ticket {target} is not an open ticket to merge into")

    async def record_survey(self, number: str, rating: str, actor: str, at: datetime | None = None,
                            comment: str | None = None) -> repo.Stored:
        """回访 result from the survey scheduler; a bad rating reopens the ticket (重办)."""
        extra = {"comment": comment} if comment else {}
        return await self.act(number, Action.SURVEY, actor=actor, at=at, rating=rating, **extra)

    async def update(self, number: str, patch: TicketUpdate, *, actor: str,
                     at: datetime | None = None) -> repo.Stored:
        """Correct a ticket still in the hall (accepted or returned); one audit event."""
        who, at, store = Actor.parse(actor), at or utcnow(), self.store
        check_roles(who, "updating a ticket", Role.AGENT, Role.SUPERVISOR)
        changes = patch.changes()
        if not changes:
            raise FieldError("body", "nothing to change")
        store.check_refs(patch)
        await store.check_calls(who, patch.add_call_ids)
        async with store.pool.acquire() as conn, conn.transaction():
            s = await store.lock(conn, number, patch.version)
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
                new.deadlines = compute_deadlines(new.kind, new.urgency, new.created_at, policy=store.policy)
            await repo.save(conn, s.id, new, t.version)
            await repo.set_columns(conn, s.id, tokens=store.tokens(new))
            shown = {k: (v.value if hasattr(v, "value") else v) for k, v in changes.items() if k != "location"}
            await repo.add_note(conn, s.id, "update", actor=str(who), at=at, status=new.status,
                                version=new.version, data={"changed": sorted(changes), "values": shown})
            await notifier.notice(conn, new, "updated", actor=str(who), at=at, data={"changed": sorted(changes)})
            return await repo.get_by_id(conn, s.id)

    async def verify_field_report(self, number: str, *, actor: str, lead: str | None = None,
                                  assisting: list[str] = (), version: int | None = None,
                                  at: datetime | None = None) -> repo.Stored:
        """立案: the hall accepts a collector's report, then it is dispatched like any ticket
        (to ``lead`` if given, else by the routing rules; stays in the hall when unsure)."""
        who, at, store = Actor.parse(actor), at or utcnow(), self.store
        check_roles(who, "verifying a field report", Role.SUPERVISOR, Role.AGENT)
        store.check_departments(lead, assisting)
        async with store.pool.acquire() as conn, conn.transaction():
            s = await store.lock(conn, number, version)
            t = s.ticket
            if t.channel is not Channel.FIELD_REPORT or t.status is not TicketStatus.ACCEPTED or s["verified_at"]:
                raise IllegalTransition(f"ticket {number} is not a field report waiting for verification")
            decision = None if lead else store.rules.route_ticket(t)
            await repo.set_columns(conn, s.id, verified_at=at, verified_by=str(who),
                                   routing=decision.doc() if decision else None)
            await repo.add_note(conn, s.id, "verify", actor=str(who), at=at, status=t.status, version=t.version)
            await notifier.notice(conn, t, "verify", actor=str(who), at=at)
            if lead or (decision and not decision.needs_human):
                data = {"lead": lead, "assisting": list(assisting)} if lead else \
                    {"lead": decision.lead, "assisting": list(decision.assisting)}
                await store.apply(conn, s, Action.DISPATCH, str(who) if lead else ROUTER, at, data=data)
            log.info("field_report_verified", ticket_id=number, lead=s.ticket.lead_department)
            return await repo.get_by_id(conn, s.id)

    # ------------------------------------------------------------------ reads

    async def get(self, number: str) -> repo.Stored:
        full = self.store.normalise_number(number)
        async with self.store.pool.acquire() as conn:
            s = await repo.get(conn, full) if full else None
        if s is None:
            raise NotFound(f"no ticket {number}")
        return s

    async def ivr_status(self, number: str) -> str:
        """Status word for the IVR "check my ticket" (see :func:`.responses.ivr_status_of`), ""
        when not found; a merged ticket answers with the status of the ticket it was merged into."""
        full = self.store.normalise_number(number)
        if full is None:
            return ""
        async with self.store.pool.acquire() as conn:
            for _ in range(4):
                s = await repo.get(conn, full)
                if s is None:
                    return ""
                if not s.ticket.merged_into:
                    break
                full = s.ticket.merged_into
        return ivr_status_of(s.ticket)

    async def attachments(self, number: str) -> list[dict[str, Any]]:
        s = await self.get(number)
        async with self.store.pool.acquire() as conn:
            return await repo.attachments(conn, s.id)

    async def search(self, f: queries.SearchFilter, **page: Any) -> queries.Page:
        async with self.store.pool.acquire() as conn:
            return await queries.search(conn, f, **page)

    async def unverified_field_reports(self, **page: Any) -> queries.Page:
        return await self.search(queries.SearchFilter(unverified=True), **page)

    async def queue(self, department: str, *, actor: str, **page: Any) -> queries.Page:
        """Open tickets of a department (lead and/or assisting), earliest deadline first."""
        if department not in self.store.rules.departments:
            raise NotFound(f"no department {department!r}")
        check_department(Actor.parse(actor), department)
        async with self.store.pool.acquire() as conn:
            return await queries.department_queue(conn, department, **page)

    async def hall_queue(self, *, actor: str, limit: int = queries.MAX_LIMIT
                         ) -> tuple[list[tuple[repo.Stored, hall.HallEntry]], int]:
        """The dispatch desk (派单台): the tickets waiting for the hall's dispatcher, each with why it
        is there and its stored candidates, in the desk's order (:mod:`.hall`); and how many wait."""
        check_roles(Actor.parse(actor), "the dispatch desk", Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM)
        async with self.store.pool.acquire() as conn:
            rows, total = await queries.hall_queue(conn, limit=limit)
        items = []
        for r in rows:
            s = repo.stored(r)
            event = hall.HallEvent(r["hall_action"], r["hall_at"], r["hall_actor"], r["hall_reason"],
                                   r["hall_data"]) if r["hall_action"] else None
            items.append((s, hall.entry(s.ticket, routing=s["routing"], verified_at=s["verified_at"], event=event)))
        items.sort(key=lambda item: hall.order_key(item[1]))
        return items, total

    async def events(self, number: str, **page: Any) -> tuple[list[dict[str, Any]], str | None]:
        """The audit trail of a ticket, oldest first."""
        s = await self.get(number)
        async with self.store.pool.acquire() as conn:
            return await queries.events(conn, s.id, **page)

    async def board(self, at: datetime | None = None) -> dict[str, Any]:
        """Open tickets by status and lead department, overdue and escalated counts (the board)."""
        async with self.store.pool.acquire() as conn:
            return await queries.board_stats(conn, at or utcnow())
