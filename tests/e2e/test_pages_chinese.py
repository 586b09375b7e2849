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
