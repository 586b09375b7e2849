"""The knowledge use cases: write, review and publish articles (the roles of
:mod:`.model`), their history, the desk's search, and 直接答复: filing the call's ticket as
answered from an article (through the tickets feature's filing, :class:`Filing`).

Every change is one transaction: the article's row and its version row (who, when, what
changed); then the in-memory index (:mod:`.search`) is updated, so the desk sees a published
article at once and an expired or withdrawn one never again. Another process's changes are
picked up by :meth:`KnowledgeService.refresh` (the plugin runs it every minute), which also
expires the articles past their last valid day.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import asyncpg

from callcenter.infra.logging import get_logger
from callcenter.infra.masking import mask_phones_in
from callcenter.knowledge import model, store
from callcenter.knowledge.model import Article, Editor, Move, NotAllowed, Status, Suggestion
from callcenter.knowledge.search import Index, Terms, article_terms

log = get_logger("knowledge")
LOCAL = ZoneInfo("Asia/Shanghai")


class NotFound(model.KnowledgeError):
    pass


class Conflict(model.KnowledgeError):
    """Someone else changed the article since the version the editor read (409)."""


class Filing(Protocol):
    """The tickets feature files the ticket (its ``create_ticket``)."""

    async def __call__(self, *, actor: str, **fields: Any) -> Any: ...


class Gaps(Protocol):
    """The tickets feature's enquiries not answered from an article since a moment, grouped."""

    async def __call__(self, since: datetime) -> list[dict[str, Any]]: ...


class Replies(Protocol):
    """The tickets feature's enquiry with its department's reply, by ticket number (None: none)."""

    async def __call__(self, number: str) -> dict[str, Any] | None: ...


def today() -> date:
    return datetime.now(LOCAL).date()


def utcnow() -> datetime:
    return datetime.now(UTC)


