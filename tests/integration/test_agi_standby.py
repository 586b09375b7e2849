"""The dialplan reaches the standby controller's IVR when the first FastAGI address is dead.

A second Asterisk instance whose AGI_URL points at a port where nothing listens and whose
AGI_URL2 (CALLCENTER_AGI_STANDBY_PORT) is the running controller's FastAGI IVR: a citizen who
presses 0 still goes through the IVR and arrives in Stasis with the IVR's queue choice.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket

import pytest
from helpers import free_port, until

from callcenter.infra.ari import TRUNK_FORMATS, AriClient, AriEvent
from callcenter.infra.settings import Settings
from callcenter.stack import roster_seat_ids

pytestmark = pytest.mark.asterisk


async def test_ivr_on_the_standby_port_when_the_first_is_dead(stack, settings: Settings):
    from callcenter.infra.sandbox import AsteriskInstance, build_root

    root = build_root(settings.asterisk_cache, echo=lambda *_: None)
    s = settings.model_copy(update=dict(
        ari_url=f"http://127.0.0.1:{free_port()}", ari_app=f"agi2-{os.getpid()}",
        sip_port=free_port(socket.SOCK_DGRAM), asterisk_instance=f"test-agi2-{os.getpid()}",
        agi_port=free_port(), agi_standby_port=settings.agi_port, webrtc_port=0))
    inst = AsteriskInstance(s, root, tuple(roster_seat_ids()))
    await asyncio.to_thread(inst.start)
    seen: list[AriEvent] = []
    try:
        async with AriClient(s.ari_url, s.ari_user, s.ari_password, s.ari_app) as ari:
            async def collect(ev: AriEvent) -> None:
                seen.append(ev)

            ari.on_event(collect)
            ari.start_events()
            await asyncio.wait_for(ari.connected.wait(), 10)
            await ari.post("/channels", endpoint="Local/12345@from-trunk", context="citizen-sim", extension="s",
                           priority=1, formats=TRUNK_FORMATS, callerId="13800000001",
                           body={"variables": {"DTMF": "0", "WAIT_BEFORE": "1", "HOLD_FOR": "30"}})

            def inbound():
                return next((e for e in seen if e.type == "StasisStart" and e.args[:1] == ["inbound"]), None)

            ev = await until(inbound, timeout=30, what="the call through the standby IVR into Stasis")
            assert ev.channel["channelvars"]["IVR_QUEUE"] == "general"
            await ari.safe(ari.delete(f"/channels/{ev.channel_id}"))
            ari.stop_events()
    finally:
        await asyncio.to_thread(inst.stop)
        shutil.rmtree(inst.host_dir, ignore_errors=True)
