"""`callcenter seed`: load the reference data into PostgreSQL, idempotently: the department
catalogue and dispatch rules (tickets), the seat roster and its shift plan (ACD).

A plugin that has reference data implements `callcenter.context.Seeds`.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import asyncpg

from callcenter.app import build_plugins
from callcenter.context import Seeds
from callcenter.infra import db
from callcenter.infra.settings import Settings


async def seed(settings: Settings) -> str:
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    pool = await db.create_pool(settings.database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            return await _seed(conn, today)
    finally:
        await pool.close()


async def _seed(conn: asyncpg.Connection, today: date) -> str:
    await db.migrate(conn)
    done = []
    for plugin in build_plugins().ordered():
        if isinstance(plugin, Seeds):
            async with conn.transaction():
                done.append(f"{plugin.name}: {await plugin.seed(conn, today)}")
    return "seeded: " + "; ".join(done)
