"""Wiring of call recording into the app: the recorder (the ACD tells it of every bridged call,
through `plugin.service`, as it tells live transcription), the settling of parts Asterisk
finished while nobody listened, the retention sweeper, playback routes and the call's page.

Off (`CALLCENTER_RECORDING_ENABLED=false`, or a line in `CALLCENTER_RECORDING_OFF_LINES`) a call is
not recorded and its line's IVR does not say it is (`Settings.records`, the one answer for both).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from callcenter.accounts.api import Audit
from callcenter.calls.api import CallTickets
from callcenter.context import Context
from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every
from callcenter.infra.web import Provided
from callcenter.recordings import http
from callcenter.recordings.model import SNOOP_ARG
from callcenter.recordings.recorder import Recorder
from callcenter.recordings.retention import Retention
from callcenter.recordings.storage import DirectoryStore
from callcenter.recordings.store import RecordingStore

log = get_logger("recordings")

SETTLE_EVERY_S = 5.0
RETENTION_EVERY_S = 3600.0


class RecordingsPlugin:
    name = "recordings"

    def __init__(self, *, tickets: CallTickets) -> None:
        self.tickets = tickets  # the tickets of given calls (legal hold; a department's access)
        self.service: Provided[Recorder] = Provided("recorder")
        self.playback: Provided[http.Playback] = Provided("recordings")
        self.retention: Provided[Retention] = Provided("recording retention")

    def counted(self, what: str) -> float:
        """A recorder counter for /metrics (0 while it is not running)."""
        rec = self.service.maybe()
        return float(getattr(rec, what)) if rec is not None else 0.0

    def metrics(self) -> dict[str, tuple[str, Callable[[], float]]]:
        return {"recording_failures": ("Recordings that could not be made or stored (logged; the call went on)",
                                       lambda: self.counted("failures")),
                "recordings_stored": ("Recorded call parts stored", lambda: self.counted("stored")),
                "recordings_started": ("Call parts Asterisk was asked to record", lambda: self.counted("started"))}

    def routes(self, app: web.Application) -> None:
        http.routes(app, self.playback)

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        s = ctx.settings
        store, files, audit = RecordingStore(ctx.pool), DirectoryStore(s.recordings_dir), Audit(ctx.pool)
        recorder = Recorder(ctx.ari, store, files, records=s.records, retention_days=s.recording_retention_days)
        retention = Retention(store, files, audit, self.tickets, days=s.recording_retention_days)
        ctx.router.register(SNOOP_ARG, recorder)  # the snoops' StasisStart (and RecordingFailed) come here

        async def settle() -> None:
            if ctx.lease.held.is_set():  # the active controller stores what Asterisk finished
                await recorder.settle()

        async def retain() -> None:
            if ctx.lease.held.is_set():  # one sweeper: the standby shares the store
                await retention.run_once()

        self.service.set(recorder)
        self.playback.set(http.Playback(store, files, audit, self.tickets))
        self.retention.set(retention)
        tasks = [asyncio.create_task(every(SETTLE_EVERY_S, settle, log=log, failed="recording_settle_failed",
                                           traceback=False), name="recordings-settle"),
                 asyncio.create_task(every(RETENTION_EVERY_S, retain, log=log,
                                           failed="recording_retention_failed", at_once=True),
                                     name="recordings-retention")]
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.service.set(None)
            self.playback.set(None)
            self.retention.set(None)
            await recorder.close()
