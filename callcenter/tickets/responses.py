"""Response shapes of the tickets API (pydantic), used to build the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from callcenter.tickets.model import Channel, Kind, TicketStatus, Urgency
from callcenter.tickets.schemas import Location


class Error(BaseModel):
    error: str
    message: str
    fields: dict[str, str] = Field(default_factory=dict)


class TicketOut(BaseModel):
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
    lead_department: str | None
    assisting_departments: list[str]
    take_up_due: datetime | None
    resolve_due: datetime | None
    remind_at: datetime | None
    extension_days_granted: int
    pending_extension: int | None
    escalation_level: int
    reopen_count: int
    objection: bool
    satisfaction: str | None
    merged_into: str | None
    duplicate_count: int
    field_kind: str | None
    verified_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class CreatedOut(TicketOut):
    created: bool = Field(description="false when an idempotency key replayed an earlier request")
    routing: dict[str, Any] | None = None


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class EventOut(BaseModel):
    id: int
    action: str
    from_status: str | None
    to_status: str | None
    actor: str
    at: datetime
    reason: str | None
    data: dict[str, Any]
    version: int


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


class TopicOut(BaseModel):
    code: str
    name: str
    department: str
    keywords: list[str]
    created_by: str
    created_at: datetime


class DepartmentOut(BaseModel):
    code: str
    name: str
    hotline: str | None
    merge_mode: str | None
    working_hours: str
    categories: list[str]
    open_tickets: int


class AttachmentOut(BaseModel):
    kind: str
    ref: str
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    created_by: str
    created_at: datetime


class TicketDetail(TicketOut):
    attachments: list[AttachmentOut]
    routing: dict[str, Any] | None


class TopicPage(BaseModel):
    items: list[TopicOut]
    next_cursor: str | None


class DepartmentPage(BaseModel):
    items: list[DepartmentOut]
    next_cursor: str | None


class BoardStats(BaseModel):
    open: int
    by_status: dict[str, int]
    by_department: dict[str, int]
    overdue: int
    escalated: int
    at: datetime
