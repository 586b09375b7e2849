"""Agent desktop in a real headless Chromium against the whole running app: log in on the login
page as the agent, sign in at an on-shift seat with the button (the phone dialled comes from the
roster), pause and unpause, take a call (masked number, IVR facts, caller history) and file a
ticket from the form; every effect is checked in the ACD service and in PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from accounts_support import browser_login
from acd_support import Phone
from helpers import until
from playwright.async_api import expect

from callcenter.acd.agents import AgentState
from callcenter.app import PLUGINS

pytestmark = pytest.mark.asterisk

VIEWPORT = {"width": 1400, "height": 1100}
SCREENSHOT = "/tmp/callcenter-agent-desktop.png"
CALLER = "13812345678"


async def earlier_ticket(logins) -> str:
    """An enquiry the same citizen made before (answered on the spot)."""
    async with await logins.client("agent:1009") as http:
        async with http.post("/api/tickets", json={
                "kind": "咨询", "description": "咨询公积金提取需要哪些材料", "caller_phone": CALLER,
                "category": "公积金提取", "answer_on_spot": "已告知所需材料"}) as resp:
            assert resp.status == 201, await resp.text()
            return (await resp.json())["number"]


async def test_agent_desktop_login_pause_call_and_ticket(stack, settings, pool, browser_page, logins):
    page, phone = browser_page, Phone(stack)
    base = f"http://127.0.0.1:{settings.http_port}"
    previous = await earlier_ticket(logins)
    now = datetime.now(UTC)
    seat = next(s.id for s in phone.acd.roster.seats if phone.acd.roster.is_on_shift(s, now))
    await phone.agent_mode(seat, "answer")
    await browser_login(page, base, pool, "agent:1001", f"/agent?seat={seat}")
    state = page.locator("#state")
    await expect(page.locator("#live")).to_have_text("实时")
    await expect(state).to_have_text("未签入")

    # sign in with the button at a seat whose team is on shift
    await page.click("#btn-login")
    await expect(state).to_have_attribute("data-state", "available")
    await expect(state).to_have_text("空闲")
    assert phone.agent("1001").state is AgentState.AVAILABLE
    assert phone.acd.slots["1001"].interface == f"Local/{seat}@agent-sim/n"  # the roster's, not the page's

    # pause for a meal, then back
    await page.select_option("#pause-reason", "meal")
    await page.click("#btn-pause")
    await expect(state).to_have_text("小休（用餐）")
    assert phone.agent("1001").state is AgentState.PAUSED
    await page.click("#btn-unpause")
    await expect(state).to_have_attribute("data-state", "available")
    assert phone.agent("1001").state is AgentState.AVAILABLE

    # a citizen calls: offered to 1001, bridged; the desktop shows the masked number and history
    call = await phone.call(caller=CALLER, queue="general")
    await until(lambda: phone.acd.calls.get(call) and phone.acd.calls[call].state == "bridged", what="bridged")
    await expect(page.locator("#caller")).to_have_text("138****5678")
    await expect(page.locator("#caller")).to_have_attribute("data-call-id", call)
    await expect(page.locator("#call-state")).to_have_text("通话中")
    await expect(page.locator("#call")).to_contain_text("综合咨询")
    await expect(state).to_have_attribute("data-state", "on_call")
    await expect(page.locator(f"#history-tickets [data-ticket='{previous}']")).to_contain_text("公积金提取")
    await expect(page.locator("#t-call")).to_have_attribute("data-call-id", call)

    # file a ticket from the form, prefilled with the call
    await page.select_option("#t-kind", "complaint")
    await page.fill("#t-category", "噪音扰民")
    await page.select_option("#t-district", "东区")
    await page.fill("#t-address", "炳草岗大街88号")
    await page.fill("#t-description", "夜间施工噪音扰民，已持续一周，请相关部门处理")
    await page.click("#t-submit")
    await expect(page.locator("#t-msg")).to_contain_text("工单号")
    number = await page.locator("#t-msg").get_attribute("data-ticket")
    row = await pool.fetchrow("SELECT * FROM tickets WHERE number = $1", number)
    assert row is not None and call in row["call_ids"]
    assert (row["kind"], row["category"], row["district"]) == ("complaint", "噪音扰民", "东区")
    assert row["caller_phone"] == CALLER and row["address"] == "炳草岗大街88号"
    assert row["created_by"] == "agent:1001" and row["channel"] == "call"
    await expect(page.locator(f"#history-tickets [data-ticket='{number}']")).to_contain_text("噪音扰民")
    await expect(page.locator("body")).not_to_contain_text(CALLER)
    await page.screenshot(path=SCREENSHOT, full_page=True)

    # the caller hangs up: wrap-up, and the call stays on the desk for the paperwork
    await phone.hangup(call)
    await expect(state).to_have_attribute("data-state", "wrap_up")
    await expect(page.locator("#call-state")).to_contain_text("已结束")
    await expect(page.locator("#caller")).to_have_text("138****5678")

    # the caller rates the service (坐席服务评价): the agent sees their own ratings of today
    await expect(page.locator("#my-ratings [data-figure=rated]")).to_have_text("0")
    store = stack[PLUGINS].surveys.service.get().store
    await store.record_rating(call, agent_id="1001", seat_id=seat, team=phone.agent("1001").team,
                              rating="满意", digit="2", at=datetime.now(UTC))
    await expect(page.locator("#my-ratings [data-figure=rated]")).to_have_text("1")
    await expect(page.locator("#my-ratings [data-figure=satisfaction]")).to_have_text("100.0%")


async def test_caller_history_api(stack, settings, pool, logins):
    number = await earlier_ticket(logins)
    await pool.execute("INSERT INTO calls(call_id, caller, queue, disposition) VALUES ('h-1', $1, 'general',"
                       " 'abandoned')", CALLER)
    async with await logins.client("supervisor:li") as http:
        async with http.get("/api/callers/138-1234-5678/history") as resp:
            assert resp.status == 200
            doc = await resp.json()
    async with await logins.client("agent:1001") as http:
        async with http.get("/api/callers/138-1234-5678/history") as resp:
            assert resp.status == 403  # an agent cannot look any citizen up
        async with http.get("/api/board/agents/1001") as resp:
            desk = await resp.json()
    assert doc["phone_masked"] == "138****5678"
    assert [c["call_id"] for c in doc["calls"]] == ["h-1"] and doc["calls"][0]["disposition"] == "abandoned"
    assert [t["number"] for t in doc["tickets"]] == [number]
    assert desk["agent"]["state"] == "logged_out" and desk["call"] is None and "meal" in desk["pause_reasons"]
