"""The ticket state machine (pure): :func:`new_ticket` and :func:`apply`, with one transition
handler per :class:`Action`.

Each handler takes a :class:`Call` and returns ``(to_status, changes, event_data)``;
:func:`apply` checks the transition table (:data:`.model.TRANSITIONS`), runs the handler and
applies the changes only when it succeeds. Deadlines come from :mod:`.sla`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from callcenter.tickets.errors import IllegalTransition, TicketError
from callcenter.tickets.model import (
    ACTION_DATA,
    FIVE_LEVEL,
    HALL,
    ON_SPOT_KINDS,
    TRANSITIONS,
    Action,
    SatisfactionScale,
    Ticket,
    TicketEvent,
    TicketStatus,
    parse_ticket_number,
    require_aware,
)
from callcenter.tickets.sla import (
    SlaPolicy,
    compute_deadlines,
    default_policy,
    extend_deadlines,
    redo_deadlines,
    take_up_deadline,
)

_S = TicketStatus
_Outcome = tuple[TicketStatus, dict[str, Any], dict[str, Any]]


@dataclass
class Call:
    t: Ticket
    action: Action
    actor: str
    at: datetime
    reason: str | None
    data: dict[str, Any]
    policy_: SlaPolicy | None
    scale_: SatisfactionScale | None

    def fail(self, message: str) -> TicketError:
        return TicketError(f"action '{self.action.value}' on {self.t.number}: {message}")

    def need_reason(self) -> None:
        if not self.reason:
            raise self.fail("a reason is required")

    @property
    def policy(self) -> SlaPolicy:
        return self.policy_ or default_policy()

    def event(self, **values: Any) -> dict[str, Any]:
        passthrough = {k: self.data[k] for k in ("note", "reply", "comment", "suggested") if k in self.data}
        return passthrough | values

    def days(self, default: int | None = None) -> int:
        days = self.data.get("days", default)
        if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
            raise self.fail(f"data 'days' must be a positive integer, got {days!r}")
        return days


def _departments(c: Call) -> tuple[str, tuple[str, ...]]:
    lead = c.data.get("lead")
    if not isinstance(lead, str) or not lead.strip():
        raise c.fail("data 'lead' (department code) is required")
    assisting = c.data.get("assisting") or ()
    assisting = tuple(dict.fromkeys([assisting] if isinstance(assisting, str) else assisting))
    if lead in assisting or not all(isinstance(a, str) and a for a in assisting):
        raise c.fail(f"bad assisting departments {assisting!r} for lead {lead!r}")
    return lead, assisting


def _dispatch(c: Call) -> _Outcome:
    lead, assisting = _departments(c)
    changes: dict[str, Any] = {"lead_department": lead, "assisting_departments": assisting}
    if c.action is Action.REDISPATCH:
        take_up = take_up_deadline(c.t.kind, c.t.urgency, c.at, policy=c.policy)
        changes |= {"objection": False, "deadlines": replace(c.t.deadlines, take_up_due=take_up)}
    return _S.DISPATCHED, changes, c.event(lead=lead, assisting=list(assisting))


def _plain(to: TicketStatus | None = None, **changes: Any) -> Any:
    return lambda c: (to or c.t.status, dict(changes), c.event())


def _answer_on_spot(c: Call) -> _Outcome:
    if c.t.kind not in ON_SPOT_KINDS:
        raise c.fail(f"kind '{c.t.kind.value}' ({c.t.kind.label}) cannot be answered on the spot")
    article = {"article": c.data["article"]} if c.data.get("article") else {}
    return _S.RESOLVED, {"lead_department": HALL}, c.event(**article)


def _return(c: Call) -> _Outcome:
    c.need_reason()
    changes = {"lead_department": None, "assisting_departments": (), "pending_extension": None,
               "objection": c.action is Action.OBJECT}
    return _S.RETURNED, changes, c.event(returned_by=c.t.lead_department)


def _request_extension(c: Call) -> _Outcome:
    c.need_reason()
    if c.t.pending_extension is not None:
        raise c.fail(f"an extension of {c.t.pending_extension} days is already pending")
    days, limit = c.days(), c.policy.max_extension_working_days
    if c.t.extension_days_granted + days > limit:
        raise c.fail(f"{days} days would exceed the maximum extension of {limit} working days "
                     f"({c.t.extension_days_granted} already granted)")
    return c.t.status, {"pending_extension": days}, c.event(days=days)


def _decide_extension(c: Call) -> _Outcome:
    pending = c.t.pending_extension
    if pending is None:
        raise c.fail("no extension request is pending")
    if c.action is Action.DENY_EXTENSION:
        return c.t.status, {"pending_extension": None}, c.event(days=pending)
    days = c.days(pending)
    if days > pending:
        raise c.fail(f"cannot grant {days} days, only {pending} requested")
    deadlines = extend_deadlines(c.t.deadlines, days, policy=c.policy)
    changes = {"pending_extension": None, "extension_days_granted": c.t.extension_days_granted + days,
               "deadlines": deadlines}
    return c.t.status, changes, c.event(days=days, resolve_due=_iso(deadlines.resolve_due))


def _escalate(c: Call) -> _Outcome:
    level = c.t.escalation_level + 1
    return c.t.status, {"escalation_level": level}, c.event(level=level)


def _redo(c: Call, **values: Any) -> _Outcome:
    """重办: back to the same lead department; a ticket the hall answered from a knowledge
    article (直接答复) goes to the article's owning unit; else back to the hall."""
    deadlines = redo_deadlines(c.t.kind, c.t.urgency, c.at, policy=c.policy)
    lead = c.t.lead_department
    if lead in (None, HALL) and c.t.article_unit:
        lead = c.t.article_unit
    to = _S.DISPATCHED if lead not in (None, HALL) else _S.RETURNED
    changes = {"reopen_count": c.t.reopen_count + 1, "deadlines": deadlines, "pending_extension": None}
    if to is _S.RETURNED:
        changes["lead_department"] = None
    elif lead != c.t.lead_department:
        changes["lead_department"] = lead
    return to, changes, c.event(redo="重办", lead=lead, resolve_due=_iso(deadlines.resolve_due),
                                **values)


