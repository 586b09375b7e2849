"""A standby controller takes over through the Redis lease, never by racing for the Stasis app;
with no controller at all, the dialplan falls back to app_queue rather than dead air."""

from __future__ import annotations

import asyncio
import uuid

from acd_support import Phone
from aiohttp import web
from helpers import free_port, until

from callcenter.app import STATE, build_app
from callcenter.infra.ari import AriClient


async def _start(settings):
    app = build_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.http_port).start()
    return app, runner


async def test_standby_takes_over_when_the_active_controller_stops(settings, database, asterisk, pool, live):
    active_app, active = await _start(settings)
    standby_app, standby = await _start(settings.model_copy(update={"http_port": free_port(),
                                                                    "agi_port": free_port()}))
    try:
        await asyncio.wait_for(active_app[STATE]["ari"].connected.wait(), 10)
        phone = Phone(active_app)
        await phone.login("1001", "seat01")
        call = await phone.call()
        await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged on the active one")
        await phone.acd.journal.flush()
        # the standby holds no WebSocket while the active one renews its lease
        assert not standby_app[STATE]["ari"].connected.is_set()
        assert not standby_app[STATE]["ctx"].lease.held.is_set()
        await active.cleanup()
        active = None
        await asyncio.wait_for(standby_app[STATE]["ari"].connected.wait(), 10)
        taken = Phone(standby_app)
        await until(lambda: call in taken.acd.calls, what="call tracked by the standby")
        assert taken.acd.calls[call].state == "bridged"
        await taken.hangup(call)
        await until(lambda: call not in taken.acd.calls, what="call ended under the new controller")
    finally:
        if active is not None:
            await active.cleanup()
        await standby.cleanup()


async def test_no_controller_falls_back_to_app_queue(settings, database, asterisk):
    """Stasis fails when no WebSocket holds the app: the caller lands in the plain queue."""
    observer = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, "fallback-observer")
    await observer.open()
    try:
        leg = f"fb-{uuid.uuid4().hex[:8]}"
        await observer.post("/channels", endpoint="Local/12345@from-trunk/n", context="citizen-sim",
                            extension="s", priority=1, otherChannelId=leg, channelId=f"x-{leg}", formats="alaw",
                            body={"variables": {"HOLD_FOR": "30"}})

        async def in_queue():
            ch = await observer.safe(observer.get(f"/channels/{leg}"))
            return ch and ch["dialplan"]["context"] == "fallback" and ch["dialplan"]["app_name"] == "Queue"

        await until(in_queue, timeout=30, what="caller in the app_queue fallback")
        await observer.safe(observer.delete(f"/channels/{leg}"))
    finally:
        await observer.close()
