"""A supervisor listens on the board's own browser phone (issue 23), in Debian's real headless
Chromium with a fake microphone, against the sandbox Asterisk over WSS: the supervisor picks
本页网页电话, the board registers the supervisor phone lent to them, a click on 监听 rings it,
the page answers by itself, the snoop on the agent's leg and the page's phone share the
supervision bridge, and audio from the call reaches the page; 结束 ends it."""

from __future__ import annotations

import pytest
from accounts_support import browser_login
from acd_support import Phone
from chromium_support import chromium_page, webrtc_args
from helpers import until
from playwright.async_api import expect

from callcenter.app import PLUGINS
from callcenter.infra.ari import AriError
from callcenter.infra.certs import spki_sha256

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(150)]

INBOUND_PACKETS = """async () => {
  const pc = phone.session && phone.session.connection;
  if (!pc) return 0;
  let n = 0;
  (await pc.getStats()).forEach((r) => { if (r.type === "inbound-rtp" && r.kind === "audio") n += r.packetsReceived; });
  return n;
}"""


@pytest.fixture
async def board_page(stack, asterisk):
    args = webrtc_args(spki_sha256(asterisk.keys_dir / "asterisk.crt"))
    async with chromium_page(args) as page:
        yield page


async def _bridged(ari, bridge: str, channels: set[str]) -> bool:
    try:
        return channels <= set((await ari.get(f"/bridges/{bridge}"))["channels"])
    except AriError:
        return False


async def test_a_supervisor_listens_on_the_boards_browser_phone(stack, settings, pool, board_page):
    page, phone = board_page, Phone(stack)
    await phone.login("1001", "seat01")
    call = await phone.call(caller="13812345678")
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")

    await browser_login(page, f"http://127.0.0.1:{settings.http_port}", pool, "supervisor:li", "/board")
    await page.select_option("#my-seat", "browser")
    await expect(page.locator("#phone-panel")).to_be_visible()
    await expect(page.locator("#phone-state")).to_have_attribute("data-state", "registered", timeout=20000)
    await expect(page.locator("#phone-state")).to_contain_text("班长话机 sup01")
    await expect(page.locator("#phone-keys [data-feature]")).to_have_count(0)  # no seat codes on the board

    await page.locator('.agent[data-agent-id="1001"] button[data-sv="listen"]').click()
    await expect(page.locator("#sv-msg")).to_contain_text("监听中", timeout=10000)
    supervision = stack[PLUGINS].acd.supervision.get()
    w = await until(lambda: next(iter(supervision.active.values()), None), what="the supervision")
    await expect(page.locator("#phone-state")).to_have_attribute("data-state", "talking", timeout=20000)
    await until(lambda: _bridged(phone.ari, w.bridge, {w.snoop, w.phone}), timeout=20,
                what="snoop and the page's phone in the supervision bridge")
    channel = await phone.ari.get(f"/channels/{w.phone}")
    assert channel["name"].startswith("PJSIP/sup01-web-")  # the page's own phone, not a seat's
    await until(lambda: page.evaluate(INBOUND_PACKETS), timeout=20, what="the call's audio reaching the page")
    assert phone.acd.calls[call].state == "bridged"  # the agent and the caller go on

    await page.click("#sv-stop")
    await until(lambda: not supervision.active, timeout=10, what="the supervision ended")
    await expect(page.locator("#sv-msg")).to_have_text("")  # (the 结束 button threw before: a null target)
    await expect(page.locator("#phone-state")).to_have_attribute("data-state", "registered", timeout=10000)
    await phone.hangup(call)
