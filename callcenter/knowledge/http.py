"""The knowledge REST API (``/api/knowledge/...``): articles, their lifecycle moves and
history, the desk's search, 直接答复 from an article, import and export. Handlers translate
and delegate to :class:`~.service.KnowledgeService`; who may call which route is the accounts
policy table, the finer rules (a department's own unit, the reviewer's moves) the model's."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from callcenter.accounts.api import current_user
from callcenter.infra.web import (
    Endpoint,
    HttpError,
    Provided,
    add_endpoints,
    json_error,
    query,
    read_json,
    reply,
)
from callcenter.knowledge import exchange
from callcenter.knowledge.model import (
    DISTRICTS,
    Editor,
    FieldProblem,
    IllegalMove,
    KnowledgeError,
    Move,
    NotAllowed,
)
from callcenter.knowledge.service import Conflict, KnowledgeService, NotFound, today
from callcenter.tickets.api import TicketError, ticket_error_status

TAG = "knowledge"
_CODE = r"^[a-z][a-z0-9_]*$"
_ID = r"^KB\d{5,8}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _district(v: Any) -> Any:
    if v is not None and v not in DISTRICTS:
        raise ValueError(f"unknown district {v!r}: one of {', '.join(DISTRICTS)}")
    return v


class ArticleContent(_In):
    title: str = Field(min_length=1, max_length=120)
    questions: list[str] = Field(min_length=1, max_length=20, description="the citizens' own words")
    answer: str = Field(min_length=1, max_length=1000, description="口径: the spoken answer")
    full_text: str = Field(default="", max_length=20000)
    unit: str = Field(pattern=_CODE, description="owning unit (dispatch catalogue code)")
    category: str = Field(default="", max_length=64)
    districts: list[str] = Field(default_factory=list, max_length=6, description="empty: the whole city")
    source: str = Field(default="", max_length=200)
    source_date: date | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    review_on: date | None = None

    @field_validator("districts")
    @classmethod
    def _districts(cls, v: list[str]) -> list[str]:
        for d in v:
            _district(d)
        return v

    def fields(self, only: set[str] | None = None) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in (only if only is not None else type(self).model_fields)}
        for k in ("questions", "districts"):
            if k in out:
                out[k] = tuple(out[k])
        return out


class ArticleChange(ArticleContent):
    title: str | None = Field(default=None, min_length=1, max_length=120)
    questions: list[str] | None = Field(default=None, min_length=1, max_length=20)
    answer: str | None = Field(default=None, min_length=1, max_length=1000)
    unit: str | None = Field(default=None, pattern=_CODE)
    version: int | None = Field(default=None, ge=1, description="optimistic concurrency: the version read")

    def changes(self) -> dict[str, Any]:
        names = self.model_fields_set - {"version"}
        for name in names & {"title", "questions", "answer", "unit"}:
            if getattr(self, name) is None:
                raise HttpError(422, "invalid", f"'{name}' cannot be null", {name: "cannot be null"})
        return self.fields(names)


class MoveBody(_In):
    version: int | None = Field(default=None, ge=1)
    note: str | None = Field(default=None, max_length=500)


class ListQuery(_In):
    unit: str | None = Field(default=None, pattern=_CODE, max_length=64)
    status: Literal["draft", "under_review", "published", "expired"] | None = None
    needs_review: bool = Field(default=False, description="past the review date (复核), not expired")
    limit: int = Field(default=100, ge=1, le=500)
    after: str = Field(default="", max_length=12, description="the last id of the previous page")


class SearchQuery(_In):
    q: str = Field(min_length=1, max_length=500, description="the citizen's words or the agent's search")
    district: str | None = Field(default=None, max_length=16)
    unit: str | None = Field(default=None, pattern=_CODE, max_length=64, description="that unit's articles only")
    prefer: str | None = Field(default=None, pattern=_CODE, max_length=64,
                               description="rank this unit's articles higher (the IVR choice)")
    limit: int = Field(default=3, ge=1, le=20)

    v_district = field_validator("district")(classmethod(lambda cls, v: _district(v or None)))


class AnswerBody(_In):
    call_id: str | None = Field(default=None, max_length=64, description="the call the citizen is on")
    description: str = Field(default="", max_length=4000)
    district: str | None = None
    caller_phone: str = Field(default="", max_length=32)
    idempotency_key: str | None = Field(default=None, min_length=8, max_length=128)

    v_district = field_validator("district")(classmethod(lambda cls, v: _district(v or None)))


class ImportBody(_In):
    articles: list[Any] | None = Field(default=None, max_length=exchange.MAX_ROWS)
    csv: str | None = Field(default=None, max_length=10_000_000)


class ProposalBody(_In):
    ticket: str = Field(pattern=r"^[A-Z]{2,8}-\d{8}-\d{6}$", description="an enquiry the unit replied to (办结)")


class GapsQuery(_In):
    days: int = Field(default=7, ge=1, le=90, description="today and the days before")


class ExportQuery(_In):
    format: Literal["json", "csv"] = "json"


def editor(request: web.Request) -> Editor:
    user = current_user(request)
    if user is None:
        raise HttpError(401, "login_required", "log in first")
    return Editor(user.actor, user.role.value, user.department)


def errors(exc: Exception) -> web.Response:
    match exc:
        case exchange.ImportRejected():
            return json_error(422, "invalid_rows", str(exc),
                              {f"row {p.row}.{p.field}": p.message for p in exc.problems[:50]},
                              problems=[p.doc() for p in exc.problems[:200]])
        case FieldProblem():
            return json_error(422, "invalid", str(exc), {exc.field: exc.message})
        case NotFound():
            return json_error(404, "not_found", str(exc))
        case NotAllowed():
            return json_error(403, "forbidden", str(exc))
        case IllegalMove():
            return json_error(409, "illegal_transition", str(exc))
        case Conflict():
            return json_error(409, "conflict", str(exc))
        case KnowledgeError():
            return json_error(422, "rejected", str(exc))
        case TicketError():  # 直接答复 files a ticket: the tickets' refusal (403, 409, 422), as theirs says
            status, code = ticket_error_status(exc)
            field = getattr(exc, "field", None)
            return json_error(status, code, str(exc), {field: str(exc)} if field else {})
    raise exc


class KnowledgeRoutes:
    def __init__(self, svc: Provided[KnowledgeService]) -> None:
        self.svc = svc

    def endpoints(self) -> list[Endpoint]:
        base = "/api/knowledge/articles"
        moves = [Endpoint("POST", f"{base}/{{id}}/{m.value}", self._mover(m), summary, TAG, body=MoveBody)
                 for m, summary in ((Move.SUBMIT, "提交审核: submit for review"),
                                    (Move.PUBLISH, "审核发布: publish (reviewer)"),
                                    (Move.REJECT, "退回修改: back to draft (reviewer)"),
                                    (Move.EXPIRE, "下线: expire (reviewer)"))]
        return [
            Endpoint("GET", base, self.listing, "Articles (a department: its own unit's)", TAG, query=ListQuery),
            Endpoint("POST", base, self.create, "Write a new article (draft)", TAG, body=ArticleContent, status=201),
            Endpoint("GET", f"{base}/{{id}}", self.get, "One article", TAG),
            Endpoint("PATCH", f"{base}/{{id}}", self.edit, "Change an article: a new version", TAG, body=ArticleChange),
            *moves,
            Endpoint("GET", f"{base}/{{id}}/versions", self.versions, "Version history: who changed what", TAG),
            Endpoint("POST", f"{base}/{{id}}/answer", self.answer, "直接答复: file the call's ticket answered from "
                     "this article (no dispatch)", TAG, body=AnswerBody, status=201),
            Endpoint("GET", "/api/knowledge/search", self.search, "Search what the desk may offer", TAG, query=SearchQuery),
            Endpoint("POST", "/api/knowledge/proposals", self.propose, "A department's reply to an enquiry as a new "
                     "draft article of its unit", TAG, body=ProposalBody, status=201),
            Endpoint("GET", "/api/knowledge/gaps", self.gaps, "知识缺口: enquiries answered without an article, "
                     "grouped by category and unit", TAG, query=GapsQuery),
            Endpoint("GET", "/api/knowledge/export", self.export, "All articles as JSON or CSV", TAG, query=ExportQuery),
            Endpoint("POST", "/api/knowledge/import", self.import_, "Import articles (JSON rows or CSV text)", TAG,
                     body=ImportBody),
        ]

    def add(self, app: web.Application) -> None:
        add_endpoints(app, self.endpoints(), errors)

    @staticmethod
    def _ident(request: web.Request) -> str:
        ident = request.match_info["id"]
        if not re.match(_ID, ident):
            raise HttpError(404, "not_found", f"no article {ident}")
        return ident

    async def listing(self, request: web.Request) -> web.Response:
        q: ListQuery = query(request, ListQuery)
        items = await self.svc.get().listing(editor(request), unit=q.unit, status=q.status,
                                             needs_review=q.needs_review, limit=q.limit, after=q.after)
        day = today()
        return reply({"items": [a.doc(day) for a in items], "next_after": items[-1].id if len(items) == q.limit else None})

    async def create(self, request: web.Request) -> web.Response:
        body = await read_json(request, ArticleContent)
        a = await self.svc.get().create(editor(request), body.fields())
        return reply(a.doc(), 201)

    async def get(self, request: web.Request) -> web.Response:
        return reply((await self.svc.get().get(editor(request), self._ident(request))).doc(today()))

    async def edit(self, request: web.Request) -> web.Response:
        body = await read_json(request, ArticleChange)
        a = await self.svc.get().edit(editor(request), self._ident(request), body.changes(), body.version)
        return reply(a.doc())

    def _mover(self, what: Move):
        async def handler(request: web.Request) -> web.Response:
            body = await read_json(request, MoveBody, optional=True)
            a = await self.svc.get().move(editor(request), self._ident(request), what, body.version)
            return reply(a.doc())

        handler.__name__ = f"article_{what.value}"
        return handler

    async def versions(self, request: web.Request) -> web.Response:
        return reply({"items": await self.svc.get().versions(editor(request), self._ident(request))})

    async def search(self, request: web.Request) -> web.Response:
        q: SearchQuery = query(request, SearchQuery)
        hits = self.svc.get().search(q.q, district=q.district, unit=q.unit, prefer=q.prefer, limit=q.limit)
        return reply({"items": [h.doc() for h in hits]})

    async def answer(self, request: web.Request) -> web.Response:
        body = await read_json(request, AnswerBody)
        key = body.idempotency_key or request.headers.get("Idempotency-Key")
        created = await self.svc.get().answer(editor(request), self._ident(request),
                                              call_ids=[body.call_id] if body.call_id else [],
                                              description=body.description, caller_phone=body.caller_phone,
                                              district=body.district, key=key)
        t = created.ticket
        return reply({"number": t.number, "status": t.status.value, "lead_department": t.lead_department,
                      "article": t.article, "created": created.created}, 201 if created.created else 200)

    async def propose(self, request: web.Request) -> web.Response:
        body = await read_json(request, ProposalBody)
        return reply((await self.svc.get().propose(editor(request), body.ticket)).doc(), 201)

    async def gaps(self, request: web.Request) -> web.Response:
        q: GapsQuery = query(request, GapsQuery)
        return reply({"days": q.days, "items": await self.svc.get().gaps(q.days)})

    async def export(self, request: web.Request) -> web.Response:
        q: ExportQuery = query(request, ExportQuery)
        articles = await self.svc.get().export(editor(request))
        if q.format == "csv":  # the CSV text in JSON, as the import takes it
            return reply({"csv": exchange.to_csv(articles)})
        return web.Response(text=exchange.to_json(articles), content_type="application/json", charset="utf-8")

    async def import_(self, request: web.Request) -> web.Response:
        body = await read_json(request, ImportBody)
        if (body.articles is None) == (body.csv is None):
            raise HttpError(422, "invalid", "give either 'articles' (JSON rows) or 'csv' (text)",
                            {"body": "articles or csv"})
        rows = exchange.from_csv(body.csv) if body.csv is not None else \
            exchange.from_json(json.dumps({"articles": body.articles}))
        return reply(await self.svc.get().import_articles(editor(request), rows))
