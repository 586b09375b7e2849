"""The one outbox writer: one statement per write, parameters numbered after the change's own."""

from __future__ import annotations

import json
from typing import Any

from callcenter.infra import outbox


class RecordingDb:
    """Stands in for a pool or connection: records what would be executed."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    async def execute(self, sql: str, *args: Any) -> str:
        self.statements.append((sql, args))
        return "SELECT 1"


async def test_changes_and_their_events_are_one_statement():
    db = RecordingDb()
    await outbox.write(db, [("calls/c1/started", {"call_id": "c1", "dnis": "12345"}),
                            ("calls/c1/queued", {"call_id": "c1", "queue": "市场"})],
                       changes=["UPDATE calls SET queue = $2 WHERE call_id = $1", "SELECT $1"], args=["c1", "market"])
    [(sql, args)] = db.statements
    assert sql.startswith("WITH change0 AS (UPDATE calls SET queue = $2 WHERE call_id = $1), change1 AS (SELECT $1), ")
    assert "unnest($3::text[], $4::text[]) WITH ORDINALITY" in sql and "ORDER BY m.n" in sql
    assert sql.endswith("SELECT pg_notify('outbox', '') FROM (SELECT 1 FROM event LIMIT 1) AS any_row")
    assert args[:2] == ("c1", "market")
    assert args[2] == ["calls/c1/started", "calls/c1/queued"]
    assert [json.loads(p) for p in args[3]] == [{"call_id": "c1", "dnis": "12345"}, {"call_id": "c1", "queue": "市场"}]
    assert "市场" in args[3][1]  # JSON kept readable (ensure_ascii=False), as the relay sends it


async def test_one_event_without_changes_and_nothing_to_write():
    db = RecordingDb()
    await outbox.write_with_event(db, [], [], "agents/1001/state", {"state": "idle"})
    [(sql, args)] = db.statements
    assert sql.startswith("WITH event AS (INSERT INTO outbox") and "unnest($1::text[], $2::text[])" in sql
    assert args == (["agents/1001/state"], ['{"state": "idle"}'])
    await outbox.write(db, [])
    assert len(db.statements) == 1  # no change and no message: no round trip


def test_insert_sql_as_a_cte_of_a_larger_statement():
    sql = outbox.insert_sql(17, source="t")
    assert "FROM t, unnest($17::text[], $18::text[])" in sql and "RETURNING" not in sql
    topics, payloads = outbox.encode([("tickets/hall/created", {"at": outbox})])
    assert topics == ["tickets/hall/created"] and json.loads(payloads[0])["at"].startswith("<module")
