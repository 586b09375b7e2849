"""Admin use cases: topics (专题问题库), the department catalogue and the dispatch rules.

A topic added or a rules document replaced here takes effect at once for every use case (they
share the :class:`~.store.TicketStore`); other processes pick new topics up on their next
SLA sweep (:meth:`TicketAdmin.refresh_topics`).
"""

from __future__ import annotations

from typing import Any

from callcenter.infra.logging import get_logger
from callcenter.tickets import catalog, queries
from callcenter.tickets.actors import Actor, Role, check_roles
from callcenter.tickets.errors import FieldError, TopicExists
from callcenter.tickets.schemas import TopicCreate
from callcenter.tickets.store import TicketStore

log = get_logger("tickets")


class TicketAdmin:
    def __init__(self, store: TicketStore) -> None:
        self.store = store

    async def add_topic(self, body: TopicCreate, *, actor: str) -> dict[str, Any]:
        """Add a topic problem library at run time, persisted, with its own routing."""
        who, store = Actor.parse(actor), self.store
        check_roles(who, "adding a topic", Role.ADMIN, Role.SUPERVISOR)
        store.check_department("department", body.department)
        if body.code in store.rules.topics:
            raise TopicExists(f"topic {body.code!r} already exists")
        async with store.pool.acquire() as conn, conn.transaction():
            row = await catalog.insert_topic(conn, code=body.code, name=body.name, department=body.department,
                                             keywords=body.keywords, actor=str(who))
            store.rules.add_topic(body.code, body.name, body.department, body.keywords)
        log.info("topic_added", topic=body.code, department=body.department)
        return row

    async def topics(self) -> list[dict[str, Any]]:
        async with self.store.pool.acquire() as conn:
            return await catalog.list_topics(conn)

    async def refresh_topics(self) -> int:
        """Pick up topics another process added."""
        async with self.store.pool.acquire() as conn:
            return await catalog.refresh_topics(conn, self.store.rules)

    async def departments(self) -> list[dict[str, Any]]:
        async with self.store.pool.acquire() as conn:
            rows = await catalog.list_departments(conn)
            counts = await queries.open_counts_by_department(conn)
        return [r | {"categories": list(r["categories"]), "open_tickets": counts.get(r["code"], 0)} for r in rows]

    async def routing_rules(self) -> dict[str, Any]:
        async with self.store.pool.acquire() as conn:
            spec = await catalog.stored_rules_spec(conn)
        return spec if spec is not None else catalog.bundled_rules_spec()

    async def replace_routing_rules(self, spec: Any, *, actor: str) -> None:
        """Store a new dispatch-rules document (validated first; 422 naming the bad field)."""
        who, store = Actor.parse(actor), self.store
        check_roles(who, "changing the dispatch rules", Role.ADMIN, Role.SUPERVISOR)
        if not isinstance(spec, dict):
            raise FieldError("body", "the rules document must be a JSON object")
        async with store.pool.acquire() as conn, conn.transaction():
            rules = await catalog.save_rules(conn, spec, str(who), store.rules.departments)
            await catalog.refresh_topics(conn, rules)
        store.rules = rules
        log.info("routing_rules_replaced", actor=str(who))
