"""Wiring of the knowledge feature (知识库) into the app (see callcenter/context.py).

`routes(app)` adds ``/api/knowledge/...`` (:mod:`.http`) and the desk's suggestion widget
(``/static/knowledge/suggest.js``, loaded by the agent desktop). `start(ctx)` builds the
service, loads every article into the search index and, every `TICK` seconds, picks up what
another process changed and expires the articles past their last valid day. `seed()` writes the
sample articles (``callcenter seed``; an article already stored is kept as it is)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date

import asyncpg
from aiohttp import web

from callcenter.context import Context
from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every
from callcenter.infra.web import Provided
from callcenter.knowledge import model, pages, store
from callcenter.knowledge.http import KnowledgeRoutes
from callcenter.knowledge.seeding import sample_articles
from callcenter.knowledge.service import Filing, Gaps, KnowledgeService, Replies

log = get_logger("knowledge")
TICK = 60.0


class KnowledgePlugin:
    name = "knowledge"

    def __init__(self, filing: Filing | None = None, knows_unit: Callable[[str], bool] | None = None,
                 gaps: Gaps | None = None, replies: Replies | None = None) -> None:
        self.service: Provided[KnowledgeService] = Provided("knowledge service")
        self.filing, self.knows_unit, self.gaps, self.replies = filing, knows_unit, gaps, replies

    def routes(self, app: web.Application) -> None:
        KnowledgeRoutes(self.service).add(app)
        pages.routes(app)

    async def seed(self, conn: asyncpg.Connection, today: date) -> str:
        written = 0
        for a in sample_articles():
            if await store.get(conn, a.id) is None:
                async with conn.transaction():
                    await store.save(conn, a, "seed", model.changed_fields(None, a))
                written += 1
        return f"{written} sample knowledge articles written ({len(sample_articles()) - written} kept as stored)"

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        svc = KnowledgeService(ctx.pool, self.filing, self.knows_unit, self.gaps, self.replies)
        loaded = await svc.refresh()
        self.service.set(svc)
        log.info("knowledge_started", articles=loaded, offered=len(svc.index))
        job = asyncio.create_task(every(TICK, svc.refresh, log=log, failed="knowledge_refresh_failed"),
                                  name="knowledge-refresh")
        try:
            yield
        finally:
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
            self.service.set(None)
