"""Knowledge suggestions on the agent desktop in a real headless Chromium: a call is bridged, the
citizen's final ("我想问一下公积金提取要带啥子材料") reaches the desk through the real outbox and
WebSocket, the article on what a 公积金 withdrawal needs is suggested first with the words that
matched, the agent opens it and files 直接答复 in one click: the ticket links the article, is
resolved by the hall and never dispatched. The agent's own search works too."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from accounts_support import browser_login
from acd_support import Phone
from helpers import until
from playwright.async_api import expect

from callcenter.app import PLUGINS
from callcenter.infra.outbox import write_with_event
from callcenter.transcription.publisher import topic

pytestmark = pytest.mark.asterisk
INSERT = ("INSERT INTO transcript_segments(call_id, leg, seq, start_s, end_s, text, words, status, deferred)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")


async def say(pool, call_id: str, seq: int, text: str) -> None:
    """A final of the citizen, stored and published as the transcription publisher does."""
    doc = {"type": "final", "call_id": call_id, "leg": "citizen", "speaker": "市民", "seq": seq,
           "start": 0.4 + 4 * seq, "end": 3.1 + 4 * seq, "text": text, "words": [], "deferred": False, "status": "ok"}
    await write_with_event(pool, [INSERT], [call_id, "citizen", seq, doc["start"], doc["end"], text, [], "ok", False],
                           topic(call_id), doc)


async def transcribed(pool, call_id: str) -> None:
    await write_with_event(pool, [], [], topic(call_id), {"type": "status", "call_id": call_id, "available": True,
                                                        "text": "", "reason": ""})


async def test_a_citizens_final_suggests_the_article_and_one_click_answers_directly(stack, settings, pool,
                                                                                    browser_page):
    page, phone = browser_page, Phone(stack)
    knowledge = stack[PLUGINS].knowledge
    async with pool.acquire() as conn:
        await knowledge.seed(conn, None)
    await knowledge.service.get().refresh()
    base = f"http://127.0.0.1:{settings.http_port}"
    now = datetime.now(UTC)
    seat = next(s.id for s in phone.acd.roster.seats if phone.acd.roster.is_on_shift(s, now))
    await phone.agent_mode(seat, "answer")
    await browser_login(page, base, pool, "agent:1001", f"/agent?seat={seat}")
    await expect(page.locator("#live")).to_have_text("实时")
    await page.click("#btn-login")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")

    # the supervisor's board, open from the start: today's direct-answer rate (直接答复率) moves live
    board = await page.context.browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN",
                                                   timezone_id="Asia/Shanghai")
    sup = await board.new_page()
    await browser_login(sup, base, pool, "supervisor:li", "/board")
    await expect(sup.locator("[data-figure='direct-answer-rate']")).to_have_text("—")

    call = await phone.call(caller="13812345678", queue="general")
    await until(lambda: phone.acd.calls.get(call) and phone.acd.calls[call].state == "bridged", what="bridged")
    await expect(page.locator("#caller")).to_have_attribute("data-call-id", call)
    await transcribed(pool, call)
    items = page.locator("#kb-suggestions .kb-item")
    await expect(page.locator("#kb-suggestions")).to_contain_text("暂无推荐")

    said = time.monotonic()
    await say(pool, call, 0, "我想问一下公积金提取要带啥子材料")
    await expect(items.first).to_have_attribute("data-article", "KB00001")
    print(f"\nfinal written -> suggestion on the desk: {time.monotonic() - said:.2f} s (bound: the expect timeout)")
    await expect(items).to_have_count(3)
    await expect(items.first).to_contain_text("公积金提取需要带什么材料")
    await expect(items.first).to_contain_text("住房公积金中心")  # the unit by its name
    await expect(items.first.locator(".kb-matched mark")).to_contain_text(["公积金提取", "材料"])

    await items.first.locator("button.kb-open").click()
    await expect(page.locator("#kb-answer-text")).to_contain_text("本人身份证原件")
    await page.click("#kb-direct")
    note = page.locator("#kb-msg")
    await expect(note).to_contain_text("已直接答复")
    number = await note.get_attribute("data-ticket")
    assert number and await note.get_attribute("data-article") == "KB00001"
    await expect(page.locator("#kb-direct")).to_be_disabled()

    row = await pool.fetchrow("SELECT status, lead_department, kb_article, kb_unit, kind, call_ids, caller_phone"
                              " FROM tickets WHERE number = $1", number)
    assert dict(row) == {"status": "resolved", "lead_department": "hall", "kb_article": "KB00001",
                         "kb_unit": "housing_fund", "kind": "enquiry", "call_ids": [call],
                         "caller_phone": "13812345678"}
    actions = [r["action"] for r in await pool.fetch(
        "SELECT e.action FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE t.number = $1 ORDER BY e.id",
        number)]
    assert actions == ["created", "answer_on_spot"]  # no dispatch

    # the agent's own search
    await page.fill("#kb-q", "电费在哪儿交")
    await page.click("#kb-search")
    await expect(page.locator("#kb-suggestions")).to_have_attribute("data-source", "manual")
    await expect(items.first).to_contain_text("电费缴纳在哪里办理")
    await phone.hangup(call)

    try:  # the board moved without a reload: 1 of 1, counted for the agent's team
        await expect(sup.locator("[data-figure='direct-answers']")).to_have_text("1")
        await expect(sup.locator("[data-figure='enquiries']")).to_have_text("1")
        await expect(sup.locator("[data-figure='direct-answer-rate']")).to_have_text("100.0%")
        team = next(s.team for s in phone.acd.roster.seats if s.id == seat)
        await expect(sup.locator(f"[data-direct-team='{team}']")).to_contain_text("100.0%（1/1）")
    finally:
        await board.close()

    # with no call on the desk (after a reload too), each 直接答复 is its own enquiry's ticket: an
    # earlier one is never replayed in its place
    numbers = {number}
    for _ in range(2):
        await page.reload()
        await page.fill("#kb-q", "公积金提取要带什么材料")
        await page.click("#kb-search")
        await items.first.locator("button.kb-open").click()
        await page.click("#kb-direct")
        await expect(note).to_contain_text("已直接答复")
        numbers.add(await note.get_attribute("data-ticket"))
    assert len(numbers) == 3, numbers
