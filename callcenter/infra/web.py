"""The web conventions every feature's routes share: one JSON error shape, one JSON reply, one
body reader, and `Provided`, the typed hand-over of a feature's service to its routes.

Errors are always ``{"error": code, "message": text, "fields": {name: text}}``.

Routes are added while the app is built, but services exist only once it has started (aiohttp
`cleanup_ctx`). A plugin therefore creates a `Provided[TheService]` when it is constructed,
gives it to its routes, and fills it in `start()`; a handler calls `.get()`, which answers
503 ``starting`` until the service is there. No handler looks anything up by string.
"""

from __future__ import annotations

import json
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

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
