"""The ticket use cases, in one place: handle an action, file a ticket, correct it in the hall,
立案 a field report, record a survey, and the reads.

Each use case takes a unit of work (:mod:`.unit_of_work`: one connection, its transaction, the
repository of ticket rows, the dispatch checks): ``async with self.uow() as uow:`` commits the
ticket row (locked with ``SELECT ... FOR UPDATE``, saved with a version check), its audit events
and its outbox messages together, or none of them. Where a ticket goes is asked of the dispatch
feature through :class:`~.ports.Dispatch`, which is also told what people and tickets did, after
the ticket's own write. The SLA sweep is :mod:`.sweeper`.

A request with an ``idempotency_key`` is filed at most once: a retry (same key, same body)
returns the first ticket; the same key with another body is refused (409). Racing retries wait
on a lock of their key and replay, so no retry takes (and burns) a ticket number.

Used by other features: :meth:`TicketService.ivr_status` (IVR), :meth:`TicketService.board`
(supervisor board), :meth:`TicketService.record_survey` (surveys), :meth:`TicketService.create_ticket`
(agent desktop), :meth:`TicketService.open_counts_by_department` (dispatch's department list).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog

from callcenter.calls.api import bridged_to
from callcenter.infra.logging import get_logger
from callcenter.infra.words import Cuts
from callcenter.tickets import filing, hall, lists, notifier
from callcenter.tickets.actors import Actor, Role, check_action, check_calls, check_department
from callcenter.tickets.config import ROUTER, TicketConfig
from callcenter.tickets.dedup import TicketSummary, find_duplicate
from callcenter.tickets.errors import FieldError, IdempotencyConflict, IllegalTransition, NotFound
from callcenter.tickets.model import Action, Channel, GeoPoint, Ticket, TicketStatus
from callcenter.tickets.ports import Decision, Dispatch, Transcripts
from callcenter.tickets.repository import Stored, search_tokens, stored
from callcenter.tickets.responses import ivr_status_of
from callcenter.tickets.schemas import TicketCreate, TicketUpdate
from callcenter.tickets.sla import compute_deadlines, local_date
from callcenter.tickets.sweeper import SlaSweeper
from callcenter.tickets.unit_of_work import UnitOfWork

log = get_logger("tickets")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Created:
    stored: Stored
    created: bool  # False: an earlier request with the same idempotency key made it
    routing: Decision | None = None

    @property
    def number(self) -> str:
        return self.stored.ticket.number

    @property
    def ticket(self) -> Ticket:
        return self.stored.ticket


def teaches(action: Action, objection: bool) -> str | None:
    """How a person's decision teaches the dispatch classifier (None: this action teaches nothing)."""
    if action is Action.DISPATCH:
        return "human_dispatch"
    if action is Action.REDISPATCH:
        return "objection" if objection else "reassignment"
    return None


