"""A takeover with things happening in the gap (issue 10, defects 2, 3, 4, 10), on the sandbox
Asterisk with two controllers: the active one stops renewing its lease and listening (as if
killed: nothing released, nothing said), callers and agents hang up while no controller
listens, and the standby takes over."""

from __future__ import annotations

import asyncio

from acd_support import Phone
from aiohttp import web
from helpers import free_port, until

from callcenter.acd.agents import AgentState
from callcenter.app import STATE, build_app


async def _start(settings):
    app = build_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.http_port).start()
    return app, runner


def _die(app) -> None:
    """As kill -9 would, for what the others can see: the lease is no longer renewed (nor
    released) and the events WebSocket is gone."""
    ctx = app[STATE]["ctx"]
    ctx.lease._task.cancel()
    ctx.ari.stop_events()


async def _talking(ari, bridge: str) -> bool:
    b = await ari.safe(ari.get(f"/bridges/{bridge}"))
    return bool(b) and len(b.get("channels") or []) == 2


async def test_takeover_with_hang_ups_in_the_gap(settings, database, asterisk, pool, live):
    active_app, active = await _start(settings)
    standby_app, standby = await _start(settings.model_copy(update={"http_port": free_port(), "agi_port": free_port()}))
    try:
        await asyncio.wait_for(active_app[STATE]["ari"].connected.wait(), 15)
        phone = Phone(active_app)
        acd, ari = phone.acd, phone.ari
        calls = {}
        for agent_id, seat, who in (("1001", "seat01", "caller_leaves"), ("1002", "seat02", "agent_leaves")):
            await phone.login(agent_id, seat)
            calls[who] = await phone.call(caller=f"1380000{agent_id}")
            await until(lambda c=calls[who]: acd.calls[c].state == "bridged", what=f"{who} bridged")
            await until(lambda c=calls[who]: _talking(ari, f"{c}-b"), what=f"{who} in the bridge")
        await phone.login("1003", "seat03", ring=6)  # rings 6 s before answering
        calls["ringing"] = await phone.call(caller="13800001003")
        await until(lambda: acd.calls[calls["ringing"]].state == "offering", what="seat03 ringing")
        await phone.acd.login("1004", "seat04", interface="Local/seat04@agent-sim/n", override_by="pytest")
        await acd.pause("1004", "break")
        calls["queued_leaves"] = await phone.call(caller="13800001004")
        calls["queued_stays"] = await phone.call(caller="13800001005")
        await acd.journal.flush()
        a1 = acd.calls[calls["caller_leaves"]].agent_leg
        b_leg = acd.calls[calls["agent_leaves"]].agent_leg
        ringing_leg = acd.calls[calls["ringing"]].agent_leg

        _die(active_app)
        # in the gap: a talking caller, a talking agent and a waiting caller hang up
        for channel in (calls["caller_leaves"], b_leg, calls["queued_leaves"]):
            await ari.delete(f"/channels/{channel}")

        await asyncio.wait_for(standby_app[STATE]["ari"].connected.wait(), 15)
        taken = Phone(standby_app)
        new = taken.acd
        await until(lambda: calls["queued_stays"] in new.calls, what="the standby restored the calls")
        # the ringing offer is made again under a new leg id, and the agent is not paused
        await until(lambda: new.calls[calls["ringing"]].state == "bridged", timeout=20,
                    what="the ringing call answered after the takeover")
        assert new.calls[calls["ringing"]].agent_leg != ringing_leg
        # on the call once both legs are in the bridge (the add follows the answer)
        await until(lambda: taken.agent("1003").state is AgentState.ON_CALL, what="agent on the call")
        await until(lambda: _gone(ari, calls["agent_leaves"]), what="the caller whose agent left is hung up")
        await until(lambda: _gone(ari, a1), what="the agent leg whose caller left is hung up")
        for agent_id in ("1001", "1002"):
            assert taken.agent(agent_id).state in (AgentState.WRAP_UP, AgentState.AVAILABLE)
        assert taken.agent("1004").state is AgentState.PAUSED
        assert [c.call_id for c in new.book.ordered_all()] == [calls["queued_stays"]]
        await new.journal.flush()
        rows = {r["call_id"]: r["disposition"] for r in await pool.fetch("SELECT call_id, disposition FROM calls")}
        assert rows[calls["caller_leaves"]] == "answered"
        assert rows[calls["agent_leaves"]] == "answered"
        assert rows[calls["queued_leaves"]] == "abandoned"
        assert rows[calls["ringing"]] is None and rows[calls["queued_stays"]] is None
        missed = await pool.fetchval("SELECT count(*) FROM agent_states WHERE reason LIKE 'no answer%'")
        assert missed == 0
        # every leg row closed but the one talking now
        open_legs = await pool.fetch("SELECT channel_id FROM call_legs WHERE ended_at IS NULL")
        assert [r["channel_id"] for r in open_legs] == [new.calls[calls["ringing"]].agent_leg]
        for c in (calls["ringing"], calls["queued_stays"]):
            await taken.hangup(c)
        await until(lambda: not new.calls, what="all calls ended")
    finally:
        await active.cleanup()
        await standby.cleanup()


async def _gone(ari, channel: str) -> bool:
    return await ari.safe(ari.get(f"/channels/{channel}")) is None
