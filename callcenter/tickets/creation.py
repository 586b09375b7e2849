"""Creating tickets: validation, number, deadlines, duplicate check (并单), routing, dispatch.

A request with an ``idempotency_key`` is done at most once: a retry (same key, same body)
returns the first ticket; the same key with another body is refused (409). Racing retries
wait on a lock of their key and replay, so no retry takes (and burns) a ticket number; the
unique key (``INSERT ... ON CONFLICT DO NOTHING``) stays as the last guard. The ticket, its audit
events, attachments and outbox messages are written by one statement (two round trips per
ticket: number with duplicate candidates, then the write).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from callcenter.infra.logging import get_logger
from callcenter.tickets import learned, notifier
from callcenter.tickets import repository as repo
from callcenter.tickets.actors import Actor, Role, check_roles
from callcenter.tickets.dedup import TicketSummary, find_duplicate
from callcenter.tickets.errors import IdempotencyConflict
from callcenter.tickets.model import HALL, Action, Channel, GeoPoint, Kind, Ticket, TicketStatus
from callcenter.tickets.routing import RoutingDecision
from callcenter.tickets.schemas import FieldReportCreate, TicketCreate
from callcenter.tickets.sla import local_date
from callcenter.tickets.store import ROUTER, TicketStore, utcnow
from callcenter.tickets.transitions import apply, new_ticket

log = get_logger("tickets")
Body = TicketCreate | FieldReportCreate


@dataclass
class Created:
    stored: repo.Stored
    created: bool  # False: an earlier request with the same idempotency key made it
    routing: RoutingDecision | None = None

    @property
    def number(self) -> str:
        return self.stored.ticket.number

    @property
    def ticket(self) -> Ticket:
        return self.stored.ticket


class TicketIntake:
    """Filing tickets: an agent's (``POST /api/tickets``, the agent desktop) or a field
    collector's report (``POST /api/field-reports``)."""

    def __init__(self, store: TicketStore) -> None:
        self.store = store

    async def create_ticket(self, *, actor: str, at: datetime | None = None, **fields: Any) -> Created:
        """Create from keyword fields (agent desktop: ``call_ids``, ``transcript``, ...), validated
        like ``POST /api/tickets``; raises pydantic ``ValidationError`` or a ``TicketError``."""
        return await self.create(actor, TicketCreate.model_validate(fields), at=at)

    async def create(self, actor: str, body: Body, *, at: datetime | None = None) -> Created:
        who = Actor.parse(actor)
        if isinstance(body, FieldReportCreate):
            check_roles(who, "filing a field report", Role.COLLECTOR, Role.SUPERVISOR, Role.SYSTEM)
        else:
            check_roles(who, "creating a ticket", Role.AGENT, Role.SUPERVISOR, Role.SYSTEM)
        self.store.check_refs(body)
        at = at or utcnow()
        key = body.idempotency_key
        async with self.store.pool.acquire() as conn:  # one connection for the whole filing
            if isinstance(body, TicketCreate):
                await self.store.check_calls(who, body.call_ids, conn)
            digest = None
            if key:
                request = f"{type(body).__name__}|{who}|{body.model_dump_json(exclude={'idempotency_key'})}"
                digest = hashlib.sha256(request.encode()).hexdigest()
            body = await self._with_transcript(body, conn)  # after the digest: a retry replays, whatever was said since
            if not key:
                created = await self._number_and_write(conn, who, body, at, None, None)
            else:
                async with repo.idempotency_lock(conn, key):  # retries wait here, then replay
                    created = (await self._replay(conn, key, digest)
                               or await self._number_and_write(conn, who, body, at, key, digest))
        if created.created:  # after the write, on another connection: the dispatch feature's part
            if isinstance(body, TicketCreate) and body.lead:
                await learned.learn(self.store.dispatch, created.ticket, "human_dispatch", str(who))
            await learned.observe(self.store.dispatch, created.ticket, created.routing)
        return created

    async def _with_transcript(self, body: Body, conn: asyncpg.Connection) -> Body:
        """A ticket filed from calls without a transcript gets the calls' stored one (masked), so
        that routing reads what the citizen said; never fails the filing."""
        transcripts = self.store.transcripts
        if not isinstance(body, TicketCreate) or not body.call_ids or body.transcript or transcripts is None:
            return body
        try:
            text = await transcripts(conn, body.call_ids)
        except Exception:  # noqa: BLE001 - the ticket is filed without it
            log.exception("ticket_transcript_failed", calls=len(body.call_ids))
            return body
        limit = next((m.max_length for m in TicketCreate.model_fields["transcript"].metadata
                      if hasattr(m, "max_length")), 20000)
        return body.model_copy(update={"transcript": text[:limit]}) if text else body

    async def _number_and_write(self, conn: asyncpg.Connection, who: Actor, body: Body, at: datetime,
                                key: str | None, digest: str | None) -> Created:
        store = self.store
        # outside any transaction: the day counter row stays locked for one statement only
        number, candidates = await repo.number_and_candidates(
            conn, local_date(at), store.prefix, self._probe(body, at), store.dedup_window, store.radius_m)
        t = self._new_ticket(body, number, at)
        created = await self._create_in(conn, who, body, t, at, key, digest, candidates)
        if created is None:  # the same key written outside the lock (cannot happen through here)
            created = await self._replay(conn, key or "", digest)
        assert created is not None
        return created

    async def _replay(self, conn: asyncpg.Connection, key: str, digest: str | None) -> Created | None:
        s = await repo.by_idempotency_key(conn, key)
        if s is None:
            return None
        if s["idempotency_hash"] != digest:
            raise IdempotencyConflict(f"idempotency key already used for a different request "
                                      f"(ticket {s.ticket.number})")
        return Created(s, created=False)

    def _new_ticket(self, body: Body, number: str, at: datetime) -> Ticket:
        loc = GeoPoint(body.location.lat, body.location.lon) if body.location else None
        common: dict[str, Any] = dict(number=number, created_at=at, description=body.description,
                                      category=body.category, district=body.district, address=body.address,
                                      location=loc, policy=self.store.policy)
        if isinstance(body, FieldReportCreate):
            return new_ticket(kind=Kind.REPORT, channel=Channel.FIELD_REPORT, **common)
        return new_ticket(kind=body.kind, channel=body.channel, caller_phone=body.caller_phone,
                             caller_name=body.caller_name, topics=tuple(body.topics), call_ids=tuple(body.call_ids),
                             transcript=body.transcript, urgency=body.urgency, **common)

    @staticmethod
    def _probe(body: Body, at: datetime) -> TicketSummary | None:
        """What the duplicate check needs, before the ticket has a number (None: no check)."""
        if getattr(body, "answer_on_spot", None):
            return None
        loc = GeoPoint(body.location.lat, body.location.lon) if body.location else None
        field_report = isinstance(body, FieldReportCreate)
        return TicketSummary("", at, body.category, channel=Channel.FIELD_REPORT if field_report else body.channel,
                             caller_phone="" if field_report else body.caller_phone, district=body.district,
                             address=body.address, location=loc)

    async def _create_in(self, conn: asyncpg.Connection, who: Actor, body: Body, t: Ticket, at: datetime,
                         key: str | None, digest: str | None, candidates: list[TicketSummary]) -> Created | None:
        actor, events, decision = str(who), [], None
        answer = getattr(body, "answer_on_spot", None)
        store = self.store
        opts: dict[str, Any] = {"at": at, "policy": store.policy}
        words: dict[str, list[str]] = {}  # jieba's cuts, shared by the routing and the search words
        duplicate = None if answer else find_duplicate(t, candidates, window=store.dedup_window,
                                                       radius_m=store.radius_m)
        if duplicate is not None:  # 并单: linked to the earlier ticket, never dispatched again
            events.append(apply(t, Action.MERGE, actor=actor, reason="duplicate (并单)",
                                  merged_into=duplicate.number, **opts))
        elif answer:
            events.append(apply(t, Action.ANSWER_ON_SPOT, actor=actor, reply=answer, **opts))
        elif isinstance(body, TicketCreate) and body.lead:
            events.append(apply(t, Action.DISPATCH, actor=actor, lead=body.lead, assisting=body.assisting, **opts))
        else:
            decision = learned.route(store.rules.route_ticket(t, words), t, store.dispatch)
            if isinstance(body, TicketCreate) and body.auto_dispatch and not decision.needs_human:
                events.append(apply(t, Action.DISPATCH, actor=ROUTER, lead=decision.lead,
                                      assisting=list(decision.assisting), **opts))
        routing = decision.doc() if decision else None
        info = {"channel": t.channel.value, "kind": t.kind.value, "category": t.category}
        _, created_payload = notifier.notice_message(t, "created", actor=actor, at=at, data=info)
        created_payload |= {"status": TicketStatus.ACCEPTED.value, "from_status": TicketStatus.ACCEPTED.value,
                            "lead_department": None, "assisting_departments": [], "version": 0}
        messages = [(f"tickets/{HALL}/created", created_payload)]
        messages += [notifier.transition_message(t, e) for e in events]
        rows = [repo.note_row("created", actor=actor, at=at, status=TicketStatus.ACCEPTED, version=0,
                              data=info | ({"routing": routing} if routing else {}))]
        rows += [repo.event_row(e) for e in events]
        files = list(body.attachments) if isinstance(body, TicketCreate) else [body.photo] if body.photo else []
        field_kind = getattr(body, "field_kind", None)
        write = dict(created_by=actor, tokens=store.tokens(t, words), events=rows, messages=messages, attachments=files,
                     routing=routing, idempotency_key=key, idempotency_hash=digest, field_kind=field_kind,
                     collector=actor if field_kind else None)
        if duplicate is None:  # one statement, atomic on its own
            row = await repo.insert_created(conn, t, **write)
        else:
            async with conn.transaction():
                row = await repo.insert_created(conn, t, **write)
                if row is not None:
                    await store.link(conn, duplicate.number, t.number, actor, at)
        if row is None:
            return None
        log.info("ticket_created", ticket_id=t.number, status=t.status.value, lead=t.lead_department,
                 merged_into=t.merged_into, channel=t.channel.value)
        return Created(repo.Stored(row["id"], t, row), created=True, routing=decision)
