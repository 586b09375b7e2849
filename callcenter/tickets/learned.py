"""The ticket feature's side of learned dispatch (callcenter/dispatch): ask it for a proposal
beside the rules, teach it every human decision, and feed it new tickets for mass-incident
detection. Without a dispatch service, or before it has a model, the rules alone decide, as
before. The dispatch service is reached through the small protocol below, never imported."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from callcenter.dispatch.policy import Decision, RuleOutcome
from callcenter.infra.logging import get_logger
from callcenter.tickets.model import HALL, Action, Ticket
from callcenter.tickets.routing import RoutingDecision

log = get_logger("tickets")


class LearnedDispatch(Protocol):
    @property
    def ready(self) -> bool: ...

    def propose(self, text: str, kind: str | None = None, district: str | None = None,
                rules: RuleOutcome | None = None) -> Decision: ...

    async def record_decision(self, *, text: str, department: str, source: str, actor: str,
                              kind: str | None = None, district: str | None = None,
                              ticket_number: str | None = None) -> None: ...

    async def observe(self, ref: str, at: datetime, district: str | None, text: str,
                      department: str | None = None, source: str = "ticket",
                      supersedes: tuple[str, ...] | list[str] = ()) -> dict[str, Any] | None: ...

    async def master_resolved(self, master_ref: str) -> list[str]: ...

    async def merged(self, ref: str, master_ref: str) -> list[int]: ...


Lookup = Callable[[], LearnedDispatch | None]  # e.g. the dispatch plugin's Provided.maybe


def _text(t: Ticket) -> str:
    return "\n".join(x for x in (t.description, t.transcript) if x)


def route(decision: RoutingDecision, t: Ticket, lookup: Lookup | None) -> RoutingDecision:
    """The rules' decision, or (when a model is in force) the combined one: rules that fire
    with a high weight win, else the classifier proposes; the candidates and the words that
    drove them are kept for the dispatcher (``learned`` in the stored routing document)."""
    learned = lookup() if lookup else None
    if learned is None or not learned.ready:
        return decision
    d = learned.propose(_text(t), t.kind.value, t.district.value if t.district else None,
                        RuleOutcome(decision.suggested, decision.confidence, decision.matched_rules))
    doc = d.doc()
    if d.decided_by == "rules":
        return RoutingDecision(**{**decision.__dict__, "learned": doc})
    lead = d.department or HALL
    return RoutingDecision(
        lead=lead, assisting=decision.assisting if lead == decision.lead else (), confidence=d.confidence,
        matched_rules=decision.matched_rules, needs_human=d.needs_human,
        suggested=d.candidates[0].department if d.candidates else decision.suggested,
        candidates=tuple((c.department, c.probability) for c in d.candidates), learned=doc)


def source_of(action: Action, objection: bool) -> str | None:
    """How a human decision teaches the model (None: this action teaches nothing)."""
    if action is Action.DISPATCH:
        return "human_dispatch"
    if action is Action.REDISPATCH:
        return "objection" if objection else "reassignment"
    return None


async def learn(lookup: Lookup | None, t: Ticket, source: str, actor: str) -> None:
    """Best effort, after the ticket's own write: a failure is logged, never the caller's."""
    learned = lookup() if lookup else None
    if learned is None or not t.lead_department or t.lead_department == HALL:
        return
    try:
        await learned.record_decision(text=_text(t), department=t.lead_department, source=source, actor=actor,
                                      kind=t.kind.value, district=t.district.value if t.district else None,
                                      ticket_number=t.number)
    except Exception:  # the ticket is handled; a lost example is not worth failing it
        log.warning("dispatch_example_not_recorded", ticket_id=t.number, exc_info=True)


async def observe(lookup: Lookup | None, t: Ticket, decision: RoutingDecision | None) -> None:
    learned = lookup() if lookup else None
    if learned is None:
        return
    unit = t.lead_department if t.lead_department and t.lead_department != HALL else (
        decision.suggested if decision else None)
    try:
        # the calls it was filed from: their live transcripts may have been counted already
        await learned.observe(t.number, t.created_at, t.district.value if t.district else None, _text(t), unit,
                              supersedes=t.call_ids)
    except Exception:
        log.warning("dispatch_observe_failed", ticket_id=t.number, exc_info=True)


async def resolved(lookup: Lookup | None, t: Ticket) -> list[str]:
    """A resolved ticket closes the incidents it is the master of; returns their linked requests."""
    learned = lookup() if lookup else None
    if learned is None:
        return []
    try:
        refs = await learned.master_resolved(t.number)
    except Exception:
        log.warning("dispatch_incident_close_failed", ticket_id=t.number, exc_info=True)
        return []
    if refs:
        log.info("dispatch_incident_closed", ticket_id=t.number, linked=len(refs))
    return refs


async def merged(lookup: Lookup | None, number: str, into: str) -> None:
    """A ticket merged (并单) into an incident's master ticket is confirmed as one of its requests."""
    learned = lookup() if lookup else None
    if learned is None:
        return
    try:
        ids = await learned.merged(number, into)
    except Exception:
        log.warning("dispatch_incident_merge_failed", ticket_id=number, exc_info=True)
        return
    if ids:
        log.info("dispatch_incident_merged", ticket_id=number, master=into, incidents=ids)
