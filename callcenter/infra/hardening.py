"""Web hardening shared by every route: bad input is a clear 4xx JSON, never a 500 (the
security headers of every response are the web shell's: :mod:`callcenter.web.headers`).

- ``errors_as_json``: aiohttp's own errors (404, 405, 413 body too large, ...) and unexpected
  exceptions answer in the API's one JSON error shape; a crash is logged once, without echoing
  internals to the client;
- ``clean_input``: a JSON body nested deeper than ``MAX_DEPTH`` or holding a NUL character
  anywhere (PostgreSQL cannot store it) -> 422/400 before any handler sees it; the same for NUL
  in the query string. State-changing requests with a body must say ``application/json``
  in effect: the content types a cross-site form or ``text/plain`` POST can use get 415.
- :class:`MaskingFilter` masks phone numbers in the aiohttp access log lines.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from callcenter.infra.logging import get_logger
from callcenter.infra.masking import mask_phone_shapes
from callcenter.infra.web import json_error

log = get_logger("web")
MAX_DEPTH = 32
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# what a cross-site form or a "simple" fetch can send without a CORS preflight
_FORM_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})


@web.middleware
async def errors_as_json(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status, "http_error")
        resp = json_error(exc.status, code, exc.reason)
        for name in ("Allow",):
            if name in exc.headers:
                resp.headers[name] = exc.headers[name]
        return resp
    except Exception:  # noqa: BLE001 - the last line of defence: log it, answer JSON
        log.exception("request_failed", method=request.method, route=_route_of(request))
        return json_error(500, "internal", "internal error; it has been logged")


def _route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "-"


def _problem(value: Any, depth: int = 0) -> str | None:
    """Why a parsed JSON value is refused, or None."""
    if depth > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, str):
        return "contains a NUL character" if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            if "\x00" in k:
                return "contains a NUL character"
            if why := _problem(v, depth + 1):
                return why
    elif isinstance(value, list):
        for v in value:
            if why := _problem(v, depth + 1):
                return why
    return None


@web.middleware
async def clean_input(request: web.Request, handler: Any) -> web.StreamResponse:
    if "\x00" in request.path:
        return json_error(422, "invalid", "the path contains a NUL character", {"path": "NUL character"})
    if "\x00" in request.query_string or "%00" in request.query_string:
        return json_error(422, "invalid", "the query contains a NUL character", {"query": "NUL character"})
    if request.method in _BODY_METHODS and request.can_read_body:
        raw = await request.read()  # cached: the handler reads it again for free
        if raw.strip():
            if request.content_type in _FORM_TYPES:
                return json_error(415, "unsupported_media_type", "send the body as application/json")
            try:
                data = json.loads(raw)
            except RecursionError:
                return json_error(400, "bad_json", f"the body is nested deeper than {MAX_DEPTH} levels",
                                  {"body": "nested too deeply"})
            except ValueError:
                data = None  # the handler answers bad_json in its own words
            if why := _problem(data):
                return json_error(422 if "NUL" in why else 400, "invalid" if "NUL" in why else "bad_json",
                                  f"the body {why}", {"body": why})
    return await handler(request)


def mask_loose(text: str) -> str:
    """Phone numbers as they appear in URLs (138-1234-5678, 138%2012345678, ?phone=3334444) ->
    138****5678; statuses, sizes, dates and ids keep their digits (:func:`.masking.mask_phone_shapes`)."""
    return mask_phone_shapes(text)


class MaskingFilter(logging.Filter):
    """On the ``aiohttp.access`` logger: the line is rendered, then its numbers are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_loose(record.getMessage())
        record.args = ()
        return True


def mask_access_log() -> None:
    logger = logging.getLogger("aiohttp.access")
    if not any(isinstance(f, MaskingFilter) for f in logger.filters):
        logger.addFilter(MaskingFilter())
