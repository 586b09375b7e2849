"""The web conventions every feature's routes share: one JSON error shape, one JSON reply, one
body reader, `Provided` (the typed hand-over of a feature's service to its routes), and the
endpoint table a feature's REST API is written as, with the app's one OpenAPI 3.1 document.

Errors are always ``{"error": code, "message": text, "fields": {name: text}}``.

Routes are added while the app is built, but services exist only once it has started (aiohttp
`cleanup_ctx`). A plugin therefore creates a `Provided[TheService]` when it is constructed,
gives it to its routes, and fills it in `start()`; a handler calls `.get()`, which answers
503 ``starting`` until the service is there. No handler looks anything up by string.

A feature lists its endpoints (:class:`Endpoint`: method, path, handler, summary, tag, body,
query and response models) and adds them with :func:`add_endpoints`, which also translates the
feature's exceptions into the one JSON error (its ``errors`` function) and records the endpoints
for the document; :func:`serve_openapi` adds ``GET /api/openapi.json``, built from every table
added and completed by ``finish`` (the accounts feature adds every other route with its roles).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError
from pydantic.json_schema import models_json_schema

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps, headers=headers)


def json_error(status: int, code: str, message: str, fields: dict[str, str] | None = None,
               **extra: Any) -> web.Response:
    """The API's one error shape; `extra` adds context keys (e.g. the issues of a broken flow)."""
    return web.json_response({"error": code, "message": message, "fields": fields or {}, **extra},
                             status=status, dumps=dumps)


class HttpError(Exception):
    """Raise from a handler (or a helper it calls) to answer with `json_error`."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}

    def response(self) -> web.Response:
        return json_error(self.status, self.code, self.message, self.fields)


def validation_fields(exc: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for e in exc.errors():
        name = ".".join(str(p) for p in e["loc"]) or "body"
        fields.setdefault(name, e["msg"].removeprefix("Value error, "))
    return fields


async def read_json(request: web.Request, model: type[M], *, optional: bool = False,
                    extra: dict[str, Any] | None = None) -> M:
    """The request body as `model`; 400 ``bad_json`` when it is not JSON, 422 ``invalid`` when
    it is not an object or does not validate."""
    raw = await request.read()
    if not raw.strip() and optional:
        data: Any = {}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise HttpError(400, "bad_json", "the body is not valid JSON", {"body": "not JSON"}) from None
    if not isinstance(data, dict):
        raise HttpError(422, "invalid", "the body must be a JSON object", {"body": "must be an object"})
    try:
        return model.model_validate(data | (extra or {}))
    except ValidationError as exc:
        raise HttpError(422, "invalid", "the request is invalid", validation_fields(exc)) from None


@web.middleware
async def http_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Installed once by the app: an `HttpError` raised anywhere in a handler becomes its JSON."""
    try:
        return await handler(request)
    except HttpError as exc:
        return exc.response()


class Provided(Generic[T]):
    """A feature's service, handed to its routes when the app is built and filled when it starts."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._value: T | None = None

    def set(self, value: T | None) -> None:
        self._value = value

    @property
    def ready(self) -> bool:
        return self._value is not None

    def get(self) -> T:
        if self._value is None:
            raise HttpError(503, "starting", f"the {self.what} is not running yet")
        return self._value

    def maybe(self) -> T | None:
        return self._value


# --------------------------------------------------------------------------- endpoint tables

Handler = Callable[[web.Request], Awaitable[web.Response]]
Errors = Callable[[Exception], web.Response]  # a feature's exception -> its JSON error (re-raises others)


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
    headers: tuple[tuple[str, str, int, int], ...] = ()  # optional headers: (name, description, min, max length)


class Error(BaseModel):
    error: str
    message: str
    fields: dict[str, str] = Field(default_factory=dict)


def _guarded(fn: Handler, errors: Errors) -> Handler:
    @functools.wraps(fn)
    async def guarded(request: web.Request) -> web.Response:
        try:
            return await fn(request)
        except HttpError as exc:
            return exc.response()
        except ValidationError as exc:
            return json_error(422, "invalid", "the request is invalid", validation_fields(exc))
        except Exception as exc:  # noqa: BLE001 - `errors` re-raises what it does not know
            return errors(exc)

    return guarded


ENDPOINTS = web.AppKey("endpoints", list)  # every feature's Endpoint, in the order they were added


def add_endpoints(app: web.Application, endpoints: Sequence[Endpoint], errors: Errors) -> None:
    """Add the routes (their errors translated by ``errors``) and record them for the document."""
    if ENDPOINTS not in app:
        app[ENDPOINTS] = []
    for e in endpoints:
        app.router.add_route(e.method, e.path, _guarded(e.handler, errors))
    app[ENDPOINTS].extend(endpoints)


def serve_openapi(app: web.Application, info: dict[str, Any],
                  finish: Callable[[dict[str, Any]], dict[str, Any]] = lambda doc: doc) -> None:
    """``GET /api/openapi.json``: the document of every endpoint added, completed by ``finish``."""
    async def openapi(_request: web.Request) -> web.Response:
        return reply(finish(openapi_document(tuple(app.get(ENDPOINTS, ())), tuple(info.items()))))

    app.router.add_get("/api/openapi.json", openapi)


# --------------------------------------------------------------------------- request helpers

def query(request: web.Request, model: type[BaseModel]) -> Any:
    """The query string as ``model`` (a repeated key becomes a comma-separated value)."""
    params: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        params[key] = ",".join(values) if len(values) > 1 else values[0]
    return model.model_validate(params)


def page(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


# --------------------------------------------------------------------------- the document

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
    for name, description, shortest, longest in e.headers:
        params.append({"name": name, "in": "header", "required": False, "description": description,
                       "schema": {"type": "string", "minLength": shortest, "maxLength": longest}})
    return params


@functools.lru_cache(maxsize=4)
def openapi_document(endpoints: tuple[Endpoint, ...], info: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
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
    return {"openapi": "3.1.0", "info": dict(info), "paths": paths, "components": {"schemas": components}}
