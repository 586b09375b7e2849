"""A fuzz run of the OpenAPI document with schemathesis (from PyPI) against the whole running
app, authenticated: each role fuzzes the operations its role may call (x-roles); no 5xx and no
response that breaks the document. The session routes are left out (logging the fuzzer out, or
tripping the login throttle for the rest of the test session, would prove nothing)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.asterisk

# a background retraining (CPU-seconds) per generated case; the coverage phase also sends every
# method to every path it knows, so a role that may retrain leaves the whole path out
EXPENSIVE = {("post", "/api/dispatch/models")}
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.parametrize("actor", ["supervisor:li", "admin:root", "agent:1001", "dept:market:zhang", "kb:wang"])
async def test_openapi_fuzz_finds_no_5xx_and_no_schema_violation(stack, settings, logins, tmp_path, actor):
    st = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    base = f"http://127.0.0.1:{settings.http_port}"
    role = actor.split(":")[0]
    headers = await logins.headers(actor)
    async with await logins.client(actor) as http:
        async with http.get("/api/openapi.json") as r:
            doc = await r.json()
    doc["paths"] = {p: kept for p, ops in doc["paths"].items()
                    if not p.startswith(("/ws/", "/api/session"))
                    and not any(path == p and role in ops.get(m, {}).get("x-roles", []) for m, path in EXPENSIVE)
                    and (kept := {m: op for m, op in ops.items() if role in op.get("x-roles", [])})}
    assert len(doc["paths"]) >= 3
    (tmp_path / "openapi.json").write_text(json.dumps(doc, ensure_ascii=False))
    proc = await asyncio.create_subprocess_exec(
        st, "run", str(tmp_path / "openapi.json"), "--url", base, "-H", f"Cookie: {headers['Cookie']}",
        "-H", f"X-CSRF-Token: {headers['X-CSRF-Token']}", "--checks", CHECKS, "--max-examples", "5",
        "--phases", "examples,coverage,fuzzing", "--seed", "12345", "--no-color", "--workers", "1",
        "--request-timeout", "10", cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 600)
    text = out.decode(errors="replace")
    (Path("/tmp") / f"callcenter-schemathesis-{role}.txt").write_text(text)
    assert proc.returncode == 0, text[-6000:]


# the edge values that once answered 500 from the driver: ids over bigint (and over the integer of a
# model version), dates at year 1 and 9999 (they overflow once converted to UTC)
EDGE_IDS = ("9223372036854775808", "99999999999999999999", "2147483648")
EDGE_DATES = ("0001-01-01", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59", "9999-12-31T23:59:59-08:00")
DATE_PARAMS = ("since", "until", "created_from", "created_to", "from", "to", "day")


@pytest.mark.parametrize("actor", ["supervisor:li", "admin:root", "agent:1001", "dept:market:zhang", "kb:wang"])
async def test_every_route_answers_edge_ids_and_dates_without_a_5xx(stack, logins, actor):
    """Every operation of the document the role may call (surveys, dispatch, tickets, IVR, ACD...):
    each path parameter at the edge ids, each read with the edge dates in its date parameters."""
    role, failures, tried = actor.split(":")[0], [], 0
    async with await logins.client(actor) as http:
        async with http.get("/api/openapi.json") as r:
            doc = await r.json()
        for path, ops in doc["paths"].items():
            for method, op in ops.items():
                if path.startswith(("/ws/", "/api/session")) or role not in op.get("x-roles", []) \
                        or (method, path) in EXPENSIVE:
                    continue
                params = re.findall(r"{(\w+)}", path)
                cases = [(re.sub(r"{\w+}", value, path), {}) for value in EDGE_IDS] if params else []
                if method == "get" and not params:
                    cases += [(path, {name: value}) for name in DATE_PARAMS for value in EDGE_DATES]
                for url, query in cases:
                    tried += 1
                    body = {} if method in ("post", "patch", "put", "delete") else None
                    async with http.request(method.upper(), url, params=query, json=body) as r:
                        if r.status >= 500:
                            failures.append(f"{method.upper()} {url} {query}: {r.status} {await r.text()}")
    assert tried > 20
    assert not failures, "\n".join(failures)
