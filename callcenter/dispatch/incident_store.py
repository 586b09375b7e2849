"""Incidents as the IVR, the agent desk and the board see them (PostgreSQL; translation only):
the announcement and its rendered prompt, calls the IVR attached (with the caller's number),
tickets an agent merged (并单), and the incident a new ticket may be proposed for."""

from __future__ import annotations

from typing import Any

import asyncpg

from callcenter.infra import outbox
from callcenter.infra.phones import canonical_phone


async def set_prompt(conn: asyncpg.Connection, incident_id: int, text: str, prompt: str | None,
                     seconds: float | None, *, announce: bool | None = None) -> tuple[bool, str | None]:
    """Store the announcement (and, once rendered, its sound file's name and length); `announce`
    None keeps whether it is on. The board hears of it (``incidents/<id>/announcement``).
    Returns whether the incident was open and stored it, and the sound file it had before."""
    async with conn.transaction():
        row = await conn.fetchrow(
            "UPDATE dispatch_incidents i SET prompt_text = $2, prompt = $3, prompt_s = $4, "
            "announce = coalesce($5, i.announce) "
            "FROM (SELECT id, prompt FROM dispatch_incidents WHERE id = $1 FOR UPDATE) before "
            "WHERE i.id = before.id AND i.status = 'open' RETURNING i.announce, before.prompt AS before",
            incident_id, text, prompt, seconds, announce)
        if row is None:
            return False, None
        await outbox.write(conn, [(f"incidents/{incident_id}/announcement", {
            "id": incident_id, "announce": row["announce"], "prompt": prompt})])
    return True, row["before"]


async def unused_prompts(conn: asyncpg.Connection, prompts: list[str]) -> list[str]:
    """Those of the sound files no open incident's announcement uses (a closed incident's is
    never spoken again; two incidents with the same text share one file)."""
    return [r["p"] for r in await conn.fetch(
        "SELECT p FROM unnest($1::text[]) AS p WHERE NOT EXISTS "
        "(SELECT 1 FROM dispatch_incidents WHERE prompt = p AND status = 'open')", prompts)]


