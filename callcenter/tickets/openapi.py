"""The OpenAPI 3.1 document of the tickets API, built from the endpoint list and pydantic models."""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from callcenter.tickets.responses import Error

_REF = "#/components/schemas/{model}"
_ERRORS = {"400": "bad JSON, actor header or cursor", "403": "the actor's role may not do this",
           "404": "no such ticket or department", "409": "illegal transition or concurrent change",
           "422": "invalid input (see `fields`)"}


def _schemas(endpoints: list[Any]) -> tuple[dict[Any, dict[str, Any]], dict[str, Any]]:
    models: list[tuple[type[BaseModel], str]] = [(Error, "serialization")]
    for e in endpoints:
        if e.body is not None:
            models.append((e.body, "validation"))
        if e.response is not None:
            models.append((e.response, "serialization"))
    unique = list(dict.fromkeys(models))
    refs, top = models_json_schema(unique, ref_template=_REF)
    return refs, top.get("$defs", {})


def _parameters(e: Any) -> list[dict[str, Any]]:
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


def _ref(refs: dict[Any, dict[str, Any]], model: type[BaseModel], mode: str) -> dict[str, Any]:
    return refs[(model, mode)]


def openapi_document(endpoints: list[Any]) -> dict[str, Any]:
    return _build(tuple(endpoints))


@functools.lru_cache(maxsize=4)
def _build(endpoints: tuple[Any, ...]) -> dict[str, Any]:
    refs, components = _schemas(list(endpoints))
    error_ref = _ref(refs, Error, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        op_id = re.sub(r"\W+", "_", f"{e.method}_{e.path}".removesuffix("/api")).strip("_").lower()
        op: dict[str, Any] = {"summary": e.summary, "tags": [e.tag], "operationId": op_id,
                              "parameters": _parameters(e)}
        if e.body is not None:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _ref(refs, e.body, "validation")}}}
        ok: dict[str, Any] = {"description": "OK"}
        schema = _ref(refs, e.response, "serialization") if e.response is not None else {"type": "object"}
        ok["content"] = {"application/json": {"schema": schema}}
        op["responses"] = {str(e.status): ok} | {
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
