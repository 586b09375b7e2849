"""Callback offers that keep the caller's place, and a controller restart with calls waiting
and bridged: none lost, waiting callers keep their order."""

from __future__ import annotations

import asyncio

import pytest
from acd_support import Phone
from aiohttp import web
from helpers import until

from callcenter.acd.agents import AgentState
from callcenter.acd.policy import QueueDef
from callcenter.app import STATE, build_app


def short_wait(roster, max_wait_s: float = 1.0):
    queues = [QueueDef(**{**q.model_dump(), "max_wait_s": max_wait_s, "announce_every_s": None})
              if q.name == "general" else q for q in roster.queues]
    return roster.model_copy(update={"queues": queues})


async def test_callback_keeps_place_and_calls_agent_then_citizen(stack, pool):
    phone = Phone(stack)
    phone.acd.roster = short_wait(phone.acd.roster)
    call = await phone.call(dtmf="1", wait_before=4, caller="13912345678")
    # the offer plays after max_wait_s; the citizen presses 1 and the controller hangs up
    await until(lambda: phone.acd.calls[call].state == "callback_wait", timeout=15, what="callback accepted")
    await until(lambda: phone.acd.book.get(call) is not None and phone.acd.book.get(call).callback,
                what="still in the book as a callback")
    later = await phone.call(hold_for=60)
    assert phone.acd.book.position_of(call) == 1 and phone.acd.book.position_of(later) == 2
    await phone.login("1001", "seat01")
    # agent first, then the citizen (the PSTN simulator answers, plays, hangs up)
    await until(lambda: call in phone.acd.calls and phone.acd.calls[call].state == "bridged", timeout=20,
                what="callback bridged")
    assert phone.acd.calls[call].agent_id == "1001"
    await until(lambda: call not in phone.acd.calls, timeout=20, what="callback finished")
    await phone.acd.journal.flush()
    r = await pool.fetchrow("SELECT * FROM calls WHERE call_id=$1", call)
    assert r["callback_state"] == "connected" and r["disposition"] == "answered"
    legs = await pool.fetch("SELECT kind FROM call_legs WHERE call_id=$1 ORDER BY id", call)
    assert [x["kind"] for x in legs][:1] == ["agent"]
    await phone.hangup(later)


@pytest.fixture
async def restartable(settings, database, asterisk, pool, live):
    runners: list[web.AppRunner] = []

    async def start() -> web.Application:
        app = build_app(settings)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", settings.http_port).start()
        await asyncio.wait_for(app[STATE]["ari"].connected.wait(), 10)
        runners.append(runner)
        return app

    async def stop() -> None:
        await runners.pop().cleanup()

    yield start, stop
    for r in runners:
        await r.cleanup()


async def test_controller_restart_keeps_bridged_and_waiting_calls(restartable, pool):
    start, stop = restartable
    phone = Phone(await start())
    await phone.login("1001", "seat01")
    bridged = await phone.call()
    await until(lambda: phone.acd.calls[bridged].state == "bridged", what="bridged")
    first = await phone.call(caller="13800000011")
    second = await phone.call(caller="13800000012")
    await phone.acd.journal.flush()
    await stop()

    phone = Phone(await start())  # a new controller: empty memory, state from PostgreSQL + ARI
    await until(lambda: bridged in phone.acd.calls, what="bridged call tracked again")
    assert phone.acd.calls[bridged].state == "bridged"
    assert phone.agent("1001").state is AgentState.ON_CALL
    assert [c.call_id for c in phone.acd.book.ordered_all()] == [first, second]
    await phone.login("1002", "seat02")
    await until(lambda: phone.acd.calls[first].state == "bridged", what="first waiting caller served first")
    assert phone.acd.calls[second].state == "queued"
    await phone.hangup(bridged)
    await until(lambda: phone.agent("1001").state is AgentState.WRAP_UP, what="agent wrap-up after restart")
    await phone.acd.journal.flush()
    r = await pool.fetchrow("SELECT disposition FROM calls WHERE call_id=$1", bridged)
    assert r["disposition"] == "answered"
    for c in (first, second):
        await phone.hangup(c)


async def test_waiting_caller_hears_position_then_expected_wait(stack):
    phone = Phone(stack)
    queues = [QueueDef(**{**q.model_dump(), "max_wait_s": None, "announce_every_s": 1})
              if q.name == "general" else q for q in phone.acd.roster.queues]
    phone.acd.roster = phone.acd.roster.model_copy(update={"queues": queues})
    phone.acd.handle_times.extend([90.0, 90.0])  # recent calls took 1.5 minutes each
    await phone.login("1001", "seat01")  # one agent, busy with the first caller
    first = await phone.call(hold_for=60)
    await until(lambda: phone.acd.calls[first].state == "bridged", what="first caller with the agent")
    second, third = await phone.call(hold_for=60), await phone.call(hold_for=60)
    ari = stack[STATE]["ari"]

    async def heard() -> dict | None:
        pb = phone.acd.calls[third].playback_id
        return await ari.safe(ari.get(f"/playbacks/{pb}")) if pb else None

    playback = await until(heard, timeout=10, what="announcement to the third caller")
    # one caller ahead; 2 in line x 90 s / 1 agent = 3 minutes
    assert playback["media_uri"] == "sound:callcenter/queue_position_1"
    assert playback["next_media_uri"] == "sound:callcenter/wait_minutes_3"
    for c in (first, second, third):
        await phone.hangup(c)