class TicketService:
    def __init__(self, pool: asyncpg.Pool, dispatch: Dispatch, config: TicketConfig | None = None, *,
                 transcripts: Transcripts | None = None) -> None:
        self.pool, self.dispatch, self.config = pool, dispatch, config or TicketConfig()
        self.transcripts = transcripts  # live transcription's stored text, when the app has it
        self.sweeper = SlaSweeper(self.uow)  # 催办 and 督办 (the plugin runs it every minute)

    def uow(self, *, atomic: bool = True) -> UnitOfWork:
        return UnitOfWork(self.pool, self.dispatch, self.config, atomic=atomic)

    # ------------------------------------------------------------------ handling

    async def act(self, number: str, action: Action | str, *, actor: str, at: datetime | None = None,
                  reason: str | None = None, version: int | None = None, **data: Any) -> Stored:
        """Apply one state-machine action (派单, 签收, 办结, 退单, 延期, 督办, 回访, 并单, ...)."""
        who, action, at = Actor.parse(actor), Action(action), at or utcnow()
        with structlog.contextvars.bound_contextvars(ticket_id=number):
            async with self.uow() as uow:
                if action in (Action.DISPATCH, Action.REDISPATCH):
                    uow.check_departments(data.get("lead"), data.get("assisting"))
                if action is Action.MERGE:  # both rows locked, in one order, before the target is checked
                    s, target = await uow.tickets.lock_with(number, version, data.get("merged_into"))
                else:
                    s = await uow.tickets.lock(number, version)
                check_action(who, action, s.ticket.lead_department)
                if action is Action.DISPATCH and s.ticket.channel is Channel.FIELD_REPORT and not s["verified_at"]:
                    raise IllegalTransition(f"field report {number} must be verified (立案) before dispatch")
                if action is Action.MERGE:
                    self._check_merge_target(s, target, data.get("merged_into"))
                source = teaches(action, s.ticket.objection) if str(who) != ROUTER else None
                await uow.tickets.apply(s, action, str(who), at, reason, data)
                if action is Action.MERGE:
                    await uow.tickets.link(data["merged_into"], number, str(who), at)
            log.info("ticket_transition", action=action.value, status=s.ticket.status.value, actor=str(who))
        if source:  # a person chose the unit: a training example for the dispatch classifier
            await self.dispatch.chosen(s.ticket, source, str(who))
        if action is Action.RESOLVE:  # a master ticket's incident (热点诉求) closes with it
            await self.dispatch.resolved(s.ticket)
        if action is Action.MERGE:  # 并单 into an incident's master ticket: the agent confirmed the link
            await self.dispatch.merged(number, data["merged_into"])
        return s

    @staticmethod
    def _check_merge_target(s: Stored, other: Stored | None, target: Any) -> None:
        """The target, as locked by this transaction: open and not merged itself (checked after
        the lock, so a ticket closed or merged meanwhile is seen as it is now)."""
        if other is None:
            raise FieldError("into", f"no ticket {target}")
        if other.ticket.merged_into or not other.ticket.is_open or other.id == s.id:
            raise FieldError("into", f"ticket {target} is not an open ticket to merge into")

    async def record_survey(self, number: str, rating: str, actor: str, at: datetime | None = None,
                            comment: str | None = None) -> Stored:
        """回访 result from the survey scheduler; a bad rating reopens the ticket (重办)."""
        extra = {"comment": comment} if comment else {}
        return await self.act(number, Action.SURVEY, actor=actor, at=at, rating=rating, **extra)

    # ------------------------------------------------------------------ filing

    async def create_ticket(self, *, actor: str, at: datetime | None = None, **fields: Any) -> Created:
        """File from keyword fields (agent desktop: ``call_ids``, ``transcript``, ...), validated
        like ``POST /api/tickets``; raises pydantic ``ValidationError`` or a ``TicketError``."""
        return await self.create(actor, TicketCreate.model_validate(fields), at=at)

    async def create(self, actor: str, body: filing.Body, *, at: datetime | None = None) -> Created:
        """An agent's ticket (``POST /api/tickets``) or a field collector's report (``POST /api/field-reports``):
        validated, numbered, deadlines set, duplicates merged (并单), routed."""
        who, at, key = Actor.parse(actor), at or utcnow(), body.idempotency_key
        async with self.uow(atomic=False) as uow:  # one connection for the whole filing
            uow.check_refs(body)
            if isinstance(body, TicketCreate):
                await self._check_calls(uow, who, body.call_ids)
            digest = filing.digest_of(who, body) if key else None
            body = await self._with_transcript(body, uow)  # after the digest: a retry replays, whatever was said since
            if not key:
                created = await self._number_and_write(uow, who, body, at, None, None)
            else:
                async with uow.tickets.idempotency_lock(key):  # retries wait here, then replay
                    created = (await self._replay(uow, key, digest)
                               or await self._number_and_write(uow, who, body, at, key, digest))
        if created.created:  # after the write, on another connection: the dispatch feature's part
            if isinstance(body, TicketCreate) and body.lead:
                await self.dispatch.chosen(created.ticket, "human_dispatch", str(who))
            await self.dispatch.filed(created.ticket, created.routing)
        return created

    async def _check_calls(self, uow: UnitOfWork, who: Actor, call_ids: Any) -> None:
        """403 when an agent names a call that was not bridged to them (the hall names any)."""
        if call_ids and who.role is Role.AGENT:
            check_calls(who, tuple(call_ids), await bridged_to(uow.conn, who.ident, list(call_ids)))

    async def _with_transcript(self, body: filing.Body, uow: UnitOfWork) -> filing.Body:
        """A ticket filed from calls without a transcript gets the calls' stored one (masked), so
        that routing reads what the citizen said; never fails the filing."""
        if not isinstance(body, TicketCreate) or not body.call_ids or body.transcript or self.transcripts is None:
            return body
        try:
            text = await self.transcripts(uow.conn, body.call_ids)
        except Exception:  # noqa: BLE001 - the ticket is filed without it
            log.exception("ticket_transcript_failed", calls=len(body.call_ids))
            return body
        limit = next((m.max_length for m in TicketCreate.model_fields["transcript"].metadata
                      if hasattr(m, "max_length")), 20000)
        return body.model_copy(update={"transcript": text[:limit]}) if text else body

    @staticmethod
    async def _replay(uow: UnitOfWork, key: str, digest: str | None) -> Created | None:
        s = await uow.tickets.by_idempotency_key(key)
        if s is None:
            return None
        if s["idempotency_hash"] != digest:
            raise IdempotencyConflict(f"idempotency key already used for a different request "
                                      f"(ticket {s.ticket.number})")
        return Created(s, created=False)

    async def _number_and_write(self, uow: UnitOfWork, who: Actor, body: filing.Body, at: datetime,
                                key: str | None, digest: str | None) -> Created:
        # outside any transaction: the day counter row stays locked for one statement only
        number, candidates = await uow.tickets.number_and_candidates(local_date(at), filing.probe(body, at))
        cfg, row = self.config, None
        duplicate = None if getattr(body, "answer_on_spot", None) else find_duplicate(
            filing.ticket_of(body, number, at, cfg), candidates, window=cfg.dedup_window, radius_m=cfg.radius_m)
        if duplicate is not None:
            async with uow.transaction():  # the earlier ticket locked first: it may have closed since the probe
                if await uow.tickets.open_to_merge(duplicate.number):
                    t, decision, row = await self._write(uow, who, body, number, at, duplicate, key, digest)
                    if row is not None:
                        await uow.tickets.link(duplicate.number, t.number, str(who), at)
                else:
                    duplicate = None
        if duplicate is None:  # one statement, atomic on its own
            t, decision, row = await self._write(uow, who, body, number, at, None, key, digest)
        if row is None:  # the same key written outside the lock (cannot happen through here)
            replayed = await self._replay(uow, key or "", digest)
            assert replayed is not None
            return replayed
        log.info("ticket_created", ticket_id=t.number, status=t.status.value, lead=t.lead_department,
                 merged_into=t.merged_into, channel=t.channel.value)
        return Created(Stored(row["id"], t, row), created=True, routing=decision)

    async def _write(self, uow: UnitOfWork, who: Actor, body: filing.Body, number: str, at: datetime,
                     duplicate: TicketSummary | None, key: str | None, digest: str | None
                     ) -> tuple[Ticket, Decision | None, asyncpg.Record | None]:
        """Insert the new ticket (merged into ``duplicate``, else routed) with its first actions."""
        t, actor = filing.ticket_of(body, number, at, self.config), str(who)
        cuts: Cuts = {}  # jieba's cuts, shared by the routing and the search words
        decision = self.dispatch.route(t, cuts) if filing.needs_routing(body, duplicate) else None
        events = filing.first_actions(t, body, actor, at, self.config, duplicate, decision)
        write = filing.write_of(t, body, actor, at, events, decision)
        write |= dict(tokens=search_tokens(t, cuts), idempotency_key=key, idempotency_hash=digest)
        return t, decision, await uow.tickets.insert_created(t, **write)

    # ------------------------------------------------------------------ in the hall

    async def update(self, number: str, patch: TicketUpdate, *, actor: str, at: datetime | None = None) -> Stored:
        """Correct a ticket still in the hall (accepted or returned); one audit event."""
        who, at = Actor.parse(actor), at or utcnow()
        changes = patch.changes()
        if not changes:
            raise FieldError("body", "nothing to change")
        async with self.uow() as uow:
            uow.check_refs(patch)
            await self._check_calls(uow, who, patch.add_call_ids)
            s = await uow.tickets.lock(number, patch.version)
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
                new.deadlines = compute_deadlines(new.kind, new.urgency, new.created_at, policy=self.config.policy)
            await uow.tickets.save(s.id, new, t.version)
            await uow.tickets.set_columns(s.id, tokens=search_tokens(new))
            shown = {k: (v.value if hasattr(v, "value") else v) for k, v in changes.items() if k != "location"}
            await uow.tickets.add_note(s.id, "update", actor=str(who), at=at, status=new.status,
                                       version=new.version, data={"changed": sorted(changes), "values": shown})
            await notifier.notice(uow.conn, new, "updated", actor=str(who), at=at, data={"changed": sorted(changes)})
            return await uow.tickets.get_by_id(s.id)

    async def verify_field_report(self, number: str, *, actor: str, lead: str | None = None,
                                  assisting: list[str] = (), version: int | None = None,
                                  at: datetime | None = None) -> Stored:
        """立案: the hall accepts a collector's report, then it is dispatched like any ticket
        (to ``lead`` if given, else by the dispatch rules; stays in the hall when unsure)."""
        who, at = Actor.parse(actor), at or utcnow()
        async with self.uow() as uow:
            uow.check_departments(lead, assisting)
            s = await uow.tickets.lock(number, version)
            t = s.ticket
            if t.channel is not Channel.FIELD_REPORT or t.status is not TicketStatus.ACCEPTED or s["verified_at"]:
                raise IllegalTransition(f"ticket {number} is not a field report waiting for verification")
            decision = None if lead else self.dispatch.route(t, rules_only=True)
            await uow.tickets.set_columns(s.id, verified_at=at, verified_by=str(who),
                                          routing=decision.doc() if decision else None)
            await uow.tickets.add_note(s.id, "verify", actor=str(who), at=at, status=t.status, version=t.version)
            await notifier.notice(uow.conn, t, "verify", actor=str(who), at=at)
            if lead or (decision and not decision.needs_human):
                data = {"lead": lead, "assisting": list(assisting)} if lead else \
                    {"lead": decision.lead, "assisting": list(decision.assisting)}
                await uow.tickets.apply(s, Action.DISPATCH, str(who) if lead else ROUTER, at, data=data)
            log.info("field_report_verified", ticket_id=number, lead=s.ticket.lead_department)
            return await uow.tickets.get_by_id(s.id)

    # ------------------------------------------------------------------ reads

    async def get(self, number: str) -> Stored:
        full = self.config.normalise_number(number)
        async with self.uow(atomic=False) as uow:
            s = await uow.tickets.get(full) if full else None
        if s is None:
            raise NotFound(f"no ticket {number}")
        return s

    async def ivr_status(self, number: str) -> str:
        """Status word for the IVR "check my ticket" (see :func:`.responses.ivr_status_of`), ""
        when not found; a merged ticket answers with the status of the ticket it was merged into."""
        full = self.config.normalise_number(number)
        if full is None:
            return ""
        async with self.uow(atomic=False) as uow:
            for _ in range(4):
                s = await uow.tickets.get(full)
                if s is None:
                    return ""
                if not s.ticket.merged_into:
                    break
                full = s.ticket.merged_into
        return ivr_status_of(s.ticket)

    async def attachments(self, number: str) -> list[dict[str, Any]]:
        s = await self.get(number)
        async with self.uow(atomic=False) as uow:
            return await uow.tickets.attachments(s.id)

    async def search(self, f: lists.SearchFilter, **page: Any) -> lists.Page:
        async with self.uow(atomic=False) as uow:
            return await lists.search(uow.conn, f, **page)

    async def unverified_field_reports(self, **page: Any) -> lists.Page:
        return await self.search(lists.SearchFilter(unverified=True), **page)

    async def queue(self, department: str, *, actor: str, **page: Any) -> lists.Page:
        """Open tickets of a department (lead and/or assisting), earliest deadline first."""
        if not self.dispatch.knows_unit(department):
            raise NotFound(f"no department {department!r}")
        check_department(Actor.parse(actor), department)
        async with self.uow(atomic=False) as uow:
            return await lists.department_queue(uow.conn, department, **page)

    async def hall_queue(self, *, actor: str, limit: int = lists.MAX_LIMIT
                         ) -> tuple[list[tuple[Stored, hall.HallEntry]], int]:
        """The dispatch desk (派单台): the tickets waiting for the hall's dispatcher, each with why it
        is there and its stored candidates, in the desk's order (:mod:`.hall`); and how many wait."""
        async with self.uow(atomic=False) as uow:
            rows, total = await lists.hall_queue(uow.conn, limit=limit)
        items = []
        for r in rows:
            s = stored(r)
            event = hall.HallEvent(r["hall_action"], r["hall_at"], r["hall_actor"], r["hall_reason"],
                                   r["hall_data"]) if r["hall_action"] else None
            items.append((s, hall.entry(s.ticket, routing=s["routing"], verified_at=s["verified_at"], event=event)))
        items.sort(key=lambda item: hall.order_key(item[1]))
        return items, total

    async def events(self, number: str, **page: Any) -> tuple[list[dict[str, Any]], str | None]:
        """The audit trail of a ticket, oldest first."""
        s = await self.get(number)
        async with self.uow(atomic=False) as uow:
            return await lists.events(uow.conn, s.id, **page)

    async def board(self, at: datetime | None = None) -> dict[str, Any]:
        """Open tickets by status and lead department, overdue and escalated counts (the board)."""
        async with self.uow(atomic=False) as uow:
            return await lists.board_stats(uow.conn, at or utcnow())

    async def enquiry_gaps(self, since: datetime) -> list[dict[str, Any]]:
        """Enquiries not answered from a knowledge article since ``since``, grouped (the knowledge base's gaps)."""
        async with self.uow(atomic=False) as uow:
            return await lists.enquiry_gaps(uow.conn, since)

    async def answered_enquiry(self, number: str) -> dict[str, Any] | None:
        """An enquiry a department replied to, with its reply (proposed as a knowledge article draft)."""
        async with self.uow(atomic=False) as uow:
            return await lists.answered_enquiry(uow.conn, number)

    async def open_counts_by_department(self) -> dict[str, int]:
        """Open tickets by lead department ('hall' for none)."""
        async with self.uow(atomic=False) as uow:
            return await lists.open_counts_by_department(uow.conn)
