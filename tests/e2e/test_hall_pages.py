"""The hall's people in real headless Chromium, each in their own browser context and session:
an agent signs in and takes a call and files a ticket; the market department's handler sees it
arrive on /dept, accepts it and replies; the supervisor sees the seat change state and listens
in (a snoop channel bridged to the supervisor's own seat, nothing on the agent's page).
Screenshots of the four pages are kept in /tmp for a person to look at."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from accounts_support import browser_login, ensure_user
from acd_support import Phone
from helpers import until
from playwright.async_api import async_playwright, expect

pytestmark = pytest.mark.asterisk

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
CALLER = "13912345678"
SHOTS = "/tmp/callcenter-{}.png"


async def test_agent_department_and_supervisor_pages(stack, settings, pool):
    phone = Phone(stack)
    base = f"http://127.0.0.1:{settings.http_port}"
    now = datetime.now(UTC)
    seat = next(s.id for s in phone.acd.roster.seats if phone.acd.roster.is_on_shift(s, now))
    sup_seat = next(s.id for s in phone.acd.roster.seats if s.id != seat)
    await phone.agent_mode(seat, "answer")
    await phone.agent_mode(sup_seat, "answer")
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        pages = {}
        for who in ("agent", "dept", "supervisor"):
            ctx = await browser.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN",
                                            timezone_id="Asia/Shanghai")
            pages[who] = await ctx.new_page()
            pages[who].on("pageerror", lambda exc: errors.append(str(exc)))
        agent, dept, sup = pages["agent"], pages["dept"], pages["supervisor"]

        # the login page, as everyone first sees it
        await agent.goto(f"{base}/agent?seat={seat}")
        await expect(agent.locator("#btn-login")).to_have_text("登录")
        await agent.screenshot(path=SHOTS.format("login"))
        await ensure_user(pool, "agent:1001")
        await browser_login(agent, base, pool, "agent:1001", f"/agent?seat={seat}")
        await browser_login(dept, base, pool, "dept:market:zhang", "/dept")
        await browser_login(sup, base, pool, "supervisor:li", "/board")
        await expect(dept.locator("#dept-name")).to_have_text("市场监管局")
        await expect(sup.locator("#live")).to_have_text("实时")

        # the agent signs in; the supervisor sees the seat become available
        await agent.click("#btn-login")
        await expect(agent.locator("#state")).to_have_attribute("data-state", "available")
        tile = sup.locator("[data-agent-id='1001']")
        await expect(tile).to_have_attribute("data-state", "available")

        # a citizen calls; the agent takes it; the supervisor sees the call on the tile
        call = await phone.call(caller=CALLER, queue="general")
        await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
        await expect(agent.locator("#caller")).to_have_text("139****5678")
        await expect(tile).to_have_attribute("data-state", "on_call")
        await expect(sup.locator("body")).not_to_contain_text(CALLER)

        # the supervisor listens in from their own seat phone
        await sup.select_option("#my-seat", sup_seat)
        await tile.locator("button[data-sv=listen]").click()
        await expect(sup.locator("#sv-msg")).to_contain_text("监听中")
        sid = await sup.locator("#sv-msg").get_attribute("data-sid")
        watch = stack_watch(stack, sid)
        await until(lambda: bridged(phone.ari, watch.bridge, {watch.snoop, watch.phone}), what="snoop bridged")
        assert (await phone.ari.get(f"/channels/{watch.phone}"))["name"].startswith(f"Local/{sup_seat}@")
        await sup.screenshot(path=SHOTS.format("board"), full_page=True)
        # the agent's page shows nothing of it
        await expect(agent.locator("#state")).to_have_attribute("data-state", "on_call")
        for text in ("监听", "耳语", "强插", sid):
            await expect(agent.locator("body")).not_to_contain_text(text)

        # the agent files a ticket; it is dispatched to the market department
        await agent.select_option("#t-kind", "complaint")
        await agent.fill("#t-category", "假冒伪劣")
        await agent.fill("#t-description", "商家卖假冒伪劣商品，要求退货并处理")
        await agent.click("#t-submit")
        await expect(agent.locator("#t-msg")).to_contain_text("工单号")
        number = await agent.locator("#t-msg").get_attribute("data-ticket")
        await agent.screenshot(path=SHOTS.format("agent"), full_page=True)

        # it arrives on the department's workbench; the handler accepts it and replies
        row = dept.locator(f"tr[data-ticket='{number}']")
        await expect(dept.locator("#notice")).to_contain_text(number)  # pushed over /ws/dept/market
        await expect(row).to_be_visible()
        await expect(row.locator("[data-status]")).to_have_text("已派单")
        await row.locator("button[data-open]").click()
        await dept.select_option("#act-kind", "acknowledge")
        await dept.click("#act-submit")
        await expect(dept.locator("#act-msg")).to_have_attribute("data-status", "acknowledged")
        await expect(row.locator("[data-status]")).to_have_text("已签收")
        await dept.screenshot(path=SHOTS.format("dept"), full_page=True)
        await dept.select_option("#act-kind", "reply")
        await dept.fill("#act-text", "已责令商家退货，并立案调查")
        await dept.click("#act-submit")
        await expect(dept.locator("#act-msg")).to_have_attribute("data-status", "resolved")
        await expect(row).to_have_count(0)  # resolved: off the department's open queue
        await browser.close()
    # the citizen hangs up: the supervision ends with the call (no snoop left on the shared Asterisk)
    await phone.hangup(call)
    await until(lambda: gone(phone.ari, watch.snoop, watch.phone), what="the supervision gone with the call")
    row = await pool.fetchrow("SELECT status, created_by, caller_phone FROM tickets WHERE number = $1", number)
    assert (row["status"], row["created_by"], row["caller_phone"]) == ("resolved", "agent:1001", CALLER)
    events = await pool.fetch("SELECT e.actor FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
                              " WHERE t.number = $1 ORDER BY e.id", number)
    assert "dept:market:zhang" in [e["actor"] for e in events]
    assert not errors, errors


def stack_watch(stack, sid):
    from callcenter.app import PLUGINS

    return stack[PLUGINS].acd.supervision.get().active[sid]


async def bridged(ari, bridge: str, channels: set[str]) -> bool:
    return channels <= set((await ari.get(f"/bridges/{bridge}"))["channels"])


async def gone(ari, *channels: str) -> bool:
    names = {c["id"] for c in await ari.get("/channels")}
    return not names & set(channels)
