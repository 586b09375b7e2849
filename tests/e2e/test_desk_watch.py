"""The desk and the board say who is on shift; a supervisor's view of an agent's desk is live;
the desk's sign-in line follows the agent's state (#25 item 6), in headless Chromium.

- the board's banner and the desk name the team on shift now (4班3倒) with its shift;
- a supervisor opening ``/agent?agent=…&seat=…`` gets the desk live (``/ws/agent`` admits the
  supervisor), the caller's number masked on the page and in every WebSocket frame; other roles
  are still refused the socket;
- a call bridged to the agent: the sign-in line says 通话中 with the badge, no stale 空闲."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest
from accounts_support import browser_login
from acd_support import Phone
from helpers import until
from playwright.async_api import expect

pytestmark = pytest.mark.asterisk

CALLER = "13812345678"


def _on_shift_seat(phone: Phone) -> tuple[str, str, str]:
    """An on-shift seat, its team and the name of the shift the team works now."""
    now = datetime.now(UTC)
    roster = phone.acd.roster
    seat = next(s for s in roster.seats if roster.is_on_shift(s, now))
    return seat.id, seat.team, roster.rotation.shift_of(seat.team, now).name


async def test_supervisor_watches_a_desk_live_with_the_number_masked(stack, settings, pool, browser_page, logins):
    page, phone = browser_page, Phone(stack)
    base = f"http://127.0.0.1:{settings.http_port}"
    seat, team, shift = _on_shift_seat(phone)
    await phone.login("1001", seat)
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(str(data))))

    await browser_login(page, base, pool, "supervisor:li", "/board")
    await expect(page.locator("#on-shift")).to_contain_text(f"当前在班：{team} 班组（{shift}")

    await page.goto(f"{base}/agent?agent=1001&seat={seat}")
    await expect(page.locator("#live")).to_have_text("实时")
    await expect(page.locator("#agent-id")).to_have_text("1001（班长查看）")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")
    await expect(page.locator("#on-shift")).to_contain_text(f"当前在班：{team} 班组（{shift}")
    await expect(page.locator("#signin")).to_contain_text("空闲")

    call = await phone.call(caller=CALLER, queue="general")
    await until(lambda: phone.acd.calls.get(call) and phone.acd.calls[call].state == "bridged", what="bridged")
    await expect(page.locator("#caller")).to_have_text("138****5678")
    await expect(page.locator("#state")).to_have_attribute("data-state", "on_call")
    await expect(page.locator("body")).not_to_contain_text(CALLER)
    assert frames and not [f for f in frames if CALLER in f], "the full number reached the supervisor's socket"
    await phone.hangup(call)


async def test_the_agent_socket_stays_closed_to_other_roles(stack, settings, logins):
    base = f"http://127.0.0.1:{settings.http_port}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        for actor in ("dept:market:zhang", "admin:root", "agent:1002"):
            cookie = (await logins.headers(actor))["Cookie"]
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{base}/ws/agent/1001", headers={"Cookie": cookie, "Origin": base})
            assert refused.value.status == 403, actor
        cookie = (await logins.headers("supervisor:li"))["Cookie"]
        async with http.ws_connect(f"{base}/ws/agent/1001", headers={"Cookie": cookie, "Origin": base}) as ws:
            doc = await ws.receive_json(timeout=10)
            assert doc["type"] == "agent" and doc["agent"]["agent_id"] == "1001"


async def test_sign_in_line_follows_the_state_into_a_call(stack, settings, pool, browser_page):
    page, phone = browser_page, Phone(stack)
    base = f"http://127.0.0.1:{settings.http_port}"
    seat, team, _shift = _on_shift_seat(phone)
    await phone.agent_mode(seat, "answer")
    await browser_login(page, base, pool, "agent:1001", f"/agent?seat={seat}")
    await expect(page.locator("#live")).to_have_text("实时")
    await expect(page.locator("#signin")).to_have_text("未签入")
    await page.click("#btn-login")
    await expect(page.locator("#signin")).to_contain_text("空闲")
    await expect(page.locator("#on-shift")).to_contain_text(f"本人 {team} 班组")

    call = await phone.call(caller=CALLER, queue="general")
    await until(lambda: phone.acd.calls.get(call) and phone.acd.calls[call].state == "bridged", what="bridged")
    await expect(page.locator("#state")).to_have_attribute("data-state", "on_call")
    await expect(page.locator("#signin")).to_contain_text("通话中")
    await expect(page.locator("#msg")).not_to_contain_text("空闲")
    await expect(page.locator("#signin")).not_to_contain_text("空闲")
    await phone.hangup(call)
    await expect(page.locator("#signin")).to_contain_text("话后整理")
