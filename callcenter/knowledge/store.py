"""Articles in PostgreSQL (asyncpg): the current row of each article and every version as it
was written (``knowledge_versions``: the whole article, who, when, what changed)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg

from callcenter.knowledge.model import Article, Status, article_id

COLUMNS = ("id", "title", "questions", "answer", "full_text", "unit", "category", "districts", "source",
           "source_date", "valid_from", "valid_until", "review_on", "status", "version", "updated_by",
           "updated_at")
_UPSERT = (f"INSERT INTO knowledge_articles ({', '.join(COLUMNS)}) VALUES "
           f"({', '.join(f'${i}' for i in range(1, len(COLUMNS) + 1))}) ON CONFLICT (id) DO UPDATE SET "
           + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:]))


def row_of(a: Article) -> list[Any]:
    values = {c: getattr(a, c) for c in COLUMNS}
    values |= {"questions": list(a.questions), "districts": list(a.districts), "status": a.status.value}
    return [values[c] for c in COLUMNS]


def article_of(r: asyncpg.Record | dict[str, Any]) -> Article:
    d = dict(r)
    d["questions"], d["districts"], d["status"] = tuple(d["questions"]), tuple(d["districts"]), Status(d["status"])
    return Article(**{c: d[c] for c in COLUMNS})


def _content(a: Article) -> str:
    return json.dumps(a.doc(), ensure_ascii=False, default=str)


async def next_id(conn: asyncpg.Connection | asyncpg.Pool) -> str:
    return article_id(await conn.fetchval("SELECT nextval('knowledge_article_seq')"))


async def get(conn: asyncpg.Connection | asyncpg.Pool, ident: str, *, lock: bool = False) -> Article | None:
    r = await conn.fetchrow(f"SELECT * FROM knowledge_articles WHERE id = $1{' FOR UPDATE' if lock else ''}", ident)
    return article_of(r) if r else None


async def save(conn: asyncpg.Connection, a: Article, action: str, changed: list[str]) -> None:
    """The article's current row and its version row, in the caller's transaction."""
    await conn.execute(_UPSERT, *row_of(a))
    await conn.execute("INSERT INTO knowledge_versions (article_id, version, actor, at, action, changed, content)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (article_id, version) DO NOTHING",
                       a.id, a.version, a.updated_by, a.updated_at, action, changed, _content(a))


async def all_articles(conn: asyncpg.Connection | asyncpg.Pool) -> list[Article]:
    return [article_of(r) for r in await conn.fetch("SELECT * FROM knowledge_articles ORDER BY id")]


async def listing(conn: asyncpg.Connection | asyncpg.Pool, *, unit: str | None = None, status: str | None = None,
                  review_before: date | None = None, limit: int = 100, after: str = "") -> list[Article]:
    rows = await conn.fetch(
        "SELECT * FROM knowledge_articles WHERE ($1::text IS NULL OR unit = $1) AND ($2::text IS NULL OR status = $2)"
        " AND ($3::date IS NULL OR (review_on < $3 AND status <> 'expired')) AND id > $4 ORDER BY id LIMIT $5",
        unit, status, review_before, after, limit)
    return [article_of(r) for r in rows]


async def versions(conn: asyncpg.Connection | asyncpg.Pool, ident: str) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT version, actor, at, action, changed, content FROM knowledge_versions"
                            " WHERE article_id = $1 ORDER BY version", ident)
    return [{"version": r["version"], "actor": r["actor"], "at": r["at"].isoformat(), "action": r["action"],
             "changed": list(r["changed"]), "content": json.loads(r["content"]) if isinstance(r["content"], str)
             else r["content"]} for r in rows]

