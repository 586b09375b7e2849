"""Departments, topics (专题问题库) and dispatch rules in PostgreSQL (translation only).

At start the bundled department catalogue is upserted and the routing rules are built from
the newest stored rules document (or the bundled YAML), plus every stored topic; the bundled
topics are stored too, so ``GET /api/topics`` lists them all.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import asyncpg
import yaml

from callcenter.dispatch.catalogue import Unit
from callcenter.dispatch.rules import RULES_FILE, RoutingRules, RuleError, default_units

_TOPIC_COLS = "code, name, department, keywords, created_by, created_at"


async def sync_departments(conn: asyncpg.Connection, departments: Mapping[str, Unit] | None = None) -> None:
    departments = departments if departments is not None else default_units()
    await conn.executemany(
        "INSERT INTO departments (code, name, hotline, merge_mode, working_hours, categories) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, "
        "hotline = EXCLUDED.hotline, merge_mode = EXCLUDED.merge_mode, "
        "working_hours = EXCLUDED.working_hours, categories = EXCLUDED.categories, updated_at = now()",
        [(d.code, d.name, d.hotline, d.merge_mode.value if d.merge_mode else None, d.working_hours,
          list(d.categories)) for d in departments.values()])


async def list_departments(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT code, name, hotline, merge_mode, working_hours, categories "
                            "FROM departments ORDER BY code")
    return [dict(r) for r in rows]


@functools.cache
def bundled_rules_spec() -> dict[str, Any]:
    return yaml.safe_load(RULES_FILE.read_text("utf-8"))


async def load_rules(conn: asyncpg.Connection, departments: Mapping[str, Unit] | None = None) -> RoutingRules:
    """Stored rules (newest) or the bundled file, with every stored topic added."""
    spec = await stored_rules_spec(conn)
    if spec is None:
        spec = bundled_rules_spec()
    rules = RoutingRules.from_dict(spec, departments)
    await conn.executemany(
        "INSERT INTO ticket_topics (code, name, department, keywords, created_by) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (code) DO NOTHING",
        [(t.code, t.name, t.department, list(t.keywords), "system:rules") for t in rules.topics.values()])
    await refresh_topics(conn, rules)
    return rules


async def stored_rules_spec(conn: asyncpg.Connection) -> dict[str, Any] | None:
    return await conn.fetchval("SELECT spec FROM ticket_routing_rules ORDER BY id DESC LIMIT 1")


async def refresh_topics(conn: asyncpg.Connection, rules: RoutingRules) -> int:
    """Add stored topics that ``rules`` does not know yet (added by another process)."""
    known = set(rules.topics)
    added = 0
    for row in await conn.fetch(f"SELECT {_TOPIC_COLS} FROM ticket_topics ORDER BY created_at, code"):
        if row["code"] not in known:
            rules.add_topic(row["code"], row["name"], row["department"], row["keywords"])
            added += 1
    return added


async def save_rules(conn: asyncpg.Connection, spec: dict[str, Any], actor: str,
                     departments: Mapping[str, Unit] | None = None) -> RoutingRules:
    """Validate and store a new rules document; raises :class:`RuleError` when invalid."""
    rules = RoutingRules.from_dict(spec, departments)
    await conn.execute("INSERT INTO ticket_routing_rules (spec, created_by) VALUES ($1, $2)", spec, actor)
    return rules


async def insert_topic(conn: asyncpg.Connection, *, code: str, name: str, department: str, keywords: list[str],
                       actor: str) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO ticket_topics (code, name, department, keywords, created_by) VALUES ($1, $2, $3, $4, $5) "
        f"ON CONFLICT (code) DO NOTHING RETURNING {_TOPIC_COLS}", code, name, department, keywords, actor)
    if row is None:
        raise RuleError(f"topic {code!r} already exists")
    return dict(row)


async def list_topics(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(f"SELECT {_TOPIC_COLS} FROM ticket_topics ORDER BY code")]

