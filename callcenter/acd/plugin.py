"""Wiring of the ACD into the app: service, Stasis handlers, ticker, leg audit, restart resync.

`self.service` provides the `AcdService` to the ACD's routes; `self.view` provides the same
service typed as the read-only `AcdView`, for the features that only read it (the board);
`self.audit` is the leg audit (tests run it on demand).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date

import asyncpg
from aiohttp import web

from callcenter.acd import http, moves
from callcenter.acd.features import SeatFeatures
from callcenter.acd.recovery import LegAudit, resync
from callcenter.acd.repository import AgentRepository
from callcenter.acd.seeding import seed_roster
from callcenter.acd.service import AcdService, Transcriber
from callcenter.acd.shifts import Roster
from callcenter.acd.stasis import AcdStasis
from callcenter.acd.supervise import KIND as SUPERVISE
from callcenter.acd.supervise import Supervision
from callcenter.acd.supervise import routes as supervise_routes
from callcenter.acd.taps import CallRecorder, CallTaps
from callcenter.acd.view import AcdView
from callcenter.context import Context
from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every
from callcenter.infra.web import Provided

log = get_logger("acd")


class AcdPlugin:
    name = "acd"

    def __init__(self, *, transcriber: Provided[Transcriber] | None = None,
                 recorder: Provided[CallRecorder] | None = None,
                 browser_phone: Callable[[str], str | None] = lambda _username: None) -> None:
        self.transcriber = transcriber
        self.recorder = recorder  # call recording follows the same bridged calls (callcenter/recordings)
        self.browser_phone = browser_phone  # a supervisor's browser phone (callcenter/browserphone)
        self.service: Provided[AcdService] = Provided("ACD")
        self.view: Provided[AcdView] = Provided("ACD")
        self.audit: Provided[LegAudit] = Provided("leg audit")
        self.supervision: Provided[Supervision] = Provided("supervision")  # listen/whisper/barge

    def journal_backlog(self) -> int:
        svc = self.service.maybe()
        return svc.journal.pending if svc is not None else 0

    def routes(self, app: web.Application) -> None:
        http.routes(app, self.service)
        supervise_routes(app, self.supervision)
        moves.routes(app, self.service)  # a supervisor moves a waiting call

    async def seed(self, conn: asyncpg.Connection, today: date) -> str:
        return await seed_roster(conn, Roster.default(), today)

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        roster = Roster.default()
        if ctx.settings.wrap_up_s is not None:
            roster = roster.model_copy(update={"agents": roster.agents.model_copy(
                update={"wrap_up_s": ctx.settings.wrap_up_s})})
        # switched off, transcription taps nothing and the desk is told so; recording and
        # transcription are told of the same bridged calls (acd/taps.py)
        taps = CallTaps([p.maybe for p in (self.transcriber, self.recorder) if p is not None])

        def transcriber() -> CallTaps:
            return taps

        def rating_on() -> bool:  # only while a feature takes `rating` legs (surveys)
            return ctx.settings.rating_enabled and "rating" in ctx.router.starters

        svc = AcdService(ctx.ari, ctx.records, AgentRepository(ctx.pool), ctx.live, roster,
                         ctx.settings.ari_app, ring_timeout_s=ctx.settings.ring_timeout_s,
                         order=ctx.router, transcriber=transcriber, rating_on=rating_on)
        stasis = AcdStasis(svc)
        svc.journal.start()
        for kind in ("inbound", "agent", "cbagent", "citizen"):
            ctx.router.register(kind, stasis)
        ctx.router.register("feature", SeatFeatures(svc))
        recorder = self.recorder.maybe if self.recorder is not None else lambda: None
        supervision = Supervision(svc, ctx.settings.seat_interface, recorder,  # a barge is recorded too
                                  browser_phone=self.browser_phone)
        ctx.router.register(SUPERVISE, supervision)
        self.supervision.set(supervision)
        ctx.ari.on_connect(lambda: resync(svc, stasis))
        audit = LegAudit(svc, stasis)
        self.service.set(svc)
        self.view.set(svc)
        self.audit.set(audit)
        ticker = asyncio.create_task(every(0.5, svc.tick, log=log, failed="acd_tick_failed"), name="acd-ticker")
        auditor = asyncio.create_task(audit.run(), name="acd-leg-audit")
        try:
            yield
        finally:
            ticker.cancel()
            auditor.cancel()
            await asyncio.gather(ticker, auditor, return_exceptions=True)
            self.service.set(None)
            self.view.set(None)
            self.audit.set(None)
            self.supervision.set(None)
            await supervision.close()
            await svc.close()
            await ctx.router.drain()
            await svc.journal.stop()
