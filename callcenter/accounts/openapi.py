"""The OpenAPI document completed from the policy table: every API route of the policy appears,
each operation says which roles may call it (``x-roles``, and in words at the head of its
description: no summary names roles by hand), with the cookie session and the CSRF header as its
security. Operations the tickets feature describes in full keep their schemas;
the others get a minimal entry, so that no route is missing from the document."""

from __future__ import annotations

import copy
import re
from typing import Any

from callcenter.accounts.model import POLICY, SAFE_METHODS, Rule, rule_for
from callcenter.accounts.sessions import COOKIE, CSRF_HEADER

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_ERROR_SCHEMA = {"type": "object", "required": ["error", "message", "fields"], "properties": {
    "error": {"type": "string"}, "message": {"type": "string"},
    "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}


def _documented(rule: Rule) -> bool:
    return rule.path.startswith(("/api/", "/ws/")) and "{action}" not in rule.path


def _minimal(rule: Rule) -> dict[str, Any]:
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
              for n in re.findall(r"{(\w+)}", rule.path)]
    op: dict[str, Any] = {"summary": f"{rule.method} {rule.path}", "tags": [rule.path.split("/")[2]],
                          "parameters": params,
                          "responses": {"200": {"description": "ok"}, "201": {"description": "created"},
                                        "204": {"description": "done"}, "default": _ERROR | {"description": "other"}}}
    if rule.method not in SAFE_METHODS:
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}}
    return op


def with_roles(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    paths = out.setdefault("paths", {})
    comps = out.setdefault("components", {})
    comps.setdefault("schemas", {}).setdefault("Error", _ERROR_SCHEMA)
    comps.setdefault("securitySchemes", {})["session"] = {"type": "apiKey", "in": "cookie", "name": COOKIE}
    for rule in POLICY:  # every API route of the policy is in the document
        if _documented(rule):
            paths.setdefault(rule.path, {}).setdefault(rule.method.lower(), _minimal(rule))
    for path, ops in paths.items():
        for method, op in ops.items():
            rule = rule_for(method.upper(), path)
            if rule is not None:
                _secure(op, rule)
    return out


def who_may(rule: Rule) -> str:
    """The roles of a route in words, from the policy table (the only place that says them)."""
    if rule.roles is None:
        return "Open: no session needed."
    own = f"; an agent or a department only its own `{rule.own}`" if rule.own else ""
    return f"Roles: {', '.join(sorted(r.value for r in rule.roles))}{own}."


def _secure(op: dict[str, Any], rule: Rule) -> None:
    op["x-roles"] = sorted(rule.roles) if rule.roles is not None else []
    op["description"] = who_may(rule) + (f"\n\n{op['description']}" if op.get("description") else "")
    responses = op.setdefault("responses", {})
    responses.setdefault("422", _ERROR)  # a NUL character in the path or query (infra/hardening)
    if rule.method not in SAFE_METHODS:  # the body checks of infra/hardening
        for code in ("400", "413", "415"):
            responses.setdefault(code, _ERROR)
    if rule.roles is None:
        op["security"] = []
        return
    op["security"] = [{"session": []}]
    responses.setdefault("401", _ERROR)
    responses.setdefault("403", _ERROR)
    if rule.method not in SAFE_METHODS:
        params = op.setdefault("parameters", [])
        if not any(p.get("name") == CSRF_HEADER for p in params):
            params.append({"name": CSRF_HEADER, "in": "header", "required": True, "schema": {"type": "string"}})
