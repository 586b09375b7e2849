"""The plumbing of the tickets REST API: the endpoint table's row (:class:`Endpoint`), the
translation of the feature's errors into the API's one JSON error, the request helpers, adding
the routes and the OpenAPI 3.1 document (``/api/openapi.json``) built from the same table and
the pydantic models. The endpoints themselves are in :mod:`.routes`.

The acting user is the logged-in user of the session (``agent:1001``, ``dept:market:zhang``,
``supervisor:li``, ``collector:c07``, ``admin:root``; see callcenter/accounts). Errors are JSON
``{"error", "message", "fields"}`` (:func:`callcenter.infra.web.json_error`): 400 bad
JSON/cursor, 401 not logged in, 403 role, 404 unknown (or another department's ticket), 409 illegal transition or concurrent change,
422 invalid input.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from callcenter.accounts.identity import actor_of
from callcenter.accounts.openapi import with_roles
from callcenter.infra.web import HttpError, json_error, reply, validation_fields
from callcenter.tickets.actors import Actor
from callcenter.tickets.errors import (
    BadCursor,
    ConcurrentUpdate,
    FieldError,
    Forbidden,
    IdempotencyConflict,
    IllegalTransition,
    NotFound,
    RuleError,
    TicketError,
    TopicExists,
)
from callcenter.tickets.responses import Error

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


# --------------------------------------------------------------------------- errors

_FIELD_HINTS = [(re.compile(r"data '(\w+)'"), None), (re.compile(r"reason is required"), "reason"),
                (re.compile(r"maximum extension|days"), "days"), (re.compile(r"rating"), "rating"),
                (re.compile(r"merged into itself"), "into")]


def _field_of(message: str) -> dict[str, str]:
    for pattern, field in _FIELD_HINTS:
        if m := pattern.search(message):
            return {field or m.group(1): message}
    return {}


def error_response(exc: Exception) -> web.Response:
    """The feature's exception as the API's JSON error (most specific first); re-raise others."""
    match exc:
        case HttpError():
            return exc.response()
        case ValidationError():
            return json_error(422, "invalid", "the request is invalid", validation_fields(exc))
        case BadCursor():
            return json_error(400, "bad_cursor", str(exc), {"cursor": str(exc)})
        case FieldError():
            return json_error(422, "invalid", str(exc), {exc.field: str(exc)})
        case NotFound():
            return json_error(404, "not_found", str(exc))
        case Forbidden():
            return json_error(403, "forbidden", str(exc))
        case IllegalTransition():
            return json_error(409, "illegal_transition", str(exc))
        case ConcurrentUpdate() | asyncpg.DeadlockDetectedError() | asyncpg.SerializationError():
            return json_error(409, "conflict", str(exc))
        case IdempotencyConflict():
            return json_error(409, "idempotency_conflict", str(exc), {"idempotency_key": str(exc)})
        case TopicExists():
            return json_error(409, "exists", str(exc), {"code": str(exc)})
        case RuleError():
            return json_error(422, "invalid", str(exc), _field_of(str(exc)))
        case TicketError():
            return json_error(422, "rejected", str(exc), _field_of(str(exc)))
    raise exc


def _guarded(fn: Handler) -> Handler:
    @functools.wraps(fn)
    async def guarded(request: web.Request) -> web.Response:
        try:
            return await fn(request)
        except Exception as exc:  # noqa: BLE001 - error_response re-raises what it does not know
            return error_response(exc)

    return guarded


# --------------------------------------------------------------------------- request helpers

def actor(request: web.Request) -> Actor:
    """The logged-in user (the accounts guard authenticated the session); no header decides it."""
    try:
        return Actor.parse(actor_of(request))
    except TicketError:
        raise HttpError(401, "login_required", "log in first") from None


def query(request: web.Request, model: type[BaseModel]) -> Any:
    """The query string as ``model`` (a repeated key becomes a comma-separated value)."""
    params: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        params[key] = ",".join(values) if len(values) > 1 else values[0]
    return model.model_validate(params)


def page(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


def add_routes(app: web.Application, endpoints: Sequence[Endpoint]) -> None:
    """Add every endpoint (its errors translated) and ``GET /api/openapi.json``."""
    table = tuple(endpoints)

    async def openapi(_request: web.Request) -> web.Response:
        return reply(with_roles(openapi_document(table)))  # + every other route, with its roles

    for e in table:
        app.router.add_route(e.method, e.path, _guarded(e.handler))
    app.router.add_get("/api/openapi.json", openapi)


# --------------------------------------------------------------------------- OpenAPI

_REF = "#/components/schemas/{model}"
_ERRORS = {"400": "bad JSON or cursor", "401": "not logged in", "403": "the actor's role may not do this",
           "404": "no such ticket or department", "409": "illegal transition or concurrent change",
           "422": "invalid input (see `fields`)"}


def _schemas(endpoints: Sequence[Endpoint]) -> tuple[dict[Any, dict[str, Any]], dict[str, Any]]:
    models: list[tuple[type[BaseModel], str]] = [(Error, "serialization")]
    for e in endpoints:
        if e.body is not None:
            models.append((e.body, "validation"))
        if e.response is not None:
            models.append((e.response, "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(models)), ref_template=_REF)
    return refs, top.get("$defs", {})


def _parameters(e: Endpoint) -> list[dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in re.findall(r"{(\w+)}", e.path)]
    if e.query is not None:
        schema = e.query.model_json_schema(ref_template=_REF)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required,
                           "description": prop.pop("description", ""), "schema": prop})
    if e.method not in ("GET", "HEAD"):  # the session's CSRF token (GET /api/session)
        params.append({"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"}})
    if e.method == "POST" and e.path in ("/api/tickets", "/api/field-reports"):
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": "a retried request with the same key returns the same ticket",
                       "schema": {"type": "string", "minLength": 8, "maxLength": 128}})
    return params


@functools.lru_cache(maxsize=4)
def openapi_document(endpoints: tuple[Endpoint, ...]) -> dict[str, Any]:
    refs, components = _schemas(endpoints)
    error_ref = refs[(Error, "serialization")]
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        op_id = re.sub(r"\W+", "_", f"{e.method}_{e.path}".removesuffix("/api")).strip("_").lower()
        op: dict[str, Any] = {"summary": e.summary, "tags": [e.tag], "operationId": op_id,
                              "parameters": _parameters(e)}
        if e.body is not None:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": refs[(e.body, "validation")]}}}
        schema = refs[(e.response, "serialization")] if e.response is not None else {"type": "object"}
        ok: dict[str, Any] = {"description": "OK", "content": {"application/json": {"schema": schema}}}
        created = {"200": ok | {"description": "an idempotent retry or a merged duplicate"}} if e.status == 201 else {}
        op["responses"] = {str(e.status): ok} | created | {
            code: {"description": text, "content": {"application/json": {"schema": error_ref}}}
            for code, text in _ERRORS.items()}
        paths.setdefault(e.path, {})[e.method.lower()] = op
    paths["/api/openapi.json"] = {"get": {"summary": "This document", "tags": ["meta"],
                                          "operationId": "openapi", "responses": {"200": {"description": "OK"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Panzhihua 12345 tickets (工单) API", "version": "1.0.0",
                 "description": "Tickets, department queues, field reports (城管通) and topics. Times are "
                                "ISO-8601 (UTC); lists are paged with `limit` and `next_cursor`."},
        "paths": paths,
        "components": {"schemas": components},
    }
