"""The defects found when the stack was tried as an outsider would (issue 11), each reproduced
as it was reported and closed."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

import aiohttp
import pytest
from acd_support import Phone
from helpers import until

from callcenter.acd.features import SeatFeatures
from callcenter.app import PLUGINS

pytestmark = pytest.mark.asterisk
CALLER = "13812345678"


def base(settings) -> str:
    return f"http://127.0.0.1:{settings.http_port}"


def seats(phone: Phone, on: bool) -> list[str]:
    now = datetime.now(UTC)
    return [s.id for s in phone.acd.roster.seats if phone.acd.roster.is_on_shift(s, now) is on]


async def test_a_request_never_decides_where_a_citizen_call_goes(stack, settings, logins):
    phone = Phone(stack)
    seat = seats(phone, True)[0]
    evil = {"seat": seat, "interface": "Local/13999999999@pstn-sim"}
    async with aiohttp.ClientSession(base(settings)) as anon:
        async with anon.post("/api/agents/evil/login", json=evil) as r:
            assert r.status == 401
    async with await logins.client("agent:evil") as http:
        async with http.post("/api/agents/evil/login", json=evil) as r:
            assert r.status == 422 and "interface" in (await r.json())["fields"]
        assert "evil" not in phone.acd.slots
        async with http.post("/api/agents/evil/login", json={"seat": seat}) as r:
            assert r.status == 200
    assert phone.acd.slots["evil"].interface == settings.seat_interface.format(seat=seat)  # the roster's


async def test_an_off_shift_sign_in_is_an_authenticated_supervisor_approval(stack, settings, logins, pool):
    phone = Phone(stack)
    off = seats(phone, False)[0]
    async with await logins.client("agent:2001") as http:
        async with http.post("/api/agents/2001/login", json={"seat": off, "override_by": "li"}) as r:
            assert r.status == 422 and "override_by" in (await r.json())["fields"]  # self-claimed
        async with http.post("/api/agents/2001/login", json={"seat": off}) as r:
            assert r.status == 409 and (await r.json())["error"] == "not_on_shift"
    async with await logins.client("supervisor:li") as http:
        async with http.post("/api/agents/2001/login", json={"seat": off}) as r:
            assert r.status == 200, await r.text()
    assert phone.agent("2001").override_by == "supervisor:li"
    rows = await pool.fetch("SELECT actor, action, target FROM audit_log WHERE action = 'sign_in_by_supervisor'")
    assert [(r["actor"], r["target"]) for r in rows] == [("li", "/api/agents/2001/login")]


async def test_only_an_admin_can_cut_a_citizen_off_or_rewrite_dispatch(stack, settings, logins):
    async with aiohttp.ClientSession(base(settings)) as anon:
        async with anon.post("/api/ivr/blacklist", json={"number": CALLER}) as r:
            assert r.status == 401
        async with anon.get("/api/ivr/blacklist") as r:
            assert r.status == 401
        async with anon.put("/api/routing-rules", json={}) as r:
            assert r.status == 401
    for who in ("agent:1001", "supervisor:li"):
        async with await logins.client(who) as http:
            async with http.post("/api/ivr/blacklist", json={"number": CALLER}) as r:
                assert r.status == 403
            async with http.put("/api/routing-rules", json={}) as r:
                assert r.status == 403
    async with await logins.client("admin:root") as http:
        async with http.post("/api/ivr/blacklist", json={"number": CALLER, "created_by": "someone-else"}) as r:
            assert r.status == 201
            assert (await r.json())["created_by"] == "admin:root"  # the session's user, not the body's


async def test_numbers_are_masked_for_everyone_but_the_agent_on_the_call(stack, settings, logins, caplog):
    phone = Phone(stack)
    await phone.login("1001", "seat01")
    call = await phone.call(caller=CALLER)
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    async with await logins.client("supervisor:li") as http:
        async with http.get("/api/board/agents/1001") as r:
            desk = await r.json()
        assert desk["call"]["caller"] == "138****5678" and CALLER not in str(desk)
        async with http.post(f"/api/calls/{call}/show-number") as r:  # audited
            assert (await r.json())["caller"] == CALLER
    async with await logins.client("agent:1001") as http:
        async with http.get("/api/board/agents/1001") as r:
            assert (await r.json())["call"]["caller"] == CALLER  # the agent handling the call
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    async with await logins.client("supervisor:li") as http:
        async with http.get(f"/api/callers/{CALLER}/history") as r:
            assert r.status == 200
        async with http.get("/api/callers/138-1234-5678/history") as r:
            assert r.status == 200
        async with http.get(f"/api/tickets?phone={CALLER}") as r:
            assert r.status == 200
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "aiohttp.access"]
    assert len(lines) >= 3 and all("138****5678" in line for line in lines[-3:])
    assert not any(CALLER in line or "1234-5678" in line for line in lines)
    audit = stack[PLUGINS].accounts.service.get().audit
    assert [(e["actor"], e["target"]) for e in await audit.recent(action="show_number")] == [("li", call)]


NUL = "ab\u0000cd"


async def test_bad_input_is_a_clear_4xx_never_a_500(stack, settings, logins, pool):
    async with await logins.client("agent:1001") as http:
        async with http.post("/api/tickets", json={"kind": "complaint", "description": NUL}) as r:
            assert r.status == 422 and "NUL" in (await r.json())["message"]
        async with http.post("/api/tickets", json={"kind": "complaint", "description": "合法描述内容",
                                                   "address": NUL}) as r:
            assert r.status == 422
        deep = "[" * 100_000 + "]" * 100_000
        async with http.post("/api/tickets", data=deep, headers={"Content-Type": "application/json"}) as r:
            assert r.status == 400 and (await r.json())["error"] == "bad_json"
        async with http.post("/api/tickets", data=io.BytesIO(b"x" * (3 * 1024 * 1024)),
                             headers={"Content-Type": "application/json"}) as r:
            assert r.status == 413 and (await r.json())["error"] == "too_large"
        async with http.get("/api/tickets?q=a%00b") as r:
            assert r.status == 422
    async with await logins.client("supervisor:li") as http:
        async with http.post("/api/tickets/PZH-20260101-000001/escalate", json={"note": NUL}) as r:
            assert r.status == 422
        async with http.get("/api/ivr/report/abandonment", params={"since": "0001-01-01T00:00:00"}) as r:
            assert r.status == 422 and "since" in (await r.json())["fields"]
    async with await logins.client("admin:root") as http:
        async with http.post("/api/ivr/blacklist", json={"number": CALLER, "reason": NUL}) as r:
            assert r.status == 422
        async with http.patch("/api/users/a%00b", json={"name": "x"}) as r:
            assert r.status == 422 and "path" in (await r.json())["fields"]
        async with http.post("/api/users", json={"username": "x1", "role": "supervisor", "password": "p" * 12,
                                                 "name": NUL}) as r:
            assert r.status == 422
    async with await logins.client("collector:c07") as http:
        async with http.post("/api/field-reports", json={"description": NUL}) as r:
            assert r.status == 422
    assert await pool.fetchval("SELECT count(*) FROM tickets") == 0
    assert await pool.fetchval("SELECT count(*) FROM ivr_blacklist") == 0


async def test_star21_signs_in_the_last_agent_seen_at_the_seat(stack):
    phone = Phone(stack)
    seat = seats(phone, True)[0]
    for agent_id in ("2001", "2002"):
        await phone.login(agent_id, seat)
        await phone.acd.logout(agent_id)
    await SeatFeatures(phone.acd).apply(seat, "login")  # what *21 from the seat's phone does
    assert phone.agent("2002").logged_in and not phone.agent("2001").logged_in
