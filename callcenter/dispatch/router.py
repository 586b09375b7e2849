"""Where a ticket goes: the dispatch feature's side of the ticket feature's
:class:`~callcenter.tickets.ports.Dispatch`.

The dispatch rules (:mod:`.rules`, loaded from PostgreSQL by :mod:`.rule_store`) always
decide; when a classifier model is in force (:class:`~.service.DispatchService`), rules that
fire with a high weight win, else the classifier proposes (:mod:`.policy`) and the candidates
and the words that drove them are kept for the dispatcher (``learned`` in the stored routing
document). Without a dispatch service, or before it has a model, the rules alone decide. Every
human decision is taught to the classifier and every new ticket fed to the mass-incident
detector, best effort: a failure there is logged, never the ticket's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from callcenter.dispatch import rule_store
from callcenter.dispatch.catalogue import HALL
from callcenter.dispatch.policy import Decision as Proposal
from callcenter.dispatch.policy import RuleOutcome
from callcenter.dispatch.rules import RoutingRules
from callcenter.infra.logging import get_logger
from callcenter.infra.words import Cuts
from callcenter.tickets.api import Decision, Ticket

log = get_logger("dispatch")


class Learned(Protocol):
    """What the router needs of the dispatch service (the classifier and the incident detector)."""

    @property
    def ready(self) -> bool: ...

    def propose(self, text: str, kind: str | None = None, district: str | None = None,
                rules: RuleOutcome | None = None) -> Proposal: ...

    async def record_decision(self, *, text: str, department: str, source: str, actor: str,
                              kind: str | None = None, district: str | None = None,
                              ticket_number: str | None = None) -> None: ...

    async def observe(self, ref: str, at: datetime, district: str | None, text: str,
                      department: str | None = None, source: str = "ticket",
                      supersedes: tuple[str, ...] | list[str] = ()) -> dict[str, Any] | None: ...

    async def master_resolved(self, master_ref: str) -> list[str]: ...

    async def merged(self, ref: str, master_ref: str) -> list[int]: ...


Lookup = Callable[[], Learned | None]  # e.g. the dispatch plugin's Provided.maybe


def _text(t: Ticket) -> str:
    return "\n".join(x for x in (t.description, t.transcript) if x)


def _district(t: Ticket) -> str | None:
    return t.district.value if t.district else None


class Router:
    """The rules in force (replaced at run time by the admin, :mod:`.rules_admin`) and the
    dispatch service, when one runs."""

    def __init__(self, rules: RoutingRules | None = None, learned: Lookup | None = None) -> None:
        self._rules = rules
        self.learned = learned

    @classmethod
    async def open(cls, pool: asyncpg.Pool, learned: Lookup | None = None) -> Router:
        router = cls(learned=learned)
        await router.load(pool)
        return router

    async def load(self, pool: asyncpg.Pool) -> None:
        """Upsert the department catalogue, load the dispatch rules and topics."""
        async with pool.acquire() as conn, conn.transaction():
            await rule_store.sync_departments(conn)
            self._rules = await rule_store.load_rules(conn)

    @property
    def rules(self) -> RoutingRules:
        if self._rules is None:
            raise RuntimeError("the dispatch rules are not loaded yet")
        return self._rules

    @rules.setter
    def rules(self, rules: RoutingRules) -> None:
        self._rules = rules

    def _service(self) -> Learned | None:
        return self.learned() if self.learned else None

    # ---- asked by the ticket use cases --------------------------------------------------

    def knows_unit(self, code: str) -> bool:
        return code in self.rules.departments

    def knows_topic(self, code: str) -> bool:
        return code in self.rules.topics

    def route(self, ticket: Ticket, cuts: Cuts | None = None, *, rules_only: bool = False) -> Decision:
        decision = self.rules.route_ticket(ticket, cuts)
        learned = None if rules_only else self._service()
        if learned is None or not learned.ready:
            return decision
        d = learned.propose(_text(ticket), ticket.kind.value, _district(ticket),
                            RuleOutcome(decision.suggested, decision.confidence, decision.matched_rules))
        doc = d.doc()
        if d.decided_by == "rules":
            return replace(decision, learned=doc)
        lead = d.department or HALL
        return Decision(lead=lead, assisting=decision.assisting if lead == decision.lead else (),
                        confidence=d.confidence, matched_rules=decision.matched_rules, needs_human=d.needs_human,
                        suggested=d.candidates[0].department if d.candidates else decision.suggested, learned=doc)

    # ---- told by the ticket use cases (best effort, after the ticket's own write) ------

    async def chosen(self, ticket: Ticket, source: str, actor: str) -> None:
        learned = self._service()
        if learned is None or not ticket.lead_department or ticket.lead_department == HALL:
            return
        try:
            await learned.record_decision(text=_text(ticket), department=ticket.lead_department, source=source,
                                          actor=actor, kind=ticket.kind.value, district=_district(ticket),
                                          ticket_number=ticket.number)
        except Exception:  # the ticket is handled; a lost example is not worth failing it
            log.warning("dispatch_example_not_recorded", ticket_id=ticket.number, exc_info=True)

    async def filed(self, ticket: Ticket, decision: Decision | None) -> None:
        learned = self._service()
        if learned is None:
            return
        lead = ticket.lead_department
        unit = lead if lead and lead != HALL else (decision.suggested if decision else None)
        try:
            # the calls it was filed from: their live transcripts may have been counted already
            await learned.observe(ticket.number, ticket.created_at, _district(ticket), _text(ticket), unit,
                                  supersedes=ticket.call_ids)
        except Exception:
            log.warning("dispatch_observe_failed", ticket_id=ticket.number, exc_info=True)

    async def resolved(self, ticket: Ticket) -> list[str]:
        """A resolved ticket closes the incidents it is the master of; returns their linked requests."""
        learned = self._service()
        if learned is None:
            return []
        try:
            refs = await learned.master_resolved(ticket.number)
        except Exception:
            log.warning("dispatch_incident_close_failed", ticket_id=ticket.number, exc_info=True)
            return []
        if refs:
            log.info("dispatch_incident_closed", ticket_id=ticket.number, linked=len(refs))
        return refs

    async def merged(self, number: str, into: str) -> None:
        """A ticket merged (并单) into an incident's master ticket is confirmed as one of its requests."""
        learned = self._service()
        if learned is None:
            return
        try:
            ids = await learned.merged(number, into)
        except Exception:
            log.warning("dispatch_incident_merge_failed", ticket_id=number, exc_info=True)
            return
        if ids:
            log.info("dispatch_incident_merged", ticket_id=number, master=into, incidents=ids)