async def get(conn: asyncpg.Connection, incident_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM dispatch_incidents WHERE id = $1", incident_id)
    return dict(row) if row else None


async def announced_for(conn: asyncpg.Connection, phone: str) -> dict[str, Any] | None:
    """The open, announced incident to offer a caller: the one of the district the caller last
    filed a ticket from; a caller of unknown district hears the newest one (it names its district,
    so a caller from elsewhere passes it by)."""
    return await conn.fetchrow(
        "WITH home AS (SELECT district FROM tickets WHERE caller_phone = $1 AND district IS NOT NULL "
        "              ORDER BY created_at DESC LIMIT 1) "
        "SELECT id, district, prompt, prompt_s, prompt_text FROM dispatch_incidents "
        "WHERE status = 'open' AND announce AND prompt IS NOT NULL "
        "  AND (NOT EXISTS (SELECT 1 FROM home) OR district = (SELECT district FROM home)) "
        "ORDER BY opened_at DESC, id DESC LIMIT 1", canonical_phone(phone))


async def attach_call(conn: asyncpg.Connection, incident_id: int, call_id: str, phone: str) -> bool:
    """The IVR attached a caller's call to the incident: a confirmed link with the caller's number.
    False when the incident is no longer open."""
    async with conn.transaction():
        master = await conn.fetchval("SELECT master_ref FROM dispatch_incidents WHERE id = $1 AND status = 'open' "
                                     "FOR SHARE", incident_id)
        if master is None:
            return False
        await conn.execute(
            "INSERT INTO dispatch_incident_links (incident_id, ref, via, confirmed, phone) "
            "VALUES ($1, $2, 'ivr', true, $3) ON CONFLICT (incident_id, ref) DO UPDATE SET confirmed = true, "
            "phone = EXCLUDED.phone", incident_id, call_id, canonical_phone(phone) or None)
        await outbox.write(conn, [(f"incidents/{incident_id}/linked", {
            "id": incident_id, "ref": call_id, "via": "ivr", "master_ref": master})])
    return True


async def merged(conn: asyncpg.Connection, ref: str, master_ref: str) -> list[int]:
    """Ticket `ref` was merged (并单) into `master_ref`: confirmed links to the open incidents
    that ticket is the master of; returns their ids."""
    async with conn.transaction():
        ids = [r["id"] for r in await conn.fetch(
            "SELECT id FROM dispatch_incidents WHERE master_ref = $1 AND status = 'open'", master_ref)]
        for iid in ids:
            await conn.execute(
                "INSERT INTO dispatch_incident_links (incident_id, ref, via, confirmed) VALUES ($1, $2, 'agent', true) "
                "ON CONFLICT (incident_id, ref) DO UPDATE SET confirmed = true, via = 'agent'", iid, ref)
            await outbox.write(conn, [(f"incidents/{iid}/linked", {
                "id": iid, "ref": ref, "via": "agent", "master_ref": master_ref})])
    return ids


async def proposal(conn: asyncpg.Connection, ref: str) -> dict[str, Any] | None:
    """The open incident the detector matched ticket `ref` to and no agent confirmed yet
    (`others`: its requests besides this one, for the desk's "已有N件")."""
    row = await conn.fetchrow(
        "SELECT i.id, i.district, i.title, i.keywords, i.master_ref, i.opened_at, "
        "(SELECT count(*) FROM dispatch_incident_links x WHERE x.incident_id = i.id) AS linked, "
        "(SELECT count(*) FROM dispatch_incident_links x WHERE x.incident_id = i.id AND x.ref <> $1) AS others "
        "FROM dispatch_incident_links l JOIN dispatch_incidents i ON i.id = l.incident_id "
        "WHERE l.ref = $1 AND NOT l.confirmed AND i.status = 'open' AND i.master_ref <> $1 "
        "ORDER BY i.opened_at DESC LIMIT 1", ref)
    return dict(row) if row else None


async def replace_links(conn: asyncpg.Connection, renames: list[tuple[int, str, str]]) -> None:
    """(incident, call, ticket): a ticket filed from a call the live transcript linked takes the
    call's link (one request, one link); the ticket's own link, if it had one, is kept."""
    async with conn.transaction():
        for iid, old, new in renames:
            moved = await conn.fetchval(
                "UPDATE dispatch_incident_links SET ref = $3 WHERE incident_id = $1 AND ref = $2 AND NOT EXISTS "
                "(SELECT 1 FROM dispatch_incident_links x WHERE x.incident_id = $1 AND x.ref = $3) RETURNING true",
                iid, old, new)
            if not moved:
                await conn.execute("INSERT INTO dispatch_incident_links (incident_id, ref, via) "
                                   "VALUES ($1, $2, 'detector') ON CONFLICT DO NOTHING", iid, new)
                await conn.execute("DELETE FROM dispatch_incident_links WHERE incident_id = $1 AND ref = $2 "
                                   "AND NOT confirmed", iid, old)


async def caller_district(conn: asyncpg.Connection, call_id: str) -> str | None:
    """The district of the latest ticket the call's caller filed (None: never filed one, anonymous)."""
    return await conn.fetchval(
        "SELECT t.district FROM calls c JOIN tickets t ON t.caller_phone = c.caller "
        "WHERE c.call_id = $1 AND c.caller <> '' AND t.district IS NOT NULL "
        "ORDER BY t.created_at DESC LIMIT 1", call_id)


OPEN_INCIDENTS = """
SELECT i.id, i.district, i.title, i.master_ref, i.opened_at, i.announce,
       i.prompt IS NOT NULL AS prompt_ready, i.prompt_text,
       (SELECT count(*) FROM dispatch_incident_links l WHERE l.incident_id = i.id) AS linked
FROM dispatch_incidents i WHERE i.status = 'open' ORDER BY i.opened_at DESC, i.id DESC LIMIT $1
"""


async def open_incidents(pool: asyncpg.Pool | asyncpg.Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The open mass incidents (热点诉求) as the board's panel shows them, newest first: district,
    summary, how many requests are linked, when it opened, and its IVR announcement: spoken
    (`announce`), or rendered and waiting for a supervisor's confirmation (`prompt_ready`, with
    its text)."""
    rows = await pool.fetch(OPEN_INCIDENTS, limit)
    return [{**dict(r), "opened_at": r["opened_at"].isoformat()} for r in rows]
