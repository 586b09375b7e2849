"""An agent-driven ticket callback (人工回访) in a real headless Chromium against the whole app on
the sandbox Asterisk: the agent files a ticket during a call with "需人工回访" ticked; the
department resolves it; the dialler asks the ACD, which rings the agent's phone first and then
calls the citizen; the desk's WebSocket delivers the callback's `sv-` call id and the desk shows
the 人工回访 panel with the ticket's facts; the agent enters a bad review, and when the call ends
the ticket goes back to its department (重办)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from accounts_support import browser_login
from acd_support import Phone
from helpers import until
from playwright.async_api import expect
from surveys_support import citizen, survey_config, surveys_on, ticket_service

from callcenter.acd.agents import AgentConfig, AgentState

pytestmark = pytest.mark.asterisk

VIEWPORT = {"width": 1400, "height": 1300}
SCREENSHOT = "/tmp/callcenter-person-callback.png"
CALLER = "13812340099"


async def test_person_callback_on_the_desk_reopens_the_ticket_on_a_bad_review(stack, settings, pool,
                                                                              browser_page):
    page, phone = browser_page, Phone(stack)
    phone.acd.roster = phone.acd.roster.model_copy(update={"agents": AgentConfig(wrap_up_s=0.5)})
    base = f"http://127.0.0.1:{settings.http_port}"
    seat = next(s.id for s in phone.acd.roster.seats if phone.acd.roster.is_on_shift(s, datetime.now(UTC)))
    await phone.agent_mode(seat, "answer")
    await browser_login(page, base, pool, "agent:1001", f"/agent?seat={seat}")
    await expect(page.locator("#live")).to_have_text("实时")
    await page.click("#btn-login")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")

    # a citizen calls; the agent files a ticket with 需人工回访 ticked
    call = await phone.call(caller=CALLER, queue="general")
    await until(lambda: phone.acd.calls.get(call) and phone.acd.calls[call].state == "bridged", what="bridged")
    await expect(page.locator("#caller")).to_have_attribute("data-call-id", call)
    await page.select_option("#t-kind", "report")
    await page.fill("#t-category", "无证经营")
    await page.fill("#t-description", "小区门口有人无证经营烧烤，油烟扰民")
    await page.check("#t-person")
    await page.click("#t-submit")
    await expect(page.locator("#t-msg")).to_contain_text("已标记人工回访")
    number = await page.locator("#t-msg").get_attribute("data-ticket")
    flag = await pool.fetchrow("SELECT * FROM survey_person_tickets WHERE ticket_number = $1", number)
    assert flag is not None and flag["created_by"] == "agent:1001"
    await phone.hangup(call)
    await until(lambda: phone.agent("1001").state is AgentState.AVAILABLE, what="wrap-up over")

    # the department resolves it; the citizen will answer the callback and hold the line
    svc = ticket_service(stack)
    if (await svc.get(number)).ticket.status.value == "accepted":  # still in the hall: dispatch it
        await svc.act(number, "dispatch", actor="supervisor:li", lead="market")
    lead = (await svc.get(number)).ticket.lead_department
    await svc.act(number, "acknowledge", actor=f"dept:{lead}:zhang")
    await svc.act(number, "resolve", actor=f"dept:{lead}:zhang", reply="已取缔")
    await citizen(stack, CALLER, hold=120)

    s = await surveys_on(stack, survey_config(), acd=True)
    try:
        async def bridged() -> str | None:
            await s.dialler.tick()
            live = [c for c in phone.acd.calls.values() if c.call_id.startswith("sv-") and c.state == "bridged"]
            return live[0].call_id if live else None

        channel = await until(bridged, timeout=30, what="the person callback bridged to the agent")
        assert phone.acd.calls[channel].agent_id == "1001"
        # the desk's WebSocket names the callback's sv- id; the panel shows the ticket's facts
        await expect(page.locator("#caller")).to_have_attribute("data-call-id", channel)
        await expect(page.locator("#caller")).to_have_text("138****0099")
        panel = page.locator("#survey-panel")
        await expect(panel).to_be_visible(timeout=15000)
        await expect(panel).to_contain_text(number)
        await expect(panel).to_contain_text("无证经营")
        await expect(panel).to_contain_text("坐席建单时标记")
        await expect(page.locator("body")).not_to_contain_text(CALLER)

        # the agent enters the citizen's verdict while they talk: not solved, 不满意
        await page.select_option("#s-resolved", "false")
        await page.select_option("#s-rating", "4")
        await page.fill("#s-comment", "烧烤摊第二天又回来了")
        await page.click("#s-submit")
        await expect(page.locator("#s-msg")).to_have_text("回访结果已保存")
        await page.screenshot(path=SCREENSHOT, full_page=True)

        # the call ends: the attempt completes with the desk's result, the ticket is re-handled
        await phone.hangup(phone.acd.calls[channel].citizen_leg or "")  # the citizen hangs up
        job = await until(lambda: _ticked(s, lambda: pool.fetchrow(
            "SELECT * FROM survey_jobs WHERE ticket_number = $1 AND state = 'done'", number)),
            timeout=30, what="the callback's result stored")
    finally:
        s.unsubscribe()
        s.calls.close()
    assert (job["by_agent"], job["resolved"], job["rating"]) == (True, False, "不满意")
    attempt = await pool.fetchrow("SELECT * FROM survey_attempts WHERE channel_id = $1", channel)
    assert (attempt["outcome"], attempt["agent_id"]) == ("completed", "1001")
    assert attempt["answers"]["comment"] == "烧烤摊第二天又回来了"
    reopened = await until(lambda: pool.fetchrow("SELECT * FROM tickets WHERE number = $1 AND reopen_count = 1",
                                                 number), what="ticket reopened (重办)")
    assert reopened["status"] in ("dispatched", "returned", "accepted")
    assert reopened["lead_department"] == lead


async def _ticked(s, check):
    await s.dialler.tick()
    return await check()
