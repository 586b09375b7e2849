"""Wiring of the ACD into the app: service, Stasis handlers, ticker, restart resync."""

from __future__ import annotations

import asyncio

from aiohttp import web

from callcenter.acd import http
from callcenter.acd.callbacks import CallbackDialer
from callcenter.acd.features import SeatFeatures
from callcenter.acd.recovery import LegAudit, resync
from callcenter.acd.repository import AgentRepository
from callcenter.acd.service import AcdService
from callcenter.acd.shifts import Roster
from callcenter.acd.stasis import AcdStasis


def routes(app: web.Application) -> None:
    http.routes(app)


async def start(ctx):
    roster = Roster.default()
    if ctx.settings.wrap_up_s is not None:
        roster = roster.model_copy(update={"agents": roster.agents.model_copy(
            update={"wrap_up_s": ctx.settings.wrap_up_s})})
    svc = AcdService(ctx.ari, ctx.records, AgentRepository(ctx.pool), ctx.live, roster,
                     ctx.settings.ari_app, ring_timeout_s=ctx.settings.ring_timeout_s)
    stasis = AcdStasis(svc)
    dialer = CallbackDialer(svc, stasis)
    stasis.callbacks = dialer
    svc.journal.start()
    ctx.router.register("inbound", stasis)
    ctx.router.register("agent", stasis)
    ctx.router.register("cbagent", stasis)
    ctx.router.register("citizen", stasis)
    ctx.router.register("feature", SeatFeatures(svc))
    ctx.router.keyer = lambda channel: svc.legs.get(channel, (channel, ""))[0]
    svc.in_order = ctx.router.in_order
    ctx.ari.on_connect(lambda: resync(svc, stasis))
    ctx.services["acd"] = svc
    ctx.services["acd_stasis"] = stasis
    ticker = asyncio.create_task(dialer.run(), name="acd-ticker")
    audit = LegAudit(svc, stasis)
    ctx.services["acd_audit"] = audit
    auditor = asyncio.create_task(audit.run(), name="acd-leg-audit")
    try:
        yield
    finally:
        ticker.cancel()
        auditor.cancel()
        await asyncio.gather(ticker, auditor, return_exceptions=True)
        await svc.close()
        await ctx.router.drain()
        await svc.journal.stop()
