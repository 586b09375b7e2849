"""REST adapter of the tickets feature (aiohttp): translate HTTP <-> service calls, nothing more.

The acting user is the logged-in user of the session (``agent:1001``, ``dept:market:zhang``,
``supervisor:li``, ``collector:c07``, ``admin:root``; see callcenter/accounts). Errors are JSON
``{"error", "message", "fields"}``: 400 bad JSON/actor/cursor, 403 role, 404 unknown,
409 illegal transition or concurrent change, 422 invalid input. Every handler is listed in
``ENDPOINTS`` with its schemas, from which :mod:`.openapi` builds ``/api/openapi.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ValidationError

from callcenter.accounts.identity import actor_of
from callcenter.accounts.openapi import with_roles
from callcenter.infra.web import HttpError, Provided
from callcenter.tickets import responses as out
from callcenter.tickets.actors import Actor, Forbidden, Hidden
from callcenter.tickets.admin import TopicExists
from callcenter.tickets.errors import ConcurrentUpdate, FieldError, IdempotencyConflict, NotFound
from callcenter.tickets.model import IllegalTransition, TicketError
from callcenter.tickets.queries import BadCursor
from callcenter.tickets.routing import RuleError

if TYPE_CHECKING:
    from callcenter.tickets.service import TicketService

TICKETS = web.AppKey("tickets", Provided)
Handler = Callable[[web.Request], Awaitable[web.Response]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200


ENDPOINTS: list[Endpoint] = []


def error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": code, "message": message, "fields": fields or {}}, status=status)


def reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False, default=str))


_FIELD_HINTS = [(re.compile(r"data '(\w+)'"), None), (re.compile(r"reason is required"), "reason"),
                (re.compile(r"maximum extension|days"), "days"), (re.compile(r"rating"), "rating"),
                (re.compile(r"merged into itself"), "into")]


def _field_of(message: str) -> dict[str, str]:
    for pattern, field in _FIELD_HINTS:
        if m := pattern.search(message):
            return {field or m.group(1): message}
    return {}


def _pydantic_fields(exc: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for e in exc.errors():
        name = ".".join(str(p) for p in e["loc"]) or "body"
        fields.setdefault(name, e["msg"].removeprefix("Value error, "))
    return fields


def _translate(exc: Exception) -> web.Response:
    """Exception -> JSON error (most specific first)."""
    match exc:
        case HttpError():
            return error(exc.status, exc.code, exc.message, exc.fields)
        case ValidationError():
            return error(422, "invalid", "the request is invalid", _pydantic_fields(exc))
        case BadCursor():
            return error(400, "bad_cursor", str(exc), {"cursor": str(exc)})
        case FieldError():
            return error(422, "invalid", str(exc), {exc.field: str(exc)})
        case NotFound():
            return error(404, "not_found", str(exc))
        case Hidden():
            return error(404, "not_found", str(exc))
        case Forbidden():
            return error(403, "forbidden", str(exc))
        case IllegalTransition():
            return error(409, "illegal_transition", str(exc))
        case ConcurrentUpdate() | asyncpg.DeadlockDetectedError() | asyncpg.SerializationError():
            return error(409, "conflict", str(exc))
        case IdempotencyConflict():
            return error(409, "idempotency_conflict", str(exc), {"idempotency_key": str(exc)})
        case TopicExists():
            return error(409, "exists", str(exc), {"code": str(exc)})
        case RuleError():
            return error(422, "invalid", str(exc), _field_of(str(exc)))
        case TicketError():
            return error(422, "rejected", str(exc), _field_of(str(exc)))
    raise exc


def endpoint(method: str, path: str, summary: str, tag: str, *, body: type[BaseModel] | None = None,
             query: type[BaseModel] | None = None, response: type[BaseModel] | None = None,
             status: int = 200) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.Response:
            try:
                return await fn(request)
            except Exception as exc:  # noqa: BLE001 - _translate re-raises what it does not know
                return _translate(exc)

        ENDPOINTS.append(Endpoint(method, path, guarded, summary, tag, body, query, response, status))
        return guarded

    return register


# --------------------------------------------------------------------------- request helpers

def service(request: web.Request) -> TicketService:
    return request.app[TICKETS].get()


def actor(request: web.Request) -> Actor:
    """The logged-in user (the accounts guard authenticated the session); no header decides it."""
    try:
        return Actor.parse(actor_of(request))
    except TicketError:
        raise HttpError(401, "login_required", "log in first") from None


async def body(request: web.Request, model: type[BaseModel], *, optional: bool = False,
               extra: dict[str, Any] | None = None) -> Any:
    raw = await request.read()
    if not raw.strip() and optional:
        data: Any = {}
    else:
        try:
            data = json.loads(raw)
        except ValueError:
            raise HttpError(400, "bad_json", "the body is not valid JSON", {"body": "not JSON"}) from None
    if not isinstance(data, dict):
        raise HttpError(422, "invalid", "the body must be a JSON object", {"body": "must be an object"})
    return model.model_validate(data | (extra or {}))


def query(request: web.Request, model: type[BaseModel]) -> Any:
    params: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        params[key] = ",".join(values) if len(values) > 1 else values[0]
    return model.model_validate(params)


def page(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


def routes(app: web.Application, tickets: Provided[TicketService]) -> None:
    """Add every endpoint (importing the handler modules registers them)."""
    app[TICKETS] = tickets
    from callcenter.tickets import handlers  # noqa: F401 - registers ENDPOINTS
    from callcenter.tickets.openapi import openapi_document

    async def openapi(_request: web.Request) -> web.Response:
        return reply(with_roles(openapi_document(ENDPOINTS)))  # + every other route, with its roles

    seen = set()
    for e in ENDPOINTS:
        if (e.method, e.path) not in seen:
            seen.add((e.method, e.path))
            app.router.add_route(e.method, e.path, e.handler)
    app.router.add_get("/api/openapi.json", openapi)


__all__ = ["ENDPOINTS", "Endpoint", "HttpError", "out", "routes"]
