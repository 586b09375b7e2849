"""`callcenter seed`: load reference data (departments, seats, rules) into PostgreSQL.

Each feature's plugin may define `async def seed(conn) -> str`; it must be idempotent.
"""

from __future__ import annotations

import asyncpg

from callcenter.app import build_plugins
from callcenter.infra import db
from callcenter.infra.settings import Settings


async def seed(settings: Settings) -> str:
    conn = await asyncpg.connect(settings.database_url, timeout=5)
    try:
        await db.migrate(conn)
        done = []
        for plugin in build_plugins().ordered():
            fn = getattr(plugin, "seed", None)
            if fn is not None:
                async with conn.transaction():
                    done.append(f"{plugin.name}: {await fn(conn)}")
        return "seeded: " + ("; ".join(done) if done else "nothing to seed")
    finally:
        await conn.close()
