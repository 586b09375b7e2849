"""Presentation of stored tickets: the JSON document of the API and the IVR status word."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callcenter.infra.masking import mask_phone
from callcenter.tickets.actors import Actor
from callcenter.tickets.model import Ticket, TicketStatus
from callcenter.tickets.repository import Stored

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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def ticket_doc(s: Stored, viewer: Actor | None = None) -> dict[str, Any]:
    """The API's ticket document; phone numbers are masked for departments and collectors."""
    t = s.ticket
    d = t.deadlines
    phone = t.caller_phone if viewer is None or viewer.sees_full_phone else mask_phone(t.caller_phone)
    return {
        "number": t.number, "status": t.status.value, "ivr_status": ivr_status_of(t), "kind": t.kind.value,
        "kind_label": t.kind.label, "channel": t.channel.value, "urgency": t.urgency.value,
        "caller_phone": phone, "caller_name": t.caller_name, "category": t.category, "topics": list(t.topics),
        "district": t.district.value if t.district else None, "address": t.address,
        "location": {"lat": t.location.lat, "lon": t.location.lon} if t.location else None,
        "description": t.description, "lead_department": t.lead_department,
        "assisting_departments": list(t.assisting_departments), "take_up_due": _iso(d.take_up_due),
        "resolve_due": _iso(d.resolve_due), "remind_at": _iso(d.remind_at),
        "extension_days_granted": t.extension_days_granted, "pending_extension": t.pending_extension,
        "escalation_level": t.escalation_level, "reopen_count": t.reopen_count, "objection": t.objection,
        "satisfaction": t.satisfaction, "merged_into": t.merged_into, "duplicate_count": s["duplicate_count"],
        "field_kind": s["field_kind"], "verified_at": _iso(s["verified_at"]), "created_by": s["created_by"],
        "created_at": _iso(t.created_at), "updated_at": _iso(t.updated_at), "version": t.version,
    }


def event_doc(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "at": _iso(row["at"])}
