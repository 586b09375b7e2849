"""Agent desktop, mass incidents (热点诉求), in a real headless Chromium against the running app:
citizens report a gas smell in one street of 仁和区 until the detector opens an incident; the
agent files one more such ticket from the desk, the desk proposes 并单 into the master ticket
("疑似批量诉求：…（已有N件）— 并入主单 …？"), and the agent's confirmation merges it."""

from __future__ import annotations

import pytest
from accounts_support import browser_login
from helpers import until
from playwright.async_api import expect

from callcenter.app import PLUGINS

pytestmark = pytest.mark.asterisk

TEXTS = ["仁和区南山路燃气泄漏，气味很大", "南山路这边闻到燃气味，怕是漏气了", "我们南山路燃气管道漏气，好大的气味"]


async def test_desk_proposes_the_incident_and_the_agent_merges(stack, settings, pool, browser_page, logins):
    page, base = browser_page, f"http://127.0.0.1:{settings.http_port}"
    dispatch = stack[PLUGINS].dispatch.service.get()
    async with await logins.client("agent:1009") as http:
        for i in range(dispatch.detector.min_count):
            async with http.post("/api/tickets", json={
                    "kind": "求助", "district": "仁和区", "caller_phone": f"1390002{i:04d}",
                    "description": TEXTS[i % 3]}) as resp:
                assert resp.status == 201, await resp.text()
    incident = await until(lambda: pool.fetchrow("SELECT * FROM dispatch_incidents WHERE status = 'open'"),
                           what="the incident opened")
    master, others = incident["master_ref"], dispatch.detector.min_count

    await browser_login(page, base, pool, "agent:1001", "/agent")
    await page.select_option("#t-kind", "help")
    await page.select_option("#t-district", "仁和区")
    await page.fill("#t-description", "南山路燃气泄漏了，气味大得很，快派人来看")
    await page.click("#t-submit")
    await expect(page.locator("#t-msg")).to_contain_text("工单号")
    number = await page.locator("#t-msg").get_attribute("data-ticket")

    proposal = page.locator("#incident-proposal")
    await expect(proposal).to_be_visible()
    await expect(proposal).to_contain_text("疑似批量诉求：仁和区 南山路")
    await expect(proposal).to_contain_text(f"（已有{others}件）— 并入主单 {master}？")
    await expect(proposal).to_have_attribute("data-ticket", number)
    await page.click("#incident-merge")
    await expect(proposal).to_contain_text(f"工单 {number} 已并入主单 {master}")

    row = await pool.fetchrow("SELECT status, merged_into FROM tickets WHERE number = $1", number)
    assert (row["status"], row["merged_into"]) == ("closed", master)
    link = await pool.fetchrow("SELECT via, confirmed FROM dispatch_incident_links WHERE incident_id = $1"
                               " AND ref = $2", incident["id"], number)
    assert tuple(link) == ("agent", True)

    # a ticket about something else gets no proposal
    await page.select_option("#t-district", "东区")
    await page.fill("#t-description", "咨询公积金提取需要哪些材料")
    await page.click("#t-submit")
    await expect(page.locator("#t-msg")).not_to_have_attribute("data-ticket", number)
    other = await page.locator("#t-msg").get_attribute("data-ticket")
    async with await logins.client("agent:1001") as http:
        async with http.get(f"/api/dispatch/incidents/for/{other}") as resp:
            assert (await resp.json())["incident"] is None
    await expect(proposal).to_be_hidden()
