"""The policy table is the one place that says which roles may call a route: the OpenAPI text
says it from the table, no summary repeats it by hand, and no handler or use case keeps a role
table of its own (they check only what depends on the data: own desk, own department)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from callcenter.accounts.model import rule_for
from callcenter.accounts.openapi import who_may
from callcenter.app import build_app
from callcenter.infra.settings import Settings

ROOT = Path(__file__).resolve().parents[3] / "callcenter"
ROLE_WORDS = re.compile(r"\((?:[^)]*\b)?(agent|supervisor|admin|dept|collector)\b[^)]*\)", re.IGNORECASE)


async def _document() -> dict:
    app = build_app(Settings(env="test"))
    route = next(r for r in app.router.routes() if r.resource.canonical == "/api/openapi.json")
    return json.loads((await route.handler(None)).text)


async def test_the_roles_in_the_document_are_the_policys_words_and_no_summary_repeats_them():
    doc = await _document()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            rule = rule_for(method.upper(), path)
            assert rule is not None, f"{method} {path}"
            assert op["description"].startswith(who_may(rule)), f"{method} {path}: {op['description']!r}"
            assert not ROLE_WORDS.search(op.get("summary", "")), f"{method} {path}: {op['summary']!r}"
    rules = doc["paths"]["/api/routing-rules"]["put"]
    assert rules["x-roles"] == ["admin"] and rules["description"].startswith("Roles: admin.")
    assert doc["paths"]["/api/topics"]["post"]["x-roles"] == ["admin"]
    assert doc["paths"]["/api/tickets/{number}/escalate"]["post"]["x-roles"] == ["supervisor", "system"]


def test_no_handler_or_use_case_keeps_a_role_table_of_its_own():
    owners = ["tickets/http.py", "tickets/service.py", "dispatch/rules_admin.py", "dispatch/rules_http.py"]
    for name in owners:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "check_roles" not in text and "_EDITORS" not in text, name
