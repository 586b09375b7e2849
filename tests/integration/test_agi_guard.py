"""Issue 25 item 2: only Asterisk speaks FastAGI, and idle connections cannot switch the IVR off.
Against the running stack and the real sandbox Asterisk."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from helpers import until
from ivr_support import Landing, dial, inputs, path_row

from callcenter.app import PLUGINS, STATE

pytestmark = pytest.mark.asterisk
FORGED = ("agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1/ivr\n"
          "agi_channel: PJSIP/forged-00000001\nagi_uniqueid: forged-1\nagi_callerid: 13912345678\n"
          "agi_arg_1: 12345\n\n")


@pytest.fixture
async def landing(stack) -> Landing:
    feature = Landing(stack[STATE]["ari"])
    stack[STATE]["router"].register("inbound", feature)
    return feature


async def test_a_forged_agi_header_without_the_secret_gets_nothing(stack, settings, pool):
    server = stack[PLUGINS].ivr.server.get()
    for forged in (FORGED, FORGED.replace("agi_arg_1: 12345\n", "agi_arg_1: 12345\nagi_arg_2: guessed\n")):
        reader, writer = await asyncio.open_connection("127.0.0.1", settings.agi_port)
        writer.write(forged.encode())
        await writer.drain()
        assert await asyncio.wait_for(reader.read(64), 10) == b""  # closed without a word: no ANSWER
        writer.close()
    await until(lambda: server.refused == 2, what="both forged sessions refused")
    assert server.active == 0
    assert await pool.fetchval("SELECT count(*) FROM ivr_paths WHERE call_id = 'forged-1'") == 0
    assert await pool.fetchval("SELECT count(*) FROM calls WHERE call_id = 'forged-1'") == 0


async def test_a_hundred_idle_connections_do_not_stop_a_caller_hearing_the_menu(stack, settings, landing, pool):
    idle = [await asyncio.open_connection("127.0.0.1", settings.agi_port) for _ in range(100)]
    try:
        idle[0][1].write(b"agi_network: yes\n")  # half a header, then silence
        await idle[0][1].drain()
        call = await dial(stack, "12345", dtmf="2ww1")  # the specialist menu, then market
        await until(lambda: call in landing.calls, timeout=60, what="the call in Stasis")
        got = landing.calls[call]
        assert (got["IVR_OUTCOME"], got["IVR_QUEUE"]) == ("queue", "market")  # the IVR ran: it heard the menu
        assert ("greeting", "2") in inputs(await path_row(pool, call))
    finally:
        for _, writer in idle:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
