"""Ticket events out: one MQTT message per event, written to the transactional outbox.

Topic (under the relay's ``<prefix>/``): ``tickets/<department>/<event>`` where
``<department>`` is the ticket's lead department after the event (``hall`` when it has none,
e.g. accepted or returned) and ``<event>`` is the state-machine action (``dispatch``,
``acknowledge``, ``resolve``, ``escalate``, ...) or one of ``created``, ``updated``,
``remind`` (催办), ``linked`` (a duplicate report was merged into this ticket), ``verify``
(a field report was registered, 立案). Subscribe to ``<prefix>/tickets/<dept>/#`` for one
queue or ``<prefix>/tickets/#`` for the board. Payloads never hold a phone number.

Messages are written by the one outbox writer (:mod:`callcenter.infra.outbox`), several
rows in one statement, inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from callcenter.infra import outbox
from callcenter.infra.outbox import Message
from callcenter.tickets.model import HALL, Ticket, TicketEvent


def topic(ticket: Ticket, event: str) -> str:
    return f"tickets/{ticket.lead_department or HALL}/{event}"


def payload(ticket: Ticket, event: str, *, actor: str, at: datetime, from_status: str | None = None,
            reason: str | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    d = ticket.deadlines
    return {
        "event": event, "number": ticket.number, "status": ticket.status.value,
        "from_status": from_status or ticket.status.value, "actor": actor, "at": at.isoformat(),
        "reason": reason, "data": data or {}, "version": ticket.version, "kind": ticket.kind.value,
        "urgency": ticket.urgency.value, "category": ticket.category,
        "lead_department": ticket.lead_department, "assisting_departments": list(ticket.assisting_departments),
        "escalation_level": ticket.escalation_level,
        "take_up_due": d.take_up_due.isoformat() if d.take_up_due else None,
        "resolve_due": d.resolve_due.isoformat() if d.resolve_due else None,
    }


def transition_message(ticket: Ticket, event: TicketEvent) -> Message:
    """A state-machine event; ``ticket`` is the state after it."""
    return topic(ticket, event.action.value), payload(
        ticket, event.action.value, actor=event.actor, at=event.at, from_status=event.from_status.value,
        reason=event.reason, data=event.data) | {"version": event.version, "status": event.to_status.value}


def notice_message(ticket: Ticket, event: str, *, actor: str, at: datetime, reason: str | None = None,
                   data: dict[str, Any] | None = None) -> Message:
    """An event that is not a transition (created, updated, remind, linked, verify)."""
    return topic(ticket, event), payload(ticket, event, actor=actor, at=at, reason=reason, data=data)


async def transition(conn: asyncpg.Connection, ticket: Ticket, event: TicketEvent) -> None:
    await outbox.write(conn, [transition_message(ticket, event)])


async def notice(conn: asyncpg.Connection, ticket: Ticket, event: str, *, actor: str, at: datetime,
                 reason: str | None = None, data: dict[str, Any] | None = None) -> None:
    await outbox.write(conn, [notice_message(ticket, event, actor=actor, at=at, reason=reason, data=data)])
