"""The desk's browser phone in Debian's real headless Chromium with a fake microphone, against the
real sandbox Asterisk over WSS (the test trusts its own CA by the certificate's SPKI): the agent
signs in, the page registers the seat's browser endpoint with the credentials the server hands
it, a caller is routed to the seat, the page rings with the masked number, the test clicks
answer, the call is bridged in ARI, the agent leg's audio (the fake microphone speaking Korean,
espeak-ng) reaches the live transcription and its words show on the desk's agent line, then
the page hangs up and the agent goes to wrap-up."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime

import pytest
from accounts_support import browser_login
from acd_support import Phone
from chromium_support import chromium_page, webrtc_args
from helpers import until
from playwright.async_api import expect
from recording_support import start_stack
from transcription_support import decode_directly, model_dir, render_speech

from callcenter.infra.certs import spki_sha256

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(180)]


@pytest.fixture
async def sip_stack(settings, database, asterisk, pool, live, tmp_path):
    app, runner = await start_stack(settings, seat_interface="PJSIP/{seat}", wrap_up_s=30, transcription_enabled=True,
                                    transcription_spool_dir=tmp_path / "spool")
    yield app
    await runner.cleanup()


def microphone(asterisk, target) -> tuple[str, str]:
    """The fake microphone's file (the agent's Korean sentence between pauses; Chromium loops it)
    and what Vosk hears in it when fed directly."""
    speech = render_speech(asterisk.root)["tr-ko-agent"]
    subprocess.run(["sox", str(speech), "-r", "48000", "-c", "1", "-b", "16", str(target), "pad", "1.5", "2.5"],
                   check=True)
    from callcenter.transcription.recognizer import load_model

    return str(target), decode_directly(load_model(model_dir()), speech)


@pytest.fixture
async def phone_page(sip_stack, asterisk, tmp_path, request):
    wav, heard = await asyncio.to_thread(microphone, asterisk, tmp_path / "mic.wav")
    request.node.heard = heard
    args = webrtc_args(spki_sha256(asterisk.keys_dir / "asterisk.crt"), wav)
    async with chromium_page(args) as page:
        yield page


async def test_the_desk_rings_answers_and_hangs_up_in_the_browser(sip_stack, settings, pool, phone_page, request):
    page, phone = phone_page, Phone(sip_stack)
    base = f"http://127.0.0.1:{settings.http_port}"
    now = datetime.now(UTC)
    seat = next(s.id for s in phone.acd.roster.seats if phone.acd.roster.is_on_shift(s, now))
    await browser_login(page, base, pool, "agent:1001", f"/agent?seat={seat}")
    await expect(page.locator("#live")).to_have_text("实时")
    await page.click("#btn-login")
    await expect(page.locator("#phone-state")).to_have_attribute("data-state", "registered", timeout=20000)
    await until(lambda: phone.agent("1001").state == "available", timeout=20, what="reachable through the browser")

    call = await phone.call(caller="13812345678", queue="general")
    await expect(page.locator("#phone-state")).to_have_attribute("data-state", "ringing", timeout=20000)
    await expect(page.locator("#phone-state")).to_contain_text("138****5678")
    await page.click("#phone-answer")
    await until(lambda: (c := phone.acd.calls.get(call)) is not None and c.state == "bridged", timeout=20,
                what="bridged")
    await expect(page.locator("#phone-state")).to_have_attribute("data-state", "talking")
    # the agent's voice is the browser's microphone: its words on the desk's agent transcript line
    words = set(request.node.heard.split())
    assert words, "Vosk hears the test sentence when fed directly"

    async def agent_words() -> set[str]:  # several of its words (one short particle could be chance)
        texts = await page.locator("#transcript .line.agent .text").all_inner_texts()
        common = words & set(" ".join(texts).split())
        return common if len(common) >= 3 else set()

    found = await until(agent_words, timeout=60, interval=0.5, what="the fake microphone's words on the agent line")
    print(f"heard directly: {request.node.heard!r}; on the desk: {found}")
    await page.click("#phone-hangup")
    await until(lambda: phone.agent("1001").state == "wrap_up", timeout=20, what="wrap-up")
