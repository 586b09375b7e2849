"""The pages in headless Chromium show people names, not codes (#25 item 6): /dept names its
department (市场监管局, not ``market``)."""

from __future__ import annotations

import pytest
from accounts_support import browser_login
from playwright.async_api import expect

pytestmark = pytest.mark.asterisk


async def test_dept_shows_the_departments_chinese_name(stack, settings, pool, browser_page):
    page = browser_page
    base = f"http://127.0.0.1:{settings.http_port}"
    await browser_login(page, base, pool, "dept:market:zhang", "/dept")
    await expect(page.locator("#dept-name")).to_have_text("市场监管局")


async def test_admin_shows_audit_actions_and_departments_by_name(stack, settings, pool, browser_page):
    from accounts_support import ensure_user

    page = browser_page
    base = f"http://127.0.0.1:{settings.http_port}"
    await ensure_user(pool, "dept:market:zhang")
    await browser_login(page, base, pool, "admin:root", "/admin")
    await expect(page.locator("#audit tbody")).to_contain_text("登录")
    audit = await page.locator("#audit tbody").inner_text()
    assert "login" not in audit, audit
    users = page.locator("tr[data-user='market.zhang']")
    await expect(users).to_contain_text("市场监管局")
    await expect(page.locator("#departments tr[data-department=market] td").first).to_have_text("市场监管局")