def _survey(c: Call) -> _Outcome:
    rating = c.data.get("rating")
    if not isinstance(rating, str):
        raise c.fail("data 'rating' is required")
    if (c.scale_ or FIVE_LEVEL).is_bad(rating):
        to, changes, data = _redo(c, rating=rating, bad=True)
        return to, changes | {"satisfaction": rating}, data
    return _S.SURVEYED, {"satisfaction": rating}, c.event(rating=rating, bad=False)


def _reopen(c: Call) -> _Outcome:
    c.need_reason()
    if c.t.merged_into:
        raise c.fail(f"ticket was merged into {c.t.merged_into}; reopen that one")
    return _redo(c)


def _close(c: Call) -> _Outcome:
    if c.t.status is _S.RESOLVED:
        c.need_reason()  # closing without a survey needs a reason (e.g. caller unreachable)
    return _S.CLOSED, {}, c.event(surveyed=c.t.status is _S.SURVEYED)


def _merge(c: Call) -> _Outcome:
    target = c.data.get("merged_into")
    if not isinstance(target, str):
        raise c.fail("data 'merged_into' (ticket number) is required")
    parse_ticket_number(target)
    if target == c.t.number:
        raise c.fail("a ticket cannot be merged into itself")
    return _S.CLOSED, {"merged_into": target}, c.event(merged_into=target)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


HANDLERS: dict[Action, Any] = {
    Action.DISPATCH: _dispatch,
    Action.REDISPATCH: _dispatch,
    Action.ACKNOWLEDGE: _plain(_S.ACKNOWLEDGED),
    Action.START: _plain(_S.IN_PROGRESS),
    Action.RESOLVE: _plain(_S.RESOLVED, pending_extension=None),
    Action.ANSWER_ON_SPOT: _answer_on_spot,
    Action.RETURN: _return,
    Action.OBJECT: _return,
    Action.REQUEST_EXTENSION: _request_extension,
    Action.APPROVE_EXTENSION: _decide_extension,
    Action.DENY_EXTENSION: _decide_extension,
    Action.ESCALATE: _escalate,
    Action.SURVEY: _survey,
    Action.REOPEN: _reopen,
    Action.CLOSE: _close,
    Action.MERGE: _merge,
}


def new_ticket(*, policy: SlaPolicy | None = None, **fields: Any) -> Ticket:
    """A new accepted ticket with deadlines computed from the SLA policy (default: bundled)."""
    ticket = Ticket(**fields)
    ticket.deadlines = compute_deadlines(ticket.kind, ticket.urgency, ticket.created_at, policy=policy)
    return ticket


def apply(ticket: Ticket, action: Action | str, *, actor: str, at: datetime, reason: str | None = None,
          policy: SlaPolicy | None = None, scale: SatisfactionScale | None = None, **data: Any) -> TicketEvent:
    """Apply ``action`` to ``ticket``; mutate the ticket only on success and return the event.

    ``policy`` (default: bundled sla.yaml) and ``scale`` (default: five levels) are
    configuration, never recorded in the event. ``ACTION_DATA`` lists the data keys
    each action accepts (``note`` is accepted by all).
    """
    try:
        action = Action(action)
    except ValueError:
        raise TicketError(f"unknown action {action!r}") from None
    targets = TRANSITIONS[action].get(ticket.status)
    if targets is None:
        raise IllegalTransition(
            f"action '{action.value}' is not allowed in status '{ticket.status.value}' (ticket {ticket.number})")
    if not (actor or "").strip():
        raise TicketError(f"action '{action.value}': actor is required")
    require_aware(at, "at")
    extra = set(data) - ACTION_DATA[action] - {"note"}
    if extra:
        raise TicketError(f"action '{action.value}': unexpected data {sorted(extra)}")
    call = Call(ticket, action, actor, at, (reason or "").strip() or None, data, policy, scale)
    to_status, changes, event_data = HANDLERS[action](call)
    assert to_status in targets, (action, ticket.status, to_status)
    event = TicketEvent(ticket.number, action, ticket.status, to_status, actor, at, call.reason,
                        event_data, ticket.version + 1)
    for name, value in changes.items():
        setattr(ticket, name, value)
    ticket.status, ticket.version, ticket.updated_at = to_status, ticket.version + 1, at
    return event
