"""The word lists the hall edits (服务禁语 and the citizen's anger words, `qa_word_lists`): a
list without a row is the scorecard file's; each change is audited with the words added and
removed. The checks read the lists when they run (another controller may have changed them)."""

from __future__ import annotations

from typing import Any

import asyncpg

from callcenter.accounts.api import Audit
from callcenter.quality.model import clean_words
from callcenter.quality.scorecard import LISTED


class WordListRefused(ValueError):
    pass


class WordLists:
    def __init__(self, pool: asyncpg.Pool, defaults: dict[str, list[str]]) -> None:
        self.pool, self.defaults = pool, defaults  # defaults: the scorecard file's lists

    async def current(self) -> dict[str, list[str]]:
        """Check kind -> the words in force (the hall's, else the file's)."""
        rows = await self.pool.fetch("SELECT name, words FROM qa_word_lists")
        return {**self.defaults, **{r["name"]: list(r["words"]) for r in rows}}

    async def all(self) -> list[dict[str, Any]]:
        rows = {r["name"]: r for r in await self.pool.fetch("SELECT * FROM qa_word_lists")}
        return [{"name": name, "words": list(rows[name]["words"]) if name in rows else self.defaults.get(name, []),
                 "edited": name in rows, "updated_by": rows[name]["updated_by"] if name in rows else None,
                 "updated_at": rows[name]["updated_at"].isoformat() if name in rows else None}
                for name in LISTED]

    async def replace(self, name: str, words: list[str], actor: str, username: str,
                      address: str | None = None) -> dict[str, Any]:
        if name not in LISTED:
            raise WordListRefused(f"no such word list: {name} (one of {', '.join(LISTED)})")
        cleaned, why = clean_words(words)
        if why:
            raise WordListRefused(why)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('qa words ' || $1))", name)
            before = await conn.fetchval("SELECT words FROM qa_word_lists WHERE name=$1", name)
            before = list(before) if before is not None else self.defaults.get(name, [])
            await conn.execute(
                "INSERT INTO qa_word_lists (name, words, updated_by) VALUES ($1, $2, $3) ON CONFLICT (name)"
                " DO UPDATE SET words = EXCLUDED.words, updated_by = EXCLUDED.updated_by, updated_at = now()",
                name, cleaned, actor)
            added = [w for w in cleaned if w not in before]
            removed = [w for w in before if w not in cleaned]
            await Audit(conn).write(username, "qa_word_list_changed", target=name, address=address,
                                    added=added, removed=removed)
        return {"name": name, "words": cleaned, "added": added, "removed": removed}
