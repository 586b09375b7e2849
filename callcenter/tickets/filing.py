"""What filing a ticket writes, pure: the new ticket from the request, what the duplicate check
(并单) needs, the first actions (merged into a duplicate, answered on the spot, dispatched by
the agent or by the routing), and the row's audit events, attachments and outbox messages. The
use case (:meth:`.service.TicketService.create`) numbers it, routes it and writes it."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from callcenter.tickets import notifier
from callcenter.tickets.actors import Actor
from callcenter.tickets.config import ROUTER, TicketConfig
from callcenter.tickets.dedup import TicketSummary
from callcenter.tickets.model import HALL, Action, Channel, GeoPoint, Kind, Ticket, TicketEvent, TicketStatus
from callcenter.tickets.ports import Decision
from callcenter.tickets.repository import event_row, note_row
from callcenter.tickets.schemas import FieldReportCreate, TicketCreate
from callcenter.tickets.transitions import apply, new_ticket

Body = TicketCreate | FieldReportCreate


def digest_of(who: Actor, body: Body) -> str:
    """What an idempotency key stands for: this actor's request, the key itself aside."""
    request = f"{type(body).__name__}|{who}|{body.model_dump_json(exclude={'idempotency_key'})}"
    return hashlib.sha256(request.encode()).hexdigest()


def ticket_of(body: Body, number: str, at: datetime, config: TicketConfig) -> Ticket:
    loc = GeoPoint(body.location.lat, body.location.lon) if body.location else None
    common: dict[str, Any] = dict(number=number, created_at=at, description=body.description,
                                  category=body.category, district=body.district, address=body.address,
                                  location=loc, policy=config.policy)
    if isinstance(body, FieldReportCreate):
        return new_ticket(kind=Kind.REPORT, channel=Channel.FIELD_REPORT, **common)
    if body.article is not None:
        common |= {"article": body.article.id, "article_unit": body.article.unit}
    return new_ticket(kind=body.kind, channel=body.channel, caller_phone=body.caller_phone,
                      caller_name=body.caller_name, topics=tuple(body.topics), call_ids=tuple(body.call_ids),
                      transcript=body.transcript, urgency=body.urgency, **common)


def probe(body: Body, at: datetime) -> TicketSummary | None:
    """What the duplicate check needs, before the ticket has a number (None: no check)."""
    if getattr(body, "answer_on_spot", None):
        return None
    loc = GeoPoint(body.location.lat, body.location.lon) if body.location else None
    field_report = isinstance(body, FieldReportCreate)
    return TicketSummary("", at, body.category, channel=Channel.FIELD_REPORT if field_report else body.channel,
                         caller_phone="" if field_report else body.caller_phone, district=body.district,
                         address=body.address, location=loc)


def needs_routing(body: Body, duplicate: TicketSummary | None) -> bool:
    """Routing is asked unless the ticket merges, is answered on the spot, or the agent chose its unit."""
    return duplicate is None and not getattr(body, "answer_on_spot", None) and not (
        isinstance(body, TicketCreate) and body.lead)


def first_actions(t: Ticket, body: Body, actor: str, at: datetime, config: TicketConfig,
                  duplicate: TicketSummary | None, decision: Decision | None) -> list[TicketEvent]:
    opts: dict[str, Any] = {"at": at, "policy": config.policy}
    answer = getattr(body, "answer_on_spot", None)
    if duplicate is not None:  # 并单: linked to the earlier ticket, never dispatched again
        return [apply(t, Action.MERGE, actor=actor, reason="duplicate (并单)", merged_into=duplicate.number, **opts)]
    if answer:
        article = body.article.model_dump() if isinstance(body, TicketCreate) and body.article else None
        return [apply(t, Action.ANSWER_ON_SPOT, actor=actor, reply=answer, **opts,
                      **({"article": article} if article else {}))]
    if isinstance(body, TicketCreate) and body.lead:
        return [apply(t, Action.DISPATCH, actor=actor, lead=body.lead, assisting=body.assisting, **opts)]
    if decision is not None and isinstance(body, TicketCreate) and body.auto_dispatch and not decision.needs_human:
        return [apply(t, Action.DISPATCH, actor=ROUTER, lead=decision.lead, assisting=list(decision.assisting), **opts)]
    return []


def write_of(t: Ticket, body: Body, actor: str, at: datetime, events: list[TicketEvent],
             decision: Decision | None) -> dict[str, Any]:
    """The columns, audit events, attachments and outbox messages of the new ticket's row
    (:meth:`.repository.TicketRepository.insert_created`, tokens and idempotency aside)."""
    routing = decision.doc() if decision else None
    info = {"channel": t.channel.value, "kind": t.kind.value, "category": t.category}
    _, created_payload = notifier.notice_message(t, "created", actor=actor, at=at, data=info)
    created_payload |= {"status": TicketStatus.ACCEPTED.value, "from_status": TicketStatus.ACCEPTED.value,
                        "lead_department": None, "assisting_departments": [], "version": 0}
    messages = [(f"tickets/{HALL}/created", created_payload)]
    messages += [notifier.transition_message(t, e) for e in events]
    rows = [note_row("created", actor=actor, at=at, status=TicketStatus.ACCEPTED, version=0,
                     data=info | ({"routing": routing} if routing else {}))]
    rows += [event_row(e) for e in events]
    files = list(body.attachments) if isinstance(body, TicketCreate) else [body.photo] if body.photo else []
    field_kind = getattr(body, "field_kind", None)
    return dict(created_by=actor, events=rows, messages=messages, attachments=files, routing=routing,
                field_kind=field_kind, collector=actor if field_kind else None)
