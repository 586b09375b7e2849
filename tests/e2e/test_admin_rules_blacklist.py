"""/admin in headless Chromium (#25 item 6): the dispatch rules read as tables in Chinese (units by
name, conditions spelled out, no JSON) and are edited there, stored as a new version; the IVR
blacklist panel lists, adds and removes numbers (masked on the page), each change audited and
the IVR refusing the number while it is listed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from accounts_support import browser_login
from playwright.async_api import expect

from callcenter.app import PLUGINS

pytestmark = pytest.mark.asterisk
NUMBER = "13955556666"


async def _stored_rules(pool) -> dict:
    doc = await pool.fetchval("SELECT spec FROM ticket_routing_rules ORDER BY id DESC LIMIT 1")
    return json.loads(doc) if isinstance(doc, str) else doc


async def test_dispatch_rules_read_and_edit_as_tables(stack, settings, pool, browser_page):
    page = browser_page
    base = f"http://127.0.0.1:{settings.http_port}"
    await browser_login(page, base, pool, "admin:root", "/admin")
    consumer = page.locator("#rules-table tr[data-name=consumer-complaint]")
    await expect(consumer).to_contain_text("问题分类：消费维权；诉求类型：投诉、举报")
    await expect(consumer.locator("[data-field=lead] option:checked")).to_have_text("市场监管局")
    await expect(page.locator("#rules-table tr[data-name=wage-arrears]")).to_contain_text("住建局")
    panel = await page.locator("#rules-panel").evaluate("(el) => el.innerText")
    assert "{" not in panel and '"lead"' not in panel, panel

    versions = await pool.fetchval("SELECT count(*) FROM ticket_routing_rules")
    await page.fill("#r-threshold", "7")
    await page.click("#rules-save")
    await expect(page.locator("#rules-msg")).to_contain_text("保存失败")
    assert await pool.fetchval("SELECT count(*) FROM ticket_routing_rules") == versions

    await page.fill("#r-threshold", "0.65")
    water = page.locator("#keywords-table tr[data-name=water]")
    words = await water.locator("[data-field=words]").input_value()
    await water.locator("[data-field=words]").fill(words + "、水质浑浊")
    await water.locator("[data-field=weight]").fill("0.75")
    await page.locator("#keywords-table tr[data-name=gas] button[data-remove]").click()
    await page.click("#kw-add")
    added = page.locator("#keywords-table tbody tr").last
    await added.locator("[data-field=words]").fill("路灯不亮、路灯损坏")
    await added.locator("[data-field=lead]").select_option("urban_management")
    await page.click("#rules-save")
    await expect(page.locator("#rules-msg")).to_have_text("已保存")
    assert await pool.fetchval("SELECT count(*) FROM ticket_routing_rules") == versions + 1
    spec = await _stored_rules(pool)
    assert spec["threshold"] == 0.65
    kw = {r.get("name"): r for r in spec["keywords"]}
    assert "水质浑浊" in kw["water"]["words"] and kw["water"]["weight"] == 0.75 and "gas" not in kw
    new = [r for r in spec["keywords"] if "路灯不亮" in r["words"]]
    assert new and new[0]["lead"] == "urban_management"
    assert len(spec["rules"]) == 9 and spec["rules"][0]["when"] == {"category": ["城市管理", "市容环境"]}
    await page.reload()
    await expect(page.locator("#r-threshold")).to_have_value("0.65")


async def test_ivr_blacklist_panel_lists_adds_and_removes_audited(stack, settings, pool, browser_page):
    page = browser_page
    base = f"http://127.0.0.1:{settings.http_port}"
    ivr = stack[PLUGINS].ivr.service.get()
    await browser_login(page, base, pool, "admin:root", "/admin")
    await expect(page.locator("#blacklist")).to_contain_text("名单为空")
    await page.fill("#bl-number", NUMBER)
    await page.fill("#bl-reason", "恶意骚扰")
    await page.select_option("#bl-days", "30")
    await page.click("#bl-submit")
    row = page.locator("#blacklist tr[data-blocked='139****6666']")
    await expect(row).to_contain_text("恶意骚扰")
    await expect(row).to_contain_text("admin:root")
    await expect(page.locator("#blacklist-panel")).not_to_contain_text(NUMBER)
    assert await ivr.repo.check_blocked(NUMBER, datetime.now(UTC))

    await page.fill("#bl-number", "12")
    await page.click("#bl-submit")
    await expect(page.locator("#bl-msg")).to_contain_text("加入失败")

    await row.locator("button[data-unblock]").click()
    await expect(page.locator("#bl-msg")).to_contain_text("已移出 139****6666")
    await expect(page.locator("#blacklist")).to_contain_text("名单为空")
    assert not await ivr.repo.check_blocked(NUMBER, datetime.now(UTC))

    audit = await pool.fetch("SELECT action, target FROM audit_log WHERE action LIKE 'ivr_blacklist_%' ORDER BY id")
    assert [(r["action"], r["target"]) for r in audit] == [
        ("ivr_blacklist_added", "139****6666"), ("ivr_blacklist_removed", "139****6666")]
    await page.reload()
    await expect(page.locator("#audit")).to_contain_text("加入IVR黑名单")
    await expect(page.locator("#audit")).to_contain_text("移出IVR黑名单")
    await expect(page.locator("#audit")).not_to_contain_text(NUMBER)
