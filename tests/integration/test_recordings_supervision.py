"""A supervisor who barges into a call or whispers to the agent is in the call's recording (issue
21): the supervisor's phone is recorded by Asterisk and mixed into the hall's (right) channel at
its time; the caller's channel stays the caller's. A listening supervisor says nothing into the
call and adds nothing. Real sandbox calls: the caller, the agent and the supervisor are simulated
lines with a tone each as their voice."""

from __future__ import annotations

import asyncio

import pytest
from accounts_support import Sessions
from acd_support import Phone
from helpers import until
from recording_support import RATE, channel_samples, copy_dropped, start_stack, stored, tone_level

from callcenter.app import PLUGINS

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(120)]

CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 1000, 440, 1800


@pytest.fixture
async def recording_app(settings, database, asterisk, pool, live, tmp_path):
    app, runner = await start_stack(settings, recordings_dir=tmp_path / "recordings")
    yield app
    await runner.cleanup()


def _level(samples, hz: float, start_s: float, end_s: float) -> float:
    start, end = int(start_s * RATE), int(end_s * RATE)
    return tone_level(samples, hz, start, max(0, min(end, len(samples)) - start))


@pytest.mark.parametrize("mode", ["barge", "whisper"])
async def test_a_supervisor_speaking_into_a_call_is_in_its_recording(recording_app, settings, pool, tmp_path, mode):
    phone = Phone(recording_app)
    await phone.login("1001", "seat01")
    await phone.agent_mode("seat01", tone=str(AGENT_HZ))
    await phone.agent_mode("seat20", tone=str(SUPERVISOR_HZ))  # the supervisor's own seat phone
    call = await phone.call(tone=str(CALLER_HZ), wait_before=0.2)
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    recorder = recording_app[PLUGINS].recordings.service.get()
    await until(lambda: call in recorder.parts, what="recording started")
    await asyncio.sleep(2.5)  # agent and caller alone
    sessions = Sessions(pool, f"http://127.0.0.1:{settings.http_port}")
    async with await sessions.client("supervisor:li") as sup:
        async with sup.post(f"/api/calls/{call}/supervise", json={"mode": mode, "seat": "seat20"}) as r:
            assert r.status == 201, await r.text()
            sid = (await r.json())["sid"]
        await until(lambda: recorder.parts[call].voices, what="the supervisor's voice recorded")
        await asyncio.sleep(3)  # the supervisor talks
        async with sup.delete(f"/api/supervisions/{sid}") as r:
            assert r.status == 204
    await asyncio.sleep(2.5)  # agent and caller alone again
    await phone.hangup(call)
    row, = await stored(pool, call)
    assert row["state"] == "stored", row["reason"]
    voice, = row["voices"]
    assert (voice["mode"], voice["by"], voice["seat"]) == (mode, "supervisor:li", "seat20")
    assert voice["name"] == f"rec-sv{sid}-1-{call}"
    at = voice["offset_s"]
    assert 2.0 < at < row["duration_s"] - 4
    path = tmp_path / "recordings" / row["storage_key"]
    caller, hall = channel_samples(path, 1), channel_samples(path, 2)
    # the hall's channel: the agent throughout, the supervisor only while supervising
    assert _level(hall, AGENT_HZ, 0.5, at - 0.5) > 1000 and _level(hall, AGENT_HZ, at + 3.5, at + 5) > 1000
    assert _level(hall, SUPERVISOR_HZ, at + 0.5, at + 2.5) > 1000, "the supervisor is on the hall's channel"
    assert _level(hall, SUPERVISOR_HZ, 0.2, at - 0.5) < 100, "no supervisor before the supervision"
    assert _level(hall, SUPERVISOR_HZ, at + 4, row["duration_s"] - 0.3) < 100, "none after it"
    # the caller's channel stays what the caller said
    assert _level(caller, CALLER_HZ, 0.5, row["duration_s"] - 0.5) > 1000
    assert _level(caller, SUPERVISOR_HZ, 0.2, row["duration_s"] - 0.2) < 100
    assert _level(caller, AGENT_HZ, 0.2, row["duration_s"] - 0.2) < 100
    # Asterisk's copy of the voice goes with the parties' once stored
    await copy_dropped(phone.ari, voice["name"])


async def test_a_listening_supervisor_adds_nothing_to_the_recording(recording_app, settings, pool, tmp_path):
    phone = Phone(recording_app)
    await phone.login("1002", "seat02")
    await phone.agent_mode("seat02", tone=str(AGENT_HZ))
    await phone.agent_mode("seat20", tone=str(SUPERVISOR_HZ))
    call = await phone.call(tone=str(CALLER_HZ), wait_before=0.2)
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    recorder = recording_app[PLUGINS].recordings.service.get()
    await until(lambda: call in recorder.parts, what="recording started")
    sv = recording_app[PLUGINS].acd.supervision.get()
    w = await sv.start(call, "listen", "seat20", "li")
    await until(lambda: w.connected, what="the supervisor's phone in")
    await asyncio.sleep(2)
    await phone.hangup(call)
    row, = await stored(pool, call)
    assert row["state"] == "stored" and row["voices"] == []
    hall = channel_samples(tmp_path / "recordings" / row["storage_key"], 2)
    assert tone_level(hall, SUPERVISOR_HZ) < 100 and tone_level(hall, AGENT_HZ) > 1000
