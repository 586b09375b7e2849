"""The pages in headless Chromium show people names, not codes (#25 item 6): /dept names its
department (市场监管局, not ``market``); /admin its audit actions and departments; the desk its
off-shift refusal (Chinese, Beijing time, how the override works, which teams are on shift)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from accounts_support import browser_login
from acd_support import Phone
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


async def test_desk_off_shift_refusal_reads_in_chinese_with_beijing_time(stack, settings, pool, browser_page):
    page, phone = browser_page, Phone(stack)
    base = f"http://127.0.0.1:{settings.http_port}"
    now = datetime.now(UTC)
    off = next(s for s in phone.acd.roster.seats if not phone.acd.roster.is_on_shift(s, now))
    teams = sorted(phone.acd.roster.on_shift_teams(now))
    await browser_login(page, base, pool, "agent:1001", f"/agent?seat={off.id}")
    await expect(page.locator("#live")).to_have_text("实时")
    await page.click("#btn-login")
    msg = page.locator("#msg")
    await expect(msg).to_contain_text("不在本班次")
    text = await msg.inner_text()
    assert not re.search(r"[A-Za-z]{3,}", text.replace(f"/agent?agent=1001&seat={off.id}", "")), text
    assert not re.search(r"\d{4}-\d\d-\d\dT", text), text  # no raw ISO timestamp
    local = now.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert f"{local:%H}:" in text and "北京时间" in text, text
    assert f"/agent?agent=1001&seat={off.id}" in text, text  # how the override is done
    assert all(f"{t} 班" in text for t in teams), (teams, text)
