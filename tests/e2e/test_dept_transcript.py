"""The department workbench (/dept) shows what was said on the call a ticket was filed from, in a
real headless Chromium against the running app: the finals are stored as the transcriber stores
them (the real outbox publisher, text masked as the recognizer masks it); the market department's
handler opens the ticket, unfolds 通话转写 (nothing is asked before) and reads the citizen's and
the agent's lines with their time offsets, an untranscribed line marked 未转写 and the citizen's
number still masked. A ticket filed without a call says so. Once the market department has
returned the ticket and the hall has re-dispatched it to the water department, the market
handler (the ticket still open on their page) is told plainly they may not read it, and sees
none of it, while the water department's handler reads it."""

from __future__ import annotations

import uuid

import pytest
from accounts_support import browser_login
from playwright.async_api import expect

from callcenter.transcription.model import UNTRANSCRIBED, Leg, Utterance
from callcenter.transcription.publisher import OutboxPublisher
from callcenter.transcription.text import mask_sensitive

pytestmark = pytest.mark.asterisk

CITIZEN_PHONE = "13812345678"
SAID = "我家楼下超市卖过期食品，我的电话是" + CITIZEN_PHONE
ANSWER = "好的，我们会转给市场监管部门处理"
SCREENSHOT = "/tmp/callcenter-dept-transcript.png"  # for a person to look at
LINES = [f"00:01 市民：{mask_sensitive(SAID)}", f"00:04 坐席：{ANSWER}", "01:05 市民：（未转写）"]


async def file_ticket(logins, description: str, phone: str, call_ids: list[str]) -> dict:
    async with await logins.client("supervisor:li") as http:  # the hall attaches any call
        async with http.post("/api/tickets", json={
                "kind": "complaint", "category": "假冒伪劣", "description": description,
                "caller_phone": phone, "call_ids": call_ids}) as resp:
            assert resp.status == 201, await resp.text()
            return await resp.json()


async def test_a_department_reads_the_call_of_its_own_ticket_only(stack, settings, pool, browser_page, logins):
    call = f"c-{uuid.uuid4().hex[:10]}"
    said = OutboxPublisher(pool)  # as the transcriber stores a call's finals
    await said.utterance(Utterance(call, Leg.CITIZEN, 0, 1.2, 4.0, mask_sensitive(SAID)))
    await said.utterance(Utterance(call, Leg.AGENT, 0, 4.5, 7.0, ANSWER))
    await said.utterance(Utterance(call, Leg.CITIZEN, 1, 65.0, 68.0, "", status=UNTRANSCRIBED))
    from_call = await file_ticket(logins, "超市卖过期食品", CITIZEN_PHONE, [call])
    no_call = await file_ticket(logins, "商家卖假冒伪劣商品，要求退货", "13900002222", [])
    for t in (from_call, no_call):
        assert (t["status"], t["lead_department"]) == ("dispatched", "market"), t
    assert from_call["call_ids"] == [call] and no_call["call_ids"] == []

    page, base = browser_page, f"http://127.0.0.1:{settings.http_port}"
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/transcript" in r.url else None)
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    await browser_login(page, base, pool, "dept:market:zhang", "/dept")
    section, box = page.locator("#act-transcript"), page.locator("#act-transcript-body")
    lines = box.locator(".line")

    # the ticket from the call: folded at first, read when unfolded
    await page.locator(f"tr[data-ticket='{from_call['number']}'] button[data-open]").click()
    await expect(page.locator("#act-number")).to_have_text(from_call["number"])
    await expect(section.locator("summary")).to_have_text("通话转写")
    await expect(box).to_be_hidden()
    assert asked == []
    await section.locator("summary").click()
    await expect(lines).to_have_text(LINES)
    await expect(box.locator(".line.citizen")).to_have_count(2)
    await expect(box.locator(".line.agent")).to_have_count(1)
    await expect(box.locator(".line.untranscribed")).to_have_count(1)
    assert asked == [f"{base}/api/calls/{call}/transcript"]
    await expect(page.locator("body")).not_to_contain_text(CITIZEN_PHONE)  # masked as stored and served
    await page.screenshot(path=SCREENSHOT, full_page=True)

    # a ticket filed without a call: said so, nothing asked
    await page.locator(f"tr[data-ticket='{no_call['number']}'] button[data-open]").click()
    await expect(box).to_be_hidden()  # another ticket: folded again, and emptied
    await section.locator("summary").click()
    await expect(box).to_have_text("无通话转写（非来电工单）")
    await expect(lines).to_have_count(0)
    assert len(asked) == 1

    # the market department returns the ticket (退单); the hall gives it to the water department
    await page.locator(f"tr[data-ticket='{from_call['number']}'] button[data-open]").click()
    await page.select_option("#act-kind", "return")
    await page.fill("#act-text", "过期食品归食药监管，不归本单位")
    await page.click("#act-submit")
    await expect(page.locator("#act-msg")).to_have_attribute("data-status", "returned")
    async with await logins.client("supervisor:li") as http:
        async with http.post(f"/api/tickets/{from_call['number']}/redispatch", json={"lead": "water"}) as resp:
            assert resp.status == 200, await resp.text()
    # the ticket still open on the market handler's page: the call is no longer theirs to read
    await expect(page.locator(f"tr[data-ticket='{from_call['number']}']")).to_have_count(0)
    await expect(page.locator("#act-number")).to_have_text(from_call["number"])
    await section.locator("summary").click()
    await expect(box).to_have_text("无权查看该通话的转写")
    await expect(lines).to_have_count(0)
    await expect(page.locator("body")).not_to_contain_text(ANSWER)
    assert len(asked) == 2

    # the water department's handler reads it through the ticket now theirs
    await page.context.clear_cookies()
    await browser_login(page, base, pool, "dept:water:wang", "/dept")
    await expect(page.locator("#dept-name")).to_have_text("水务公司")  # the catalogue name, once the page has read it
    await page.locator(f"tr[data-ticket='{from_call['number']}'] button[data-open]").click()
    await section.locator("summary").click()
    await expect(lines).to_have_text(LINES)
    assert not csp, csp
