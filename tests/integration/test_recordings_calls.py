"""Recording by Asterisk on real sandbox calls (issue 21): a bridged call gives one stereo file
whose caller channel carries what the caller said and whose agent channel what the agent said
(a real softphone with a WAV microphone as the agent); a line that does not record is not
recorded; a kill -9 of the controller during a recorded call loses none of it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from acd_support import Phone
from helpers import free_port, until
from recording_support import (
    called_back_through_an_agent,
    channel_samples,
    copy_dropped,
    start_stack,
    stored,
    tone_level,
    windows_with_tone,
)
from softphone import Baresip

from callcenter.app import PLUGINS
from callcenter.infra.asterisk_conf import seat_password

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(180)]

CALLER_HZ, AGENT_HZ = 1000, 440  # the citizen simulator's tone, the softphone's WAV (tests/softphone.py)


@pytest.fixture
async def recording_app(settings, database, asterisk, pool, live, tmp_path):
    app, runner = await start_stack(settings, recordings_dir=tmp_path / "recordings",
                                    recording_off_lines=["12329"])
    yield app
    await runner.cleanup()


async def test_a_bridged_call_is_recorded_with_each_party_on_its_own_channel(recording_app, pool, settings, tmp_path):
    sp = Baresip("seat05", seat_password(settings.sip_secret, "seat05"), settings.sip_port)
    sp.start()
    try:
        phone = Phone(recording_app)
        await until(lambda: phone.acd.endpoint_online("seat05"), timeout=15, what="seat05 registered")
        await phone.acd.login("1005", "seat05", override_by="pytest")
        call = await phone.call(tone=str(CALLER_HZ), wait_before=0.2)
        await until(lambda: phone.acd.calls[call].state == "bridged", timeout=20,
                    what=f"softphone answered ({sp.output()[-800:]})")
        recorder = recording_app[PLUGINS].recordings.service.get()
        await until(lambda: call in recorder.parts, what="recording started")
        await asyncio.sleep(4)  # they talk
        await phone.hangup(call)
        row, = await stored(pool, call)
    finally:
        sp.kill()
    assert row["state"] == "stored", row["reason"]
    assert row["seat_id"] == "seat05" and row["agent_id"] == "1005"
    assert row["format"] == "ogg" and row["storage"] == "dir" and len(row["sha256"]) == 64
    assert row["duration_s"] >= 3.5
    path = tmp_path / "recordings" / row["storage_key"]
    assert path.stat().st_size == row["bytes"]
    caller, agent = channel_samples(path, 1), channel_samples(path, 2)
    assert tone_level(agent, AGENT_HZ) > 1000, "the agent's channel carries the softphone's microphone"
    assert tone_level(agent, CALLER_HZ) < tone_level(agent, AGENT_HZ) / 20
    assert tone_level(caller, CALLER_HZ) > 1000, "the caller's channel carries the caller"
    assert tone_level(caller, AGENT_HZ) < tone_level(caller, CALLER_HZ) / 20, "no agent on the caller's channel"
    # Asterisk's own copies are gone once stored
    for leg in ("caller", "agent"):
        await copy_dropped(phone.ari, f"rec-{leg}-1-{call}")


async def test_a_line_that_does_not_record_is_not_recorded_nor_told_so(recording_app, pool):
    # one setting decides both: the IVR's notice (the `recording` variable its greeting says) and the recorder
    ivr = recording_app[PLUGINS].ivr.service.get()
    env = {"agi_uniqueid": "u-notice", "agi_callerid": "13800000000"}
    assert (await ivr.prepare(env | {"agi_arg_1": "12345"})).context.vars.get("recording") == "on"
    assert "recording" not in (await ivr.prepare(env | {"agi_arg_1": "12329"})).context.vars
    phone = Phone(recording_app)
    await phone.login("1001", "seat01")
    call = await phone.call(dnis="12329")  # a line in recording_off_lines
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    await asyncio.sleep(1)
    channels = await phone.ari.get("/channels")
    assert not [c for c in channels if c["id"].startswith("rec-")]
    await phone.hangup(call)
    await until(lambda: call not in phone.acd.calls, what="ended")
    assert await pool.fetchval("SELECT count(*) FROM recordings WHERE call_id=$1", call) == 0


WORKER = Path(__file__).parents[1] / "recording_crash_worker.py"


async def _said(proc, timeout: float) -> str:
    """The worker's next word on stdout (its log lines go there too)."""
    async def word() -> str:
        while line := (await proc.stdout.readline()).decode():
            if line.strip() == "ready" or line.startswith("{"):
                return line.strip()
        raise AssertionError("the worker ended")

    return await asyncio.wait_for(word(), timeout)


