"""The hall's dispatch desk (派单台), pure: which tickets wait for a dispatcher, why each one is
there, what the routing stored with it proposes, and in which order the dispatcher sees them.

A ticket waits in the hall when it is ``accepted`` without a lead department (the rules and the
classifier were not sure, or the agent filed it for a person to dispatch; a field report only
once it is verified, 立案) or ``returned`` (退单 by a department, 派单异议, or 重办 of a ticket that
had no lead). The first is dispatched (``dispatch``), the second re-dispatched (``redispatch``).

The candidates are the classifier's, best first, each with its probability share and the words
of the request that drove it (``routing.learned``); without a model, the rules' own suggestion
is the one candidate (its words ``[规则]``, as the dispatch policy marks a rules candidate).
The desk shows the nearest 办结 deadline first, then the longest wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callcenter.tickets.model import HALL, Action, Ticket, TicketStatus

#: why a ticket is in the hall -> the label the desk shows
WHY_LABELS: dict[str, str] = {
    "unsure": "模型不确定",  # the classifier (and the rules) left it to a person
    "rules_unsure": "规则未能判定",  # no model in force, the rules were not sure
    "held": "坐席转人工派单",  # routing was sure, the agent filed it without dispatching
    "returned": "退单",
    "objection": "派单异议",
    "redo": "重办退回",  # a bad survey or a reopen of a ticket that had no lead
}
RULES_WORDS = ("[规则]",)
_REDO_ACTIONS = frozenset({Action.SURVEY.value, Action.REOPEN.value})
EXCERPT_CHARS = 60


@dataclass(frozen=True)
class HallEvent:
    """The audit event that sent a ticket back to the hall (status ``returned``)."""

    action: str  # return | object | survey | reopen
    at: datetime
    actor: str
    reason: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class HallEntry:
    number: str
    status: str
    action: str  # what the desk calls: dispatch | redispatch
    why: str
    why_label: str
    reason: str | None  # the department's reason (退单, 派单异议) or the reopen's
    returned_by: str | None  # the department that returned it
    suggested: str | None  # the unit the objecting department suggested
    waiting_since: datetime
    resolve_due: datetime | None
    candidates: tuple[dict[str, Any], ...]
    confidence: float | None
    version: int


def why_here(t: Ticket, routing: dict[str, Any] | None, event: HallEvent | None) -> str:
    """One of :data:`WHY_LABELS` for a ticket in the hall."""
    if t.status is TicketStatus.RETURNED:
        if t.objection or (event is not None and event.action == Action.OBJECT.value):
            return "objection"
        if event is not None and event.action in _REDO_ACTIONS:
            return "redo"
        return "returned"
    if not routing:
        return "held"
    if not routing.get("needs_human"):
        return "held"
    return "unsure" if routing.get("learned") else "rules_unsure"


def candidates_of(routing: dict[str, Any] | None) -> tuple[dict[str, Any], ...]:
    """The stored candidates, best first: ``{department, probability, words}``."""
    if not routing:
        return ()
    learned = routing.get("learned") or {}
    out = [{"department": str(c["department"]), "probability": float(c.get("probability") or 0.0),
            "words": [str(w) for w in c.get("words") or ()]}
           for c in learned.get("candidates") or () if c.get("department") and c["department"] != HALL]
    if not out and routing.get("suggested") and routing["suggested"] != HALL:
        out.append({"department": str(routing["suggested"]), "probability": float(routing.get("confidence") or 0.0),
                    "words": list(RULES_WORDS)})
    return tuple(out)


def _confidence(routing: dict[str, Any] | None) -> float | None:
    if not routing:
        return None
    learned = routing.get("learned")
    value = learned.get("confidence") if learned else routing.get("confidence")
    return float(value) if value is not None else None


def entry(t: Ticket, *, routing: dict[str, Any] | None, verified_at: datetime | None = None,
          event: HallEvent | None = None) -> HallEntry:
    """The desk's view of one ticket in the hall."""
    why = why_here(t, routing, event)
    returned = t.status is TicketStatus.RETURNED
    data = (event.data or {}) if event else {}
    since = event.at if returned and event else (verified_at or t.created_at)
    return HallEntry(
        number=t.number, status=t.status.value,
        action=(Action.REDISPATCH if returned else Action.DISPATCH).value, why=why, why_label=WHY_LABELS[why],
        reason=event.reason if returned and event else None,
        returned_by=data.get("returned_by") if returned else None,
        suggested=data.get("suggested") if returned else None,
        waiting_since=since, resolve_due=t.deadlines.resolve_due, candidates=candidates_of(routing),
        confidence=_confidence(routing), version=t.version)


def order_key(e: HallEntry) -> tuple[bool, datetime | None, datetime, str]:
    """Nearest 办结 deadline first (none: last), then the longest wait, then the number."""
    return (e.resolve_due is None, e.resolve_due or e.waiting_since, e.waiting_since, e.number)


def ordered(entries: list[HallEntry]) -> list[HallEntry]:
    return sorted(entries, key=order_key)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The description's first ``limit`` characters on one line (… when cut)."""
    one = " ".join((text or "").split())
    return one if len(one) <= limit else one[:limit - 1] + "…"
