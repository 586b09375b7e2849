"""/admin in headless Chromium: an admin adds a supervisor through the form, the new user logs
in, the admin disables it (its session stops working), and the audit log shows it all."""

from __future__ import annotations

import aiohttp
import pytest
from accounts_support import browser_login, login_headers
from playwright.async_api import expect

pytestmark = pytest.mark.asterisk
SCREENSHOT = "/tmp/callcenter-admin.png"


async def test_admin_adds_and_disables_a_user(stack, settings, pool, browser_page):
    page = browser_page
    base = f"http://127.0.0.1:{settings.http_port}"
    await browser_login(page, base, pool, "admin:root", "/admin")
    await page.fill("#u-name", "wang")
    await page.select_option("#u-role", "supervisor")
    await page.fill("#u-display", "王班长")
    await page.fill("#u-pass", "wang-password-2026")
    await page.click("#u-submit")
    await expect(page.locator("#u-msg")).to_contain_text("supervisor:wang")
    row = page.locator("tr[data-user='wang']")
    await expect(row).to_contain_text("班长")

    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.DummyCookieJar()) as http:
        headers = await login_headers(http, f"{base}/api/session", "wang", "wang-password-2026")
        async with http.get("/api/board/snapshot", headers=headers) as r:
            assert r.status == 200
        await row.locator("button[data-toggle=disable]").click()
        await expect(row).to_contain_text("已停用")
        async with http.get("/api/board/snapshot", headers=headers) as r:
            assert r.status == 401  # a disabled user's sessions end
    # the dispatch rules' tables: tests/e2e/test_admin_rules_blacklist.py
    await expect(page.locator("#departments tr[data-department=market]")).to_be_visible()
    await page.reload()
    await expect(page.locator("#audit")).to_contain_text("停用用户")
    await expect(page.locator("#audit")).to_contain_text("新增用户")
    await page.screenshot(path=SCREENSHOT, full_page=True)


@pytest.mark.parametrize("evil", ["//evil.example/x", "/%5Cevil.example", "https://evil.example/"])
async def test_login_never_sends_the_browser_off_site(stack, settings, pool, browser_page, evil):
    from accounts_support import PASSWORD, ensure_user

    page = browser_page
    base = f"http://127.0.0.1:{settings.http_port}"
    user = await ensure_user(pool, "admin:root")
    await page.goto(f"{base}/login?next={evil}")
    await page.fill("#username", user.username)
    await page.fill("#password", PASSWORD)
    await page.click("#btn-login")
    await page.wait_for_url(f"{base}/admin")  # the role's own page instead