async def test_kill_9_of_the_controller_during_a_recorded_call_loses_none_of_it(settings, database, asterisk,
                                                                                  pool, live, tmp_path):
    """A controller process records a call and is killed (SIGKILL); the standby takes over, finds
    the recording in progress, and when the caller hangs up the whole call is in one file."""
    s = settings.model_copy(update={"recording_enabled": True, "recordings_dir": tmp_path / "recordings"})
    conf = tmp_path / "settings.json"
    conf.write_text(s.model_dump_json())
    proc = await asyncio.create_subprocess_exec(sys.executable, str(WORKER), str(conf), "1002", "seat02",
                                                str(AGENT_HZ), stdout=asyncio.subprocess.PIPE, env=os.environ.copy())
    standby = runner = None
    try:
        assert await _said(proc, 40) == "ready"
        call = json.loads(await _said(proc, 40))["call"]
        began = time.monotonic()
        await until(lambda: pool.fetchval("SELECT state FROM recordings WHERE call_id=$1", call),
                    what="the doomed controller's recording row")
        await asyncio.sleep(3)
        os.kill(proc.pid, signal.SIGKILL)  # kill -9 mid-call: nothing released, nothing said
        await proc.wait()
        standby, runner = await start_stack(s, http_port=free_port(), agi_port=free_port())
        acd = standby[PLUGINS].acd.service.get()
        recorder = standby[PLUGINS].recordings.service.get()
        await until(lambda: call in acd.calls and acd.calls[call].state == "bridged", timeout=30,
                    what="the standby restored the bridged call")
        await until(lambda: call in recorder.parts, timeout=15, what="the standby registered the recording")
        await asyncio.sleep(3)  # talking on after the takeover
        talked = time.monotonic() - began
        await acd.ari.delete(f"/channels/{call}")  # the caller hangs up
        row, = await stored(pool, call)
    finally:
        if proc.returncode is None:
            proc.kill()
        if runner is not None:
            await runner.cleanup()
    assert row["state"] == "stored", row["reason"]
    assert row["duration_s"] >= talked - 1.5, (row["duration_s"], talked)
    agent = channel_samples(tmp_path / "recordings" / row["storage_key"], 2)
    toned = windows_with_tone(agent, AGENT_HZ)
    assert len(toned) >= int((talked - 1.5) * 2)
    assert all(toned[1:-1]), f"a gap in the agent's audio: {toned}"


async def test_a_full_disk_fails_the_recording_not_the_call_and_shows_on_the_board_and_metrics(
        settings, database, asterisk, pool, live, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("the recordings directory cannot be made under a file, as on a full or broken disk")
    app, runner = await start_stack(settings, recordings_dir=blocked / "recordings")
    try:
        phone = Phone(app)
        await phone.login("1003", "seat03")
        call = await phone.call()
        await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
        recorder = app[PLUGINS].recordings.service.get()
        await until(lambda: call in recorder.parts, what="recording")
        await asyncio.sleep(1)
        assert phone.acd.calls[call].state == "bridged"  # recording never touches the call
        await phone.hangup(call)
        row, = await stored(pool, call)
        assert row["state"] == "failed" and "cannot store" in row["reason"]
        assert recorder.failures == 1
        await until(lambda: phone.agent("1003").state.value in ("wrap_up", "available"), what="the agent freed")
        # nothing lost: Asterisk keeps its two files for a later retry by hand
        for leg in ("caller", "agent"):
            assert await phone.ari.get(f"/recordings/stored/rec-{leg}-1-{call}")
        board = await app[PLUGINS].board.hub.get().snapshots.board()
        assert board["recording"]["failures"] == 1 and board["recording"]["recent_failures"][0]["call_id"] == call
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{settings.http_port}/metrics") as r:
            text = await r.text()
        assert "callcenter_recording_failures_total 1.0" in text
        # the disk is mended: the part's storing is tried again (here made due at once) and stored
        blocked.unlink()
        blocked.mkdir()
        await pool.execute("UPDATE recordings SET started_at = started_at - interval '1 minute',"
                           " claimed_at = claimed_at - interval '1 hour' WHERE call_id = $1", call)
        assert await recorder.settle() == 1
        row, = await stored(pool, call)
        assert row["state"] == "stored" and (blocked / "recordings" / row["storage_key"]).exists()
    finally:
        await runner.cleanup()


async def test_a_missed_call_callback_through_an_agent_is_recorded(recording_app, pool):
    attempt = await called_back_through_an_agent(recording_app, pool, "13900000041")
    row, = await stored(pool, attempt["channel_id"])
    assert row["state"] == "stored", row["reason"]
    assert row["seat_id"] == "seat04" and row["duration_s"] > 1  # the hall's own line calls back: recorded
