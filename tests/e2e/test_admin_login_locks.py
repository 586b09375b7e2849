"""/admin in headless Chromium (issue 25 item 4): the admin sees an account backed off after
failed logins, lifts the lock from the page (audited), and the account logs in again."""

from __future__ import annotations

import aiohttp
import pytest
from accounts_support import PASSWORD, browser_login, ensure_user
from playwright.async_api import expect

pytestmark = pytest.mark.asterisk


async def test_the_admin_sees_a_login_lock_and_lifts_it(stack, settings, pool, browser_page):
    base = f"http://127.0.0.1:{settings.http_port}"
    victim = await ensure_user(pool, "supervisor:wang")
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.DummyCookieJar()) as http:
        for _ in range(4):
            async with http.post("/api/session", json={"username": victim.username, "password": "wrong"}) as r:
                assert r.status == 401
        page = browser_page
        await browser_login(page, base, pool, "admin:root", "/admin")
        row = page.locator(f"#locks tr[data-lock='account:{victim.username}']")
        await expect(row).to_contain_text("账号")
        await expect(row).to_contain_text("4")
        await row.locator("button[data-lift]").click()
        await expect(row).to_have_count(0)
        async with http.post("/api/session", json={"username": victim.username, "password": PASSWORD}) as r:
            assert r.status == 200
    rows = await pool.fetch("SELECT actor, target FROM audit_log WHERE action = 'login_lock_lifted'")
    assert [(r["actor"], r["target"]) for r in rows] == [("root", f"account:{victim.username}")]
