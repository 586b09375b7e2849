"""REST API of where tickets go: the handling departments (承办单位), the topics (专题问题库)
and the dispatch rules document; endpoints of the app's one OpenAPI document
(:mod:`callcenter.infra.web`). Translate and delegate to :class:`~.rules_admin.RulesAdmin`."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from callcenter.accounts.api import actor_of
from callcenter.dispatch.rules import CODE_PATTERN, RuleError, TopicExists
from callcenter.dispatch.rules_admin import FieldError, RulesAdmin
from callcenter.infra.documents import Time
from callcenter.infra.web import (
    Endpoint,
    HttpError,
    Provided,
    add_endpoints,
    json_error,
    page,
    read_json,
    reply,
)

DEPARTMENTS, TOPICS = "departments", "topics"


class TopicCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(pattern=CODE_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=64)
    department: str = Field(pattern=CODE_PATTERN)
    keywords: list[str] = Field(default_factory=list, max_length=100)


class TopicOut(BaseModel):
    code: str
    name: str
    department: str
    keywords: list[str]
    created_by: str
    created_at: Time


class DepartmentOut(BaseModel):
    code: str
    name: str
    hotline: str | None
    merge_mode: str | None
    working_hours: str
    categories: list[str]
    open_tickets: int


class TopicPage(BaseModel):
    items: list[TopicOut]
    next_cursor: str | None


class DepartmentPage(BaseModel):
    items: list[DepartmentOut]
    next_cursor: str | None


def error_response(exc: Exception) -> web.Response:
    match exc:
        case FieldError():
            return json_error(422, "invalid", str(exc), {exc.field: str(exc)})
        case TopicExists():
            return json_error(409, "exists", str(exc), {"code": str(exc)})
        case RuleError():
            return json_error(422, "invalid", str(exc))
    raise exc


def _actor(request: web.Request) -> str:
    who = actor_of(request)
    if not who or ":" not in who:
        raise HttpError(401, "login_required", "log in first")
    return who


class RulesRoutes:
    def __init__(self, admin: Provided[RulesAdmin]) -> None:
        self.admin = admin

    def endpoints(self) -> list[Endpoint]:
        e = Endpoint
        return [
            e("GET", "/api/departments", self.departments, "Handling departments (承办单位) with open ticket "
              "counts", DEPARTMENTS, response=DepartmentPage),
            e("GET", "/api/topics", self.list_topics, "Topic problem libraries (专题问题库)", TOPICS,
              response=TopicPage),
            e("POST", "/api/topics", self.add_topic, "Add a topic with its own routing", TOPICS,
              body=TopicCreate, response=TopicOut, status=201),
            e("GET", "/api/routing-rules", self.get_rules, "The dispatch rules document in force", TOPICS),
            e("PUT", "/api/routing-rules", self.put_rules, "Replace the dispatch rules (validated)", TOPICS),
        ]

    def add(self, app: web.Application) -> None:
        add_endpoints(app, self.endpoints(), error_response)

    async def departments(self, request: web.Request) -> web.Response:
        return reply(page(await self.admin.get().departments(), None))

    async def list_topics(self, request: web.Request) -> web.Response:
        topics = await self.admin.get().topics()
        return reply(page([_topic(t) for t in topics], None))

    async def add_topic(self, request: web.Request) -> web.Response:
        who = _actor(request)
        data = await read_json(request, TopicCreate)
        row = await self.admin.get().add_topic(**data.model_dump(), actor=who)
        return reply(_topic(row), 201)

    async def get_rules(self, request: web.Request) -> web.Response:
        return reply(await self.admin.get().routing_rules())

    async def put_rules(self, request: web.Request) -> web.Response:
        who = _actor(request)
        try:
            spec = await request.json()
        except ValueError:
            raise HttpError(400, "bad_json", "the body is not valid JSON", {"body": "not JSON"}) from None
        admin = self.admin.get()
        await admin.replace_routing_rules(spec, actor=who)
        return reply(await admin.routing_rules())


def _topic(row: dict[str, Any]) -> dict[str, Any]:
    return TopicOut.model_validate(row).model_dump(mode="json")
