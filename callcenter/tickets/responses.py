"""What the tickets API answers, spelled once: pydantic models that build the OpenAPI document
and render the JSON documents (``TicketOut.of(stored, viewer).doc()``), and the IVR's status word.

Times are ISO-8601 as Python writes them (``2026-11-27T02:00:00+00:00``). Phone numbers are
masked for viewers who may not see them: all but the agent on the ticket's call (`Actor.sees_full_phone`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field

from callcenter.infra.documents import Time
from callcenter.infra.masking import mask_phone
from callcenter.tickets.actors import Actor
from callcenter.tickets.hall import HallEntry, excerpt
from callcenter.tickets.model import Channel, Kind, Ticket, TicketStatus, Urgency
from callcenter.tickets.repository import Stored
from callcenter.tickets.schemas import Location

_S = TicketStatus
_WORKING = (_S.ACKNOWLEDGED, _S.IN_PROGRESS)


def ivr_status_of(t: Ticket) -> str:
    """One word for the IVR "check my ticket" prompt.

    accepted, dispatched, acknowledged, in_progress, extended, escalated, returned, resolved,
    callback (surveyed), reopened, closed. Flags win over the plain status while the ticket is
    open: escalated (督办) > reopened (重办) > extended (延期).
    """
    if t.status is _S.CLOSED:
        return "closed"
    if t.status is _S.SURVEYED:
        return "callback"
    if t.status is _S.RESOLVED:
        return "resolved"
    if t.escalation_level > 0:
        return "escalated"
    if t.reopen_count > 0 and t.status in (_S.DISPATCHED, _S.RETURNED):
        return "reopened"
    if t.status is _S.RETURNED:
        return "returned"
    if t.extension_days_granted > 0 and t.status in _WORKING:
        return "extended"
    return t.status.value


class Doc(BaseModel):
    def doc(self) -> dict[str, Any]:
        """The JSON document (plain values, ready for :func:`callcenter.infra.web.reply`)."""
        return self.model_dump(mode="json")


class TicketOut(Doc):
    number: str
    status: TicketStatus
    ivr_status: str
    kind: Kind
    kind_label: str
    channel: Channel
    urgency: Urgency
    caller_phone: str
    caller_name: str
    category: str
    topics: list[str]
    district: str | None
    address: str
    location: Location | None
    description: str
    call_ids: list[str] = Field(description="the calls the ticket was filed from (their transcripts: "
                                "GET /api/calls/{call_id}/transcript)")
    lead_department: str | None
    assisting_departments: list[str]
    take_up_due: Time | None
    resolve_due: Time | None
    remind_at: Time | None
    extension_days_granted: int
    pending_extension: int | None
    escalation_level: int
    reopen_count: int
    objection: bool
    satisfaction: str | None
    merged_into: str | None
    article: str | None = Field(default=None, description="直接答复: the knowledge article it was answered from")
    article_unit: str | None = Field(default=None, description="that article's unit (a bad review reopens to it)")
    duplicate_count: int
    field_kind: str | None
    verified_at: Time | None
    created_by: str
    created_at: Time
    updated_at: Time | None
    version: int

    @classmethod
    def of(cls, s: Stored, viewer: Actor | None = None, **extra: Any) -> Self:
        """The document of a stored ticket as ``viewer`` may see it; ``extra``: a subclass's fields."""
        t = s.ticket
        same = {name: getattr(t, name) for name in _TICKET_FIELDS}
        loc = t.location
        return cls.model_validate(same | {
            "ivr_status": ivr_status_of(t), "kind_label": t.kind.label,
            "caller_phone": t.caller_phone if viewer is None or viewer.sees_full_phone(t.call_ids)
            else mask_phone(t.caller_phone),
            "district": t.district.value if t.district else None,
            "location": {"lat": loc.lat, "lon": loc.lon} if loc else None,
            **dataclasses.asdict(t.deadlines),
            **{name: s[name] for name in _ROW_FIELDS}} | extra)


#: fields of the document that are the Ticket's own attributes, and those kept on the row only
_TICKET_FIELDS = sorted(set(TicketOut.model_fields) & {f.name for f in dataclasses.fields(Ticket)} - {"district", "location"})
_ROW_FIELDS = ("duplicate_count", "field_kind", "verified_at", "created_by")


class CreatedOut(TicketOut):
    created: bool = Field(description="false when an idempotency key replayed an earlier request")
    routing: dict[str, Any] | None = None


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class EventOut(Doc):
    id: int
    action: str
    from_status: str | None
    to_status: str | None
    actor: str
    at: Time
    reason: str | None
    data: dict[str, Any]
    version: int


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


class AttachmentOut(Doc):
    kind: str
    ref: str
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    created_by: str
    created_at: Time


class TicketDetail(TicketOut):
    attachments: list[AttachmentOut]
    routing: dict[str, Any] | None


class BoardStats(BaseModel):
    open: int
    by_status: dict[str, int]
    by_department: dict[str, int]
    overdue: int
    escalated: int
    at: datetime


class CandidateOut(BaseModel):
    department: str
    probability: float = Field(description="the classifier's share (0..1); a rules candidate: its weight")
    words: list[str] = Field(description="the words of the request that drove it; [规则] for the rules")


class HallTicketOut(Doc):
    """A ticket on the dispatch desk (派单台); the phone is always masked (the hall dispatches
    without the number)."""

    number: str
    status: TicketStatus
    action: str = Field(description="the call that dispatches it: dispatch (accepted) or redispatch (returned)")
    kind: Kind
    kind_label: str
    channel: Channel
    urgency: Urgency
    district: str | None
    category: str
    address: str
    caller_phone: str
    description: str
    excerpt: str
    created_at: Time
    waiting_since: Time
    waiting_s: float
    resolve_due: Time | None
    escalation_level: int
    reopen_count: int
    why: str = Field(description="unsure | rules_unsure | held | returned | objection | redo")
    why_label: str
    reason: str | None = Field(description="the department's reason (退单, 派单异议) or the reopen's")
    returned_by: str | None
    suggested: str | None = Field(description="the unit an objecting department suggested")
    confidence: float | None
    candidates: list[CandidateOut]
    version: int

    @classmethod
    def of(cls, s: Stored, e: HallEntry, now: datetime) -> Self:
        t = s.ticket
        return cls.model_validate({
            "number": t.number, "status": t.status, "action": e.action, "kind": t.kind, "kind_label": t.kind.label,
            "channel": t.channel, "urgency": t.urgency, "district": t.district.value if t.district else None,
            "category": t.category, "address": t.address, "caller_phone": mask_phone(t.caller_phone),
            "description": t.description, "excerpt": excerpt(t.description), "created_at": t.created_at,
            "waiting_since": e.waiting_since, "waiting_s": max(0.0, (now - e.waiting_since).total_seconds()),
            "resolve_due": e.resolve_due, "escalation_level": t.escalation_level, "reopen_count": t.reopen_count,
            "why": e.why, "why_label": e.why_label, "reason": e.reason, "returned_by": e.returned_by,
            "suggested": e.suggested, "confidence": e.confidence, "candidates": list(e.candidates),
            "version": e.version})


class HallQueueOut(BaseModel):
    items: list[HallTicketOut]
    total: int = Field(description="tickets waiting in all (items holds at most `limit` of them)")
    at: Time
