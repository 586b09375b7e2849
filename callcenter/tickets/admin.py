"""Hall and admin use cases: field-report verification (立案), topics (专题问题库), catalogue,
dispatch rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callcenter.infra.logging import get_logger
from callcenter.tickets import catalog, notifier, queries
from callcenter.tickets import repository as repo
from callcenter.tickets.actors import Actor, Role, check_roles
from callcenter.tickets.core import ROUTER, ServiceBase, routing_doc, utcnow
from callcenter.tickets.errors import FieldError, IllegalTransition, TopicExists
from callcenter.tickets.model import Action, Channel, TicketStatus
from callcenter.tickets.schemas import TopicCreate

log = get_logger("tickets")


class AdminMixin(ServiceBase):
    async def verify_field_report(self, number: str, *, actor: str, lead: str | None = None,
                                  assisting: list[str] = (), version: int | None = None,
                                  at: datetime | None = None) -> repo.Stored:
        """立案: the hall accepts a collector's report, then it is dispatched like any ticket
        (to ``lead`` if given, else by the routing rules; stays in the hall when unsure)."""
        who, at = Actor.parse(actor), at or utcnow()
        check_roles(who, "verifying a field report", Role.SUPERVISOR, Role.AGENT)
        self._department("lead", lead)
        for code in assisting:
            self._department("assisting", code)
        async with self.pool.acquire() as conn, conn.transaction():
            s = await self._locked(conn, number, version)
            t = s.ticket
            if t.channel is not Channel.FIELD_REPORT or t.status is not TicketStatus.ACCEPTED or s["verified_at"]:
                raise IllegalTransition(f"ticket {number} is not a field report waiting for verification")
            decision = None if lead else self.rules.route_ticket(t)
            await repo.set_columns(conn, s.id, verified_at=at, verified_by=str(who),
                                   routing=routing_doc(decision) if decision else None)
            await repo.add_note(conn, s.id, "verify", actor=str(who), at=at, status=t.status, version=t.version)
            await notifier.notice(conn, t, "verify", actor=str(who), at=at)
            if lead or (decision and not decision.needs_human):
                data = {"lead": lead, "assisting": list(assisting)} if lead else \
                    {"lead": decision.lead, "assisting": list(decision.assisting)}
                await self._apply(conn, s, Action.DISPATCH, str(who) if lead else ROUTER, at, data=data)
            log.info("field_report_verified", ticket_id=number, lead=s.ticket.lead_department)
            return await repo.get_by_id(conn, s.id)

    async def unverified_field_reports(self, **page: Any) -> queries.Page:
        async with self.pool.acquire() as conn:
            return await queries.search(conn, queries.SearchFilter(unverified=True), **page)

    # ------------------------------------------------------------------ topics, catalogue, rules

    async def add_topic(self, body: TopicCreate, *, actor: str) -> dict[str, Any]:
        """Add a topic problem library at run time, persisted, with its own routing."""
        who = Actor.parse(actor)
        check_roles(who, "adding a topic", Role.ADMIN, Role.SUPERVISOR)
        self._department("department", body.department)
        if body.code in self.rules.topics:
            raise TopicExists(f"topic {body.code!r} already exists")
        async with self.pool.acquire() as conn, conn.transaction():
            row = await catalog.insert_topic(conn, code=body.code, name=body.name, department=body.department,
                                             keywords=body.keywords, actor=str(who))
            self.rules.add_topic(body.code, body.name, body.department, body.keywords)
        log.info("topic_added", topic=body.code, department=body.department)
        return row

    async def topics(self) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            return await catalog.list_topics(conn)

    async def refresh_topics(self) -> int:
        """Pick up topics another process added."""
        async with self.pool.acquire() as conn:
            return await catalog.refresh_topics(conn, self.rules)

    async def departments(self) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await catalog.list_departments(conn)
            counts = await queries.open_counts_by_department(conn)
        return [r | {"categories": list(r["categories"]), "open_tickets": counts.get(r["code"], 0)} for r in rows]

    async def routing_rules(self) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            spec = await catalog.stored_rules_spec(conn)
        return spec if spec is not None else catalog.bundled_rules_spec()

    async def replace_routing_rules(self, spec: Any, *, actor: str) -> None:
        """Store a new dispatch-rules document (validated first; 422 naming the bad field)."""
        who = Actor.parse(actor)
        check_roles(who, "changing the dispatch rules", Role.ADMIN, Role.SUPERVISOR)
        if not isinstance(spec, dict):
            raise FieldError("body", "the rules document must be a JSON object")
        async with self.pool.acquire() as conn, conn.transaction():
            rules = await catalog.save_rules(conn, spec, str(who), self.rules.departments)
            await catalog.refresh_topics(conn, rules)
        self.rules = rules
        log.info("routing_rules_replaced", actor=str(who))
