"""Dispatch data in PostgreSQL: model versions (activate = roll back or forward), the hall's
decisions as training examples, and incidents with their linked requests. An incident opened
or closed is also an MQTT event (``incidents/opened``, ``incidents/closed``) through the
transactional outbox, for the board. Translation only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from callcenter.dispatch.model import Example, LinearModel
from callcenter.infra import outbox

SOURCES = ("human_dispatch", "objection", "reassignment", "correction")


class UnknownVersion(LookupError):
    pass


@dataclass(frozen=True)
class ModelVersion:
    version: int
    analyzer: str
    threshold: float
    examples: int
    metrics: dict[str, Any]
    active: bool
    created_by: str
    created_at: datetime
    activated_at: datetime | None

    def doc(self) -> dict[str, Any]:
        return {**self.__dict__, "created_at": self.created_at.isoformat(),
                "activated_at": self.activated_at.isoformat() if self.activated_at else None}


_COLS = "version, analyzer, threshold, examples, metrics, active, created_by, created_at, activated_at"


async def save_model(conn: asyncpg.Connection, model: LinearModel, metrics: dict[str, Any], actor: str,
                     *, activate: bool = True) -> ModelVersion:
    async with conn.transaction():
        version = await conn.fetchval(
            "INSERT INTO dispatch_models (analyzer, threshold, examples, metrics, blob, created_by) "
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING version",
            model.analyzer, model.threshold, int(model.meta.get("examples", 0)), metrics, model.to_bytes(), actor)
        if activate:
            return await activate_version(conn, version)
        return await get_version(conn, version)


async def get_version(conn: asyncpg.Connection, version: int) -> ModelVersion:
    row = await conn.fetchrow(f"SELECT {_COLS} FROM dispatch_models WHERE version = $1", version)
    if row is None:
        raise UnknownVersion(f"no dispatch model version {version}")
    return ModelVersion(**dict(row))


async def activate_version(conn: asyncpg.Connection, version: int) -> ModelVersion:
    """Make `version` the one in force (a rollback when it is older)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(12345014)")
        if not await conn.fetchval("SELECT 1 FROM dispatch_models WHERE version = $1", version):
            raise UnknownVersion(f"no dispatch model version {version}")
        await conn.execute("UPDATE dispatch_models SET active = false WHERE active AND version <> $1", version)
        await conn.execute("UPDATE dispatch_models SET active = true, activated_at = now() "
                           "WHERE version = $1 AND NOT active", version)
    return await get_version(conn, version)


async def active_model(conn: asyncpg.Connection) -> tuple[int, LinearModel] | None:
    row = await conn.fetchrow("SELECT version, blob FROM dispatch_models WHERE active")
    return (row["version"], LinearModel.from_bytes(bytes(row["blob"]))) if row else None


async def active_version(conn: asyncpg.Connection) -> int | None:
    return await conn.fetchval("SELECT version FROM dispatch_models WHERE active")


async def list_versions(conn: asyncpg.Connection, limit: int = 50) -> list[ModelVersion]:
    rows = await conn.fetch(f"SELECT {_COLS} FROM dispatch_models ORDER BY version DESC LIMIT $1", limit)
    return [ModelVersion(**dict(r)) for r in rows]


async def record_example(conn: asyncpg.Connection, *, text: str, department: str, source: str, actor: str,
                         kind: str | None = None, district: str | None = None,
                         ticket_number: str | None = None) -> None:
    """One training example per ticket: a later decision on the same ticket replaces it."""
    await conn.execute(
        "INSERT INTO dispatch_examples (ticket_number, text, kind, district, department, source, created_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (ticket_number) DO UPDATE SET "
        "text = EXCLUDED.text, kind = EXCLUDED.kind, district = EXCLUDED.district, "
        "department = EXCLUDED.department, source = EXCLUDED.source, created_by = EXCLUDED.created_by, "
        "created_at = now()",
        ticket_number, text, kind, district, department, source, actor)


async def hall_examples(conn: asyncpg.Connection) -> list[Example]:
    rows = await conn.fetch("SELECT text, department, kind, district, coalesce(ticket_number, id::text) AS ref "
                            "FROM dispatch_examples ORDER BY id")
    return [Example(r["text"], r["department"], r["kind"], r["district"], f"hall:{r['ref']}") for r in rows]