class KnowledgeService:
    def __init__(self, pool: asyncpg.Pool, filing: Filing | None = None,
                 knows_unit: Callable[[str], bool] | None = None, gaps: Gaps | None = None,
                 replies: Replies | None = None) -> None:
        """``filing``: the tickets feature's filing (直接答复); ``knows_unit``: the dispatch catalogue;
        ``gaps``: the tickets feature's enquiries that found no article."""
        self.pool, self.filing, self.gaps_of, self.replies = pool, filing, gaps, replies
        self.knows_unit = knows_unit or (lambda _code: True)
        self.index = Index()
        self.seen: dict[str, int] = {}  # article id -> version in the index

    # ------------------------------------------------------------------ the index

    async def refresh(self) -> int:
        """Load what changed (all on the first call), expire the stale; returns how many changed."""
        articles = await store.all_articles(self.pool)
        day, at = today(), utcnow()
        for stale in model.stale(articles, day):
            await self._expire(stale, at)
        articles = await store.all_articles(self.pool)
        changed = [a for a in articles if self.seen.get(a.id) != a.version]
        cut = await asyncio.to_thread(lambda: [(a, article_terms(a)) for a in changed])
        for a, tokens in cut:
            if self.seen.get(a.id, 0) > a.version:
                continue  # changed here while the words were cut: the newer version stays
            self._index(a, tokens, reweigh=False)
        if changed:
            self.index.reweigh()
        return len(changed)

    def _index(self, a: Article, tokens: Terms | None = None, *, reweigh: bool = True) -> None:
        self.seen[a.id] = a.version
        if a.status is Status.PUBLISHED:
            self.index.put(a, tokens, reweigh=reweigh)
        else:
            self.index.drop(a.id)

    async def _expire(self, a: Article, at: datetime) -> None:
        who = Editor("system:knowledge", "kb")
        async with self.pool.acquire() as conn, conn.transaction():
            current = await store.get(conn, a.id, lock=True)
            if current is None or current.version != a.version:
                return
            after = model.move(who, current, Move.EXPIRE, at)
            await store.save(conn, after, "expire", ["status"])
        log.info("article_expired", article=a.id, valid_until=str(a.valid_until))
        self._index(after)

    def search(self, query: str, *, district: str | None = None, unit: str | None = None,
               prefer: str | None = None, limit: int = 3) -> list[Suggestion]:
        return self.index.search(query, today=today(), district=district, unit=unit, prefer=prefer, limit=limit)

    # ------------------------------------------------------------------ writing

    def _check_unit(self, unit: str) -> None:
        if not self.knows_unit(unit):
            raise model.FieldProblem("unit", f"{unit!r} is not a unit of the dispatch catalogue")

    async def create(self, who: Editor, fields: dict[str, Any]) -> Article:
        self._check_unit(fields.get("unit", ""))
        async with self.pool.acquire() as conn, conn.transaction():
            ident = await store.next_id(conn)
            while await store.get(conn, ident) is not None:  # an imported article took this id
                ident = await store.next_id(conn)
            draft = Article(id=ident, **fields)
            a = model.create(who, draft, utcnow())
            await store.save(conn, a, "create", ["created"])
        self._index(a)
        log.info("article_created", article=a.id, unit=a.unit, actor=who.actor)
        return a

    async def edit(self, who: Editor, ident: str, changes: dict[str, Any], version: int | None) -> Article:
        if "unit" in changes:
            self._check_unit(changes["unit"])
        async with self.pool.acquire() as conn, conn.transaction():
            current = await self._current(conn, ident, who, version)
            a = model.edit(who, current, changes, utcnow())
            await store.save(conn, a, "edit", model.changed_fields(current, a))
        self._index(a)
        return a

    async def move(self, who: Editor, ident: str, what: Move, version: int | None) -> Article:
        async with self.pool.acquire() as conn, conn.transaction():
            current = await self._current(conn, ident, who, version)
            a = model.move(who, current, what, utcnow())
            await store.save(conn, a, what.value, ["status"])
        self._index(a)
        log.info("article_moved", article=a.id, move=what.value, status=a.status.value, actor=who.actor)
        return a

    async def _current(self, conn: asyncpg.Connection, ident: str, who: Editor, version: int | None) -> Article:
        current = await store.get(conn, ident, lock=True)
        if current is None or not self._visible(current, who):
            raise NotFound(f"no article {ident}")
        if version is not None and version != current.version:
            raise Conflict(f"article {ident} is at version {current.version}, not {version}")
        return current

    @staticmethod
    def _visible(a: Article, who: Editor) -> bool:
        """Writers see every article of theirs; agents (and the rest) only what is published."""
        if who.reviewer or who.role == "admin":
            return True
        if who.role == "dept":
            return a.unit == who.unit or a.status is Status.PUBLISHED
        return a.status is Status.PUBLISHED

    # ------------------------------------------------------------------ reading

    async def get(self, who: Editor, ident: str) -> Article:
        a = await store.get(self.pool, ident)
        if a is None or not self._visible(a, who):
            raise NotFound(f"no article {ident}")
        return a

    async def listing(self, who: Editor, *, unit: str | None, status: str | None, needs_review: bool,
                      limit: int, after: str) -> list[Article]:
        if who.role == "dept":
            unit = unit or who.unit
            if unit != who.unit and status != Status.PUBLISHED.value:
                raise NotAllowed("a department handler lists its own unit's articles (others: published only)")
        elif not (who.reviewer or who.role == "admin"):
            status = Status.PUBLISHED.value
        return await store.listing(self.pool, unit=unit, status=status, review_before=today() if needs_review else None,
                                   limit=limit, after=after)

    async def versions(self, who: Editor, ident: str) -> list[dict[str, Any]]:
        await self.get(who, ident)
        return await store.versions(self.pool, ident)

    # ------------------------------------------------------------------ 直接答复

    async def answer(self, who: Editor, ident: str, *, call_ids: list[str], description: str = "",
                     caller_phone: str = "", district: str | None = None, key: str | None = None) -> Any:
        """File the call's ticket as answered directly (直接答复) from a published article: the
        article's spoken answer is the reply, the article and its unit are linked (no dispatch)."""
        if self.filing is None:
            raise model.KnowledgeError("filing tickets is not available")
        a = await store.get(self.pool, ident)
        if a is None or not a.offered(today()):
            raise NotFound(f"no published article {ident}")
        fields: dict[str, Any] = {
            "kind": "enquiry", "description": description or f"咨询：{a.title}", "category": a.category,
            "call_ids": call_ids, "answer_on_spot": f"{a.answer}（知识库 {a.id} 第{a.version}版）",
            "article": {"id": a.id, "version": a.version, "unit": a.unit, "title": a.title}}
        if caller_phone:
            fields["caller_phone"] = caller_phone
        if district:
            fields["district"] = district
        if key:
            fields["idempotency_key"] = key
        return await self.filing(actor=who.actor, **fields)

    async def gaps(self, days: int) -> list[dict[str, Any]]:
        """知识缺口: the enquiries of the last ``days`` days answered without an article, grouped."""
        if self.gaps_of is None:
            raise model.KnowledgeError("the tickets' enquiries are not available")
        start = datetime.combine(today(), datetime.min.time(), tzinfo=LOCAL) - timedelta(days=days - 1)
        return await self.gaps_of(start)

    async def propose(self, who: Editor, number: str) -> Article:
        """A department's reply to a dispatched enquiry, proposed as a draft article of its unit."""
        found = await self.replies(number) if self.replies is not None else None
        if found is None or not found.get("reply") or found.get("lead_department") in (None, "hall"):
            raise NotFound(f"no enquiry {number} answered by a department")
        # the citizen's words may carry their number; an article is shown on every desk
        unit, asked = found["lead_department"], mask_phones_in(" ".join(found["description"].split()))
        if who.role == "dept" and who.unit != unit:
            raise NotFound(f"no enquiry {number} answered by a department")  # another unit's: not even seen
        return await self.create(who, {
            "title": asked[:60], "questions": (asked[:200],), "answer": found["reply"][:1000], "unit": unit,
            "category": found.get("category") or "", "source": f"工单 {number} 的办结回复"[:200]})

    # ------------------------------------------------------------------ import / export

    async def import_articles(self, who: Editor, articles: list[Article]) -> dict[str, int]:
        """Upsert whole articles (validated by :mod:`.exchange`); each becomes a new version, in draft
        unless the importer is a reviewer and the row says published."""
        for a in articles:
            self._check_unit(a.unit)
            model.may_write(who, a.unit)
        created = updated = 0
        at = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            for a in articles:
                current = await store.get(conn, a.id, lock=True)
                if current is not None and not model.writes(who, current.unit):
                    # the stored article's unit, not the row's, says who may replace it
                    raise NotAllowed(f"{a.id} is an article of {current.unit}: a department handler "
                                     f"replaces the articles of its own unit ({who.unit}) only")
                status = a.status if who.reviewer else Status.DRAFT
                row = replace(a, status=status, version=(current.version + 1) if current else 1,
                              updated_by=who.actor, updated_at=at)
                await store.save(conn, row, "import", model.changed_fields(current, row))
                created, updated = created + (current is None), updated + (current is not None)
        for a in await store.all_articles(self.pool):
            if self.seen.get(a.id) != a.version:
                self._index(a)
        return {"created": created, "updated": updated}

    async def export(self, who: Editor) -> list[Article]:
        articles = await store.all_articles(self.pool)
        return [a for a in articles if self._visible(a, who)]
