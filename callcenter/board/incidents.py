"""The board's panel of open mass incidents (热点诉求): district, summary, how many requests are
linked, when it opened, and its IVR announcement: spoken (`announce`), or rendered and waiting
for a supervisor's confirmation (`prompt_ready`, with its text). Read from the dispatch
feature's tables; refreshed on ``incidents/...`` and ticket events."""

from __future__ import annotations

from typing import Any

import asyncpg

OPEN_INCIDENTS = """
SELECT i.id, i.district, i.title, i.master_ref, i.opened_at, i.announce,
       i.prompt IS NOT NULL AS prompt_ready, i.prompt_text,
       (SELECT count(*) FROM dispatch_incident_links l WHERE l.incident_id = i.id) AS linked
FROM dispatch_incidents i WHERE i.status = 'open' ORDER BY i.opened_at DESC, i.id DESC LIMIT $1
"""


async def open_incidents(pool: asyncpg.Pool, limit: int = 20) -> list[dict[str, Any]]:
    rows = await pool.fetch(OPEN_INCIDENTS, limit)
    return [{**dict(r), "opened_at": r["opened_at"].isoformat()} for r in rows]