async def examples_since_active(conn: asyncpg.Connection) -> int:
    """Hall examples recorded after the model in force was trained (all of them if none is)."""
    return await conn.fetchval(
        "SELECT count(*) FROM dispatch_examples WHERE created_at > "
        "coalesce((SELECT created_at FROM dispatch_models WHERE active), '-infinity')")


# ---- incidents ---------------------------------------------------------------------------

async def open_incident(conn: asyncpg.Connection, *, district: str, department: str | None, title: str,
                        keywords: list[str], master_ref: str, opened_at: datetime, refs: list[str],
                        signature: dict[str, int]) -> int:
    async with conn.transaction():
        iid = await conn.fetchval(
            "INSERT INTO dispatch_incidents (district, department, title, keywords, signature, master_ref, opened_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id", district, department, title, keywords, signature,
            master_ref, opened_at)
        await conn.executemany("INSERT INTO dispatch_incident_links (incident_id, ref, via) VALUES ($1, $2, 'detector') "
                               "ON CONFLICT DO NOTHING", [(iid, r) for r in refs])
        await outbox.write(conn, [("incidents/opened", {
            "id": iid, "district": district, "department": department, "title": title, "keywords": keywords,
            "master_ref": master_ref, "opened_at": opened_at.isoformat(), "linked": len(refs)})])
    return iid


async def link(conn: asyncpg.Connection, incident_id: int, ref: str, via: str, *, confirmed: bool = False) -> None:
    await conn.execute(
        "INSERT INTO dispatch_incident_links (incident_id, ref, via, confirmed) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (incident_id, ref) DO UPDATE SET confirmed = dispatch_incident_links.confirmed "
        "OR EXCLUDED.confirmed", incident_id, ref, via, confirmed)


async def open_incidents(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Open incidents with their links and the time of the latest one (to restore the detector)."""
    rows = await conn.fetch(
        "SELECT i.id, i.district, i.department, i.master_ref, i.opened_at, i.signature, "
        "array_agg(l.ref ORDER BY l.linked_at, l.ref) AS refs, max(l.linked_at) AS last_at "
        "FROM dispatch_incidents i JOIN dispatch_incident_links l ON l.incident_id = i.id "
        "WHERE i.status = 'open' GROUP BY i.id ORDER BY i.id")
    return [dict(r) for r in rows]


async def add_links(conn: asyncpg.Connection, links: list[tuple[int, str]]) -> None:
    """The detector's links, in one batch (a request already linked keeps its row)."""
    await conn.executemany("INSERT INTO dispatch_incident_links (incident_id, ref, via) VALUES ($1, $2, 'detector') "
                           "ON CONFLICT DO NOTHING", links)


async def open_incidents_of(conn: asyncpg.Connection, master_ref: str) -> list[int]:
    return [r["id"] for r in await conn.fetch(
        "SELECT id FROM dispatch_incidents WHERE master_ref = $1 AND status = 'open'", master_ref)]


async def close_incident(conn: asyncpg.Connection, incident_id: int) -> list[str]:
    """Close it; returns every linked request (each citizen gets the callback)."""
    async with conn.transaction():
        closed = await conn.fetchval("UPDATE dispatch_incidents SET status = 'closed', closed_at = now(), "
                                     "announce = false WHERE id = $1 AND status = 'open' RETURNING id", incident_id)
        refs = [r["ref"] for r in await conn.fetch(
            "SELECT ref FROM dispatch_incident_links WHERE incident_id = $1 ORDER BY linked_at, ref", incident_id)]
        if closed:
            await outbox.write(conn, [("incidents/closed", {"id": incident_id, "linked": len(refs)})])
    return refs


async def list_incidents(conn: asyncpg.Connection, *, open_only: bool = True) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT i.*, (SELECT count(*) FROM dispatch_incident_links l WHERE l.incident_id = i.id) AS linked "
        f"FROM dispatch_incidents i {'WHERE status = $1' if open_only else 'WHERE $1::text IS NOT NULL'} "
        "ORDER BY opened_at DESC, id DESC", "open")
    return [dict(r) for r in rows]
