"""Admin use cases of where tickets go: topics (专题问题库), the department catalogue and the
dispatch rules document. Who may call them is the accounts policy table's (POLICY: the routes of
:mod:`.rules_http`); these use cases check no role of their own.

A topic added or a rules document replaced here takes effect at once for every ticket routed by
this process's :class:`~.router.Router`; other processes pick new topics up on the dispatch
plugin's next tick (:meth:`RulesAdmin.refresh_topics`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from callcenter.dispatch import rule_store
from callcenter.dispatch.router import Router
from callcenter.dispatch.rules import RuleError, TopicExists
from callcenter.infra.logging import get_logger

log = get_logger("dispatch")
#: open tickets by lead department ('hall' for none), from the tickets feature (None: not wired)
OpenTickets = Callable[[], Awaitable[dict[str, int]]]


class FieldError(RuleError):
    """Input names something that does not exist (HTTP 422 naming the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RulesAdmin:
    def __init__(self, pool: asyncpg.Pool, router: Router, open_tickets: OpenTickets | None = None) -> None:
        self.pool, self.router, self.open_tickets = pool, router, open_tickets

    async def add_topic(self, *, code: str, name: str, department: str, keywords: list[str],
                        actor: str) -> dict[str, Any]:
        """Add a topic problem library at run time, persisted, with its own routing."""
        if not self.router.knows_unit(department):
            raise FieldError("department", f"unknown department {department!r}")
        if self.router.knows_topic(code):
            raise TopicExists(f"topic {code!r} already exists")
        async with self.pool.acquire() as conn, conn.transaction():
            row = await rule_store.insert_topic(conn, code=code, name=name, department=department,
                                                keywords=keywords, actor=actor)
            self.router.rules.add_topic(code, name, department, keywords)
        log.info("topic_added", topic=code, department=department)
        return row

    async def topics(self) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            return await rule_store.list_topics(conn)

    async def refresh_topics(self) -> int:
        """Pick up topics another process added."""
        async with self.pool.acquire() as conn:
            return await rule_store.refresh_topics(conn, self.router.rules)

    async def departments(self) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await rule_store.list_departments(conn)
        counts = await self.open_tickets() if self.open_tickets is not None else {}
        return [r | {"categories": list(r["categories"]), "open_tickets": counts.get(r["code"], 0)} for r in rows]

    async def routing_rules(self) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            spec = await rule_store.stored_rules_spec(conn)
        return spec if spec is not None else rule_store.bundled_rules_spec()

    async def replace_routing_rules(self, spec: Any, *, actor: str) -> None:
        """Store a new dispatch-rules document (validated first; 422 naming the bad field)."""
        if not isinstance(spec, dict):
            raise FieldError("body", "the rules document must be a JSON object")
        async with self.pool.acquire() as conn, conn.transaction():
            rules = await rule_store.save_rules(conn, spec, actor, self.router.rules.departments)
            await rule_store.refresh_topics(conn, rules)
        self.router.rules = rules
        log.info("routing_rules_replaced", actor=actor)
