"""Live transcription on the sandbox Asterisk: the test bridges a Local-channel citizen and agent
that speak Korean (espeak-ng), taps both legs over ARI, and reads partials and finals per
speaker from the real receiver and Vosk."""

from __future__ import annotations

import asyncio

import pytest
from helpers import until
from transcription_support import (
    Recorder,
    TwoParty,
    decode_directly,
    model_dir,
    render_speech,
    tap_leftovers,
)

from callcenter.infra.ari import AriClient
from callcenter.infra.settings import Settings
from callcenter.transcription.model import LoadPolicy
from callcenter.transcription.publisher import OutboxPublisher, segments
from callcenter.transcription.recognizer import load_model
from callcenter.transcription.service import Config, TranscriptionService
from callcenter.transcription.text import word_overlap

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(240)]


@pytest.fixture
async def ari(settings, asterisk):
    client = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, settings.ari_app)
    await client.open()
    client.start_events()
    await asyncio.wait_for(client.connected.wait(), 10)
    yield client
    await client.close()


@pytest.fixture(scope="module")
def speech(asterisk):
    return render_speech(asterisk.root)


@pytest.fixture
async def service(ari, pool, tmp_path):
    rec = Recorder(OutboxPublisher(pool))
    # partials stay on whatever the shared machine's load (backpressure has its own tests)
    policy = LoadPolicy(partials_off_s=30, defer_s=40, citizen_defer_s=50)
    svc = TranscriptionService(Config(model_dir(), rtp_port=0, spool_dir=tmp_path / "spool", workers=2,
                                      policy=policy), ari, rec, pool=pool)
    await svc.start()
    ari.on_event(svc.on_event)
    svc.recorder = rec
    yield svc
    await svc.stop()


async def test_both_legs_transcribed_apart_partials_then_finals_stored(ari, service, speech, pool):
    rec: Recorder = service.recorder
    call = TwoParty(ari)
    await call.setup()
    try:
        assert await service.begin(call.call_id, call.citizen, call.agent)
        await call.say(call.citizen, "tr-ko-citizen")
        await call.say(call.agent, "tr-ko-agent")
        await until(lambda: rec.finals(call.call_id, "citizen") and rec.finals(call.call_id, "agent"),
                    timeout=60, what="finals of both legs")
        await until(lambda: service.backlog_s() < 0.2 and not any(
            runner.lane.mode for _, runner in service.calls[call.call_id].values()), timeout=60,
            what="both legs quiet")
    finally:
        await service.end(call.call_id)
        await call.teardown()
    mine = [u for u in rec.utterances if u.call_id == call.call_id]
    print(service.stats(), service.receiver.stats())
    first_final = next(i for i, u in enumerate(mine) if u.final and u.leg.value == "citizen")
    assert any(not u.final and u.leg.value == "citizen" for u in mine[:first_final]), "a partial before the final"
    assert {u.document()["speaker"] for u in mine} == {"市民", "坐席"}
    model = load_model(model_dir())
    overlaps = {}
    for leg, sound in (("citizen", "tr-ko-citizen"), ("agent", "tr-ko-agent")):
        direct = decode_directly(model, speech[sound])
        overlaps[leg] = word_overlap(direct, rec.text(call.call_id, leg))
        print(f"{leg}: direct={direct!r} pipeline={rec.text(call.call_id, leg)!r} overlap={overlaps[leg]:.2f}")
    # espeak Korean through a small model is fragile: the text moves with the phase of the 10 ms
    # feature frames against the audio and with Asterisk's timing when the machine is overloaded
    # (seen 0.89-1.00 on a quiet machine, down to 0.29 at load average 7 on 2 cores; the RTP itself
    # arrived complete). The floor here is loose; short particles (이, 다, 니다) are shared by both
    # sentences, so the other leg's sentence scores lower but not zero.
    cross = word_overlap(decode_directly(model, speech["tr-ko-agent"]), rec.text(call.call_id, "citizen"))
    print(f"overlap citizen={overlaps['citizen']:.2f} agent={overlaps['agent']:.2f} cross={cross:.2f}")
    assert min(overlaps.values()) >= 0.25 and sum(overlaps.values()) / 2 >= 0.4, overlaps
    assert cross < sum(overlaps.values()) / 2, (cross, overlaps)
    stored = await segments(pool, call.call_id)
    assert {s["leg"] for s in stored} == {"citizen", "agent"}
    assert all(s["status"] == "ok" and s["end_s"] > s["start_s"] for s in stored)
    assert any(s["words"] for s in stored)
    events = await pool.fetch("SELECT payload FROM outbox WHERE topic = $1", f"calls/{call.call_id}/transcript")
    kinds = {e["payload"]["type"] for e in events}
    assert {"status", "partial", "final"} <= kinds
    assert await tap_leftovers(ari) == []


