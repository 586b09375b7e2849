"""The README's example call, through the real IVR to a signed-in agent's desk, in headless
Chromium (#25 item 6): the key it presses reaches an agent (not the ticket-progress menu), and
the desk shows the IVR's path and choices in Chinese (the flow file's labels, queues and
departments by name), not node ids, codes or the raw call id."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from accounts_support import browser_login
from acd_support import Phone
from ivr_support import dial, path_row
from playwright.async_api import expect

pytestmark = pytest.mark.asterisk

README = Path(__file__).resolve().parents[2] / "README.md"
RAW = re.compile(r"\b(greeting|main_menu|agent_general|incident_offer|ticket_number|general|main|zh)\b")


async def test_readme_example_call_reaches_the_desk_with_the_ivr_path_in_chinese(stack, settings, pool,
                                                                                 browser_page):
    page, phone = browser_page, Phone(stack)
    base = f"http://127.0.0.1:{settings.http_port}"
    dtmf = re.search(r"callcenter call 12345 --dtmf (\S+)", README.read_text(encoding="utf-8")).group(1)
    seat = next(s.id for s in phone.acd.roster.seats if phone.acd.roster.is_on_shift(s, datetime.now(UTC)))
    await phone.agent_mode(seat, "answer")
    await browser_login(page, base, pool, "agent:1001", f"/agent?seat={seat}")
    await page.click("#btn-login")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")

    call = await dial(stack, "12345", caller="13812345678", dtmf=dtmf, hold_for=120)
    await expect(page.locator("#caller")).to_have_attribute("data-call-id", call, timeout=30_000)
    steps = [s["node"] for s in (await path_row(pool, call))["path"]]
    assert "ticket_number" not in steps and steps[-1] == "agent_general", steps
    path = page.locator("#call .ivr-step")
    await expect(path.first).to_have_text("欢迎语（按 0）")
    await expect(path.last).to_have_text("转综合坐席")
    await expect(page.locator("#call")).to_contain_text("综合咨询")
    text = await page.locator("#call").evaluate("(el) => el.innerText")
    assert call not in text, "the raw call id is shown"
    assert not RAW.findall(text), f"node ids or codes where a person reads: {RAW.findall(text)}: {text}"
    assert call not in await page.locator("body").evaluate("(el) => el.innerText")
    await phone.hangup(call)
