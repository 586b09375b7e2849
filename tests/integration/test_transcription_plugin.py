"""The plugin in an aiohttp app: the `Plugin` shape, its routes, and a wrong model path making
transcription unavailable while the app runs on."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from helpers import free_port

from callcenter.calls.records import CallRecords
from callcenter.calls.stasis import StasisRouter
from callcenter.context import Context, Plugin
from callcenter.infra.ari import AriClient
from callcenter.infra.lease import ControllerLease
from callcenter.infra.mqtt import OutboxRelay
from callcenter.infra.web import http_errors
from callcenter.tickets.api import tickets_of_calls
from callcenter.transcription.plugin import TranscriptionPlugin
from callcenter.transcription.tap import SNOOP_ARG


async def test_wrong_model_path_makes_transcription_unavailable_and_the_app_runs(settings, pool, live, tmp_path):
    s = settings.model_copy(update={"vosk_model": tmp_path / "missing", "transcription_rtp_port": 0,
                                    "transcription_enabled": True, "recording_enabled": True,
                                    "transcription_off_lines": ["12329"],
                                    "transcription_spool_dir": tmp_path / "spool"})
    ari = AriClient(s.ari_url, s.ari_user, s.ari_password, s.ari_app)
    router = StasisRouter()
    ctx = Context(s, pool, live, OutboxRelay(pool, s.mqtt_host, s.mqtt_port, s.mqtt_prefix), ari,
                  CallRecords(pool), router, ControllerLease(live, "test"))
    plugin: Plugin = TranscriptionPlugin(tickets=tickets_of_calls)
    app = web.Application(middlewares=[http_errors])
    plugin.routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gen = plugin.start(ctx)
    await gen.__anext__()
    try:
        assert router.starters[SNOOP_ARG] is plugin.service.get()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/api/transcription") as r:
                body = await r.json()
                assert r.status == 200 and body["available"] is False and "no Vosk model" in body["reason"]
            async with http.get(f"http://127.0.0.1:{port}/api/calls/c-1/transcript") as r:
                assert r.status == 401  # whose call it is decides (test_transcription_access.py)
        svc = plugin.service.get()
        svc.call_bridged("c-1", "chan-a", "chan-b")  # returns at once, taps nothing
        await svc.stop_tasks()
        assert not svc.config.transcribes("12329") and svc.config.transcribes("12345")
        row = await pool.fetchrow("SELECT payload FROM outbox WHERE topic = 'calls/c-1/transcript'")
        assert row["payload"]["text"] == "转写不可用" and row["payload"]["available"] is False
    finally:
        try:
            await gen.__anext__()
        except StopAsyncIteration:
            pass
        await runner.cleanup()
    assert not plugin.service.ready


async def test_retention_sweeper_deletes_old_segments_only(pool):
    from callcenter.transcription.publisher import sweep

    await pool.execute(
        "INSERT INTO transcript_segments(call_id, leg, seq, start_s, end_s, text, created_at) VALUES"
        " ('c-old', 'citizen', 1, 0, 1, 'old', now() - interval '200 days'),"
        " ('c-new', 'citizen', 1, 0, 1, 'new', now() - interval '10 days')")
    assert await sweep(pool, 180) == 1
    assert [r["call_id"] for r in await pool.fetch("SELECT call_id FROM transcript_segments")] == ["c-new"]


async def test_ticket_texts_prefill_from_the_citizen_and_the_whole_dialogue(pool):
    from callcenter.transcription.publisher import ticket_texts

    await pool.execute(
        "INSERT INTO transcript_segments(call_id, leg, seq, start_s, end_s, text, status) VALUES"
        " ('c-7', 'citizen', 1, 0.5, 3, '路上有个大坑', 'ok'), ('c-7', 'agent', 1, 3.5, 5, '好的 请说地址', 'ok'),"
        " ('c-7', 'citizen', 2, 6, 8, '', '未转写')")
    description, transcript = await ticket_texts(pool, "c-7")
    assert description == "路上有个大坑"
    assert transcript == "市民：路上有个大坑\n坐席：好的 请说地址\n市民：（未转写）"