async def test_hang_up_mid_utterance_flushes_a_final(ari, service, speech):
    rec: Recorder = service.recorder
    call = TwoParty(ari)
    await call.setup()
    try:
        await service.begin(call.call_id, call.citizen, call.agent)
        await call.say(call.citizen, "tr-ko-long")
        await until(lambda: any(not u.final and u.call_id == call.call_id for u in rec.utterances), timeout=60,
                    what="the citizen is mid-utterance")
        before = len(rec.finals(call.call_id, "citizen"))
        await call.hangup(f"{call.citizen}-m")  # the citizen hangs up while speaking
        # the snoop channel goes with the spied channel: its StasisEnd ends the taps, no ACD needed
        await until(lambda: call.call_id not in service.calls, timeout=30, what="taps ended by the hang-up")
        await until(lambda: len(rec.finals(call.call_id, "citizen")) > before, timeout=30, what="flushed final")
        last = rec.finals(call.call_id, "citizen")[-1]
        assert last.text and last.status == "ok"
    finally:
        await call.teardown()
    await until(lambda: _no_leftovers(ari), timeout=15, what="no tap left")


async def _no_leftovers(ari) -> bool:
    return await tap_leftovers(ari) == []


async def test_restart_mid_call_leaves_no_tap_behind_and_the_new_controller_taps_again(
        ari, service, speech, pool, tmp_path):
    call = TwoParty(ari)
    await call.setup()
    rec2 = Recorder()
    fresh = TranscriptionService(Config(model_dir(), rtp_port=0, spool_dir=tmp_path / "spool2", workers=2),
                                 ari, rec2)
    try:
        assert await service.begin(call.call_id, call.citizen, call.agent)
        await call.say(call.citizen, "tr-ko-long")
        old = await tap_leftovers(ari)
        assert len(old) == 6  # per leg: snoop, externalMedia, bridge
        # the controller dies: its taps stay in Asterisk, its streams and lanes are gone with it
        for _source, runner in service.calls.pop(call.call_id).values():
            runner.task.cancel()
        service.tap.taps.clear()
        service.receiver.streams.clear()
        # the new controller's leg audit says the call is still live: the old taps go, new ones come
        await fresh.start()
        removed = await fresh.audit([call.call_id])
        assert sorted(removed) == sorted(old)
        await until(lambda: _no_leftovers(ari), timeout=15, what="old taps removed")
        assert await fresh.begin(call.call_id, call.citizen, call.agent)
        await until(lambda: rec2.finals(call.call_id, "citizen"), timeout=60, what="text through the new taps")
        # the call ends: the audit with no live call leaves nothing behind
        await call.teardown()
        await fresh.audit([])
        assert fresh.calls == {} and fresh.receiver.streams == {}
        await until(lambda: _no_leftovers(ari), timeout=15, what="no tap left")
    finally:
        await fresh.stop()
        await call.teardown()


async def test_a_line_with_transcription_off_is_never_tapped(ari, service, speech):
    service.config.transcribes = Settings(env="test", transcription_off_lines=["12329"]).transcribes
    call = TwoParty(ari)
    await call.setup()
    try:
        assert await service.begin(call.call_id, call.citizen, call.agent, line="12329") is False
        assert await tap_leftovers(ari) == []
        assert service.recorder.statuses[-1] == (call.call_id, False, "transcription is off for line 12329")
    finally:
        await call.teardown()


async def test_wrong_model_path_means_unavailable_and_the_call_is_untouched(ari, pool, tmp_path, asterisk):
    rec = Recorder(OutboxPublisher(pool))
    svc = TranscriptionService(Config(tmp_path / "no-model", rtp_port=0, spool_dir=tmp_path / "s"), ari, rec)
    await svc.start()
    try:
        assert not svc.available and "no Vosk model" in svc.reason
        call = TwoParty(ari)
        await call.setup()
        try:
            assert await svc.begin(call.call_id, call.citizen, call.agent) is False
            bridge = await ari.get(f"/bridges/{call.bridge}")
            assert sorted(bridge["channels"]) == sorted([call.citizen, call.agent])
            assert await tap_leftovers(ari) == []
        finally:
            await call.teardown()
        row = await pool.fetchrow("SELECT payload FROM outbox WHERE topic = $1", f"calls/{call.call_id}/transcript")
        assert row["payload"]["type"] == "status" and row["payload"]["text"] == "转写不可用"
    finally:
        await svc.stop()
