"""Issue 25 item 4: failed logins slow an attacker down without locking the hall out (a hall's
agents share one NAT address). Per account and per address with exponential back-off; a correct
password for an account with no recent failures is still admitted; Retry-After on every 429;
the admin sees the locks and lifts one (audited). On the running stack, real Redis sessions."""

from __future__ import annotations

import aiohttp
import pytest
from accounts_support import PASSWORD, ensure_user

pytestmark = pytest.mark.asterisk


async def attempt(http: aiohttp.ClientSession, username: str, password: str) -> tuple[int, str | None]:
    async with http.post("/api/session", json={"username": username, "password": password}) as r:
        return r.status, r.headers.get("Retry-After")


async def test_one_address_full_of_failures_does_not_lock_the_hall_out(stack, settings, pool, logins):
    base = f"http://127.0.0.1:{settings.http_port}"
    agent = await ensure_user(pool, "agent:1012")
    victim = await ensure_user(pool, "supervisor:wang")
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.DummyCookieJar()) as http:
        refused = []
        for _ in range(8):  # one account attacked: it backs off, and says how long
            status, retry = await attempt(http, victim.username, "wrong")
            if status == 429:
                refused.append(retry)
            else:
                assert status == 401
        assert refused and all(r is not None and int(r) >= 1 for r in refused)
        status, retry = await attempt(http, victim.username, PASSWORD)
        assert status == 429 and retry is not None and int(retry) >= 1
        async with await logins.client("admin:root") as admin:
            async with admin.get("/api/login-locks") as r:
                assert r.status == 200, await r.text()
                locks = {(x["kind"], x["key"]): x for x in (await r.json())["locks"]}
            assert locks[("account", victim.username)]["failures"] == 4  # refused attempts are not guesses
            assert locks[("account", victim.username)]["retry_after_s"] >= 1

        for i in range(25):  # a mistyping script, under any names, from the hall's one address
            status, retry = await attempt(http, f"ghost{i}", "wrong")
            assert status == 401 or (status == 429 and retry is not None)
        assert await attempt(http, agent.username, PASSWORD) == (200, None)  # no recent failures: admitted

        async with await logins.client("admin:root") as admin:
            async with admin.get("/api/login-locks") as r:
                locks = {(x["kind"], x["key"]): x for x in (await r.json())["locks"]}
            assert locks[("address", "127.0.0.1")]["failures"] >= 25
            assert locks[("address", "127.0.0.1")]["retry_after_s"] >= 1
            async with admin.delete(f"/api/login-locks/account/{victim.username}") as r:
                assert r.status == 204, await r.text()
            async with admin.get("/api/login-locks") as r:
                assert ("account", victim.username) not in {(x["kind"], x["key"]) for x in (await r.json())["locks"]}
        assert await attempt(http, victim.username, PASSWORD) == (200, None)  # the lock lifted
    rows = await pool.fetch("SELECT actor, target FROM audit_log WHERE action = 'login_lock_lifted'")
    assert [(r["actor"], r["target"]) for r in rows] == [("root", f"account:{victim.username}")]
