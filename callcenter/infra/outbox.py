"""The transactional outbox writer: the one place that writes MQTT events into PostgreSQL.

An event is INSERTed into ``outbox`` by the same statement as the change it describes, and
``NOTIFY outbox`` wakes the relay (:class:`callcenter.infra.mqtt.OutboxRelay`), which
publishes the rows in id order. :func:`write` applies data-modifying SQL and adds its events
in ONE statement (atomic without BEGIN/COMMIT, one round trip: the hot paths of the ACD journal
and the ticket transitions write this way); :func:`insert_sql` and :func:`encode` let a larger
statement (a ticket's creation) carry the same INSERT as one of its CTEs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

Message = tuple[str, dict[str, Any]]  # (topic under the relay's prefix, JSON payload)

NOTIFY = "pg_notify('outbox', '')"


def insert_sql(first: int, *, source: str | None = None) -> str:
    """``INSERT INTO outbox`` of the messages in parameters ``$first`` (topics, ``text[]``) and
    ``$first+1`` (payloads as JSON text, ``text[]``), in their order. ``source`` names a CTE to
    join: nothing is written when it yields no row."""
    join = f"{source}, " if source else ""
    return ("INSERT INTO outbox (topic, payload) SELECT m.topic, m.payload::jsonb "
            f"FROM {join}unnest(${first}::text[], ${first + 1}::text[]) WITH ORDINALITY AS m(topic, payload, n) "
            "ORDER BY m.n")


def encode(messages: Iterable[Message]) -> tuple[list[str], list[str]]:
    """The two array parameters of :func:`insert_sql`."""
    topics: list[str] = []
    payloads: list[str] = []
    for topic, payload in messages:
        topics.append(topic)
        payloads.append(json.dumps(payload, ensure_ascii=False, default=str))
    return topics, payloads


def write_sql(changes: Sequence[str], nargs: int) -> str:
    """One statement: each of ``changes`` (sharing parameters ``$1..$nargs``) as a CTE, then the
    messages (parameters ``nargs+1``, ``nargs+2``) and a NOTIFY when there was one."""
    ctes = "".join(f"change{i} AS ({sql}), " for i, sql in enumerate(changes))
    return (f"WITH {ctes}event AS ({insert_sql(nargs + 1)} RETURNING 1) "
            f"SELECT {NOTIFY} FROM (SELECT 1 FROM event LIMIT 1) AS any_row")


async def write(db: asyncpg.Pool | asyncpg.Connection, messages: Sequence[Message], *,
                changes: Sequence[str] = (), args: Sequence[Any] = ()) -> None:
    """Apply ``changes`` (data-modifying SQL sharing the parameters ``args``) and add ``messages``
    to the outbox, in one statement. Inside a transaction when ``db`` is a connection in one."""
    if messages or changes:
        await db.execute(write_sql(changes, len(args)), *args, *encode(messages))


async def write_with_event(db: asyncpg.Pool | asyncpg.Connection, changes: Sequence[str], args: Sequence[Any],
                           topic: str, payload: dict[str, Any]) -> None:
    """:func:`write` with one event (the ACD journal and call records: one event per change)."""
    await write(db, [(topic, payload)], changes=changes, args=args)
