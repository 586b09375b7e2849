"""Supervisor listen / whisper / barge: a snoop on the agent's leg bridged to the supervisor's
own seat phone; the agent sees nothing; it ends with the call."""

from __future__ import annotations

import pytest
from acd_support import Phone
from helpers import until

from callcenter.acd.agents import AgentState
from callcenter.app import PLUGINS
from callcenter.infra.ari import AriError

pytestmark = pytest.mark.asterisk


async def _bridge_channels(ari, bridge: str) -> set[str]:
    try:
        return set((await ari.get(f"/bridges/{bridge}"))["channels"])
    except AriError:
        return set()


async def _exists(ari, channel: str) -> bool:
    try:
        await ari.get(f"/channels/{channel}")
        return True
    except AriError:
        return False


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
async def test_a_supervisor_joins_a_live_call_through_a_snoop_channel(stack, logins, pool, mode):
    phone = Phone(stack)
    await phone.login("1001", "seat01")
    await phone.agent_mode("seat20", "answer")
    call = await phone.call(caller="13812345678")
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    agent_leg = phone.acd.calls[call].agent_leg
    async with await logins.client("agent:1001") as agent:
        async with agent.get("/api/board/agents/1001") as r:
            before = await r.json()
        async with agent.post(f"/api/calls/{call}/supervise", json={"mode": mode, "seat": "seat20"}) as r:
            assert r.status == 403  # agents do not supervise
    async with await logins.client("supervisor:li") as sup:
        async with sup.post(f"/api/calls/{call}/supervise", json={"mode": mode, "seat": "seat20"}) as r:
            assert r.status == 201, await r.text()
            w = await r.json()
        ari = phone.ari
        await until(lambda: _bridge_channels(ari, w["bridge"]), what="the supervision bridge")
        await until(lambda: _has(ari, w["bridge"], {w["snoop"], w["phone"]}), what="snoop + seat bridged")
        snoop = await ari.get(f"/channels/{w['snoop']}")
        assert snoop["name"].startswith(f"Snoop/{agent_leg}")  # a snoop on the agent's own leg
        assert w["mode"] == mode and w["by"] == "supervisor:li"
        # the agent sees nothing: same state, same call, nothing about the supervision
        async with await logins.client("agent:1001") as agent:
            async with agent.get("/api/board/agents/1001") as r:
                after = await r.json()
        assert after["agent"]["state"] == before["agent"]["state"] == "on_call"
        assert after["call"]["call_id"] == call and w["sid"] not in str(after) and "snoop" not in str(after)
        assert phone.agent("1001").state is AgentState.ON_CALL
        if mode == "listen":
            async with sup.delete(f"/api/supervisions/{w['sid']}") as r:
                assert r.status == 204
            # the supervisor's phone leaves at once; the snoop on this silent simulated line
            # notices its hang-up when the spied call ends (on a real call, at its next frame)
            await until(lambda: _gone(ari, w["phone"]), what="the supervisor's phone hung up")
            assert not await _bridge_channels(ari, w["bridge"])
            assert phone.acd.calls[call].state == "bridged"  # the call goes on
            await phone.hangup(call)
            await until(lambda: _gone(ari, w["snoop"]), what="the snoop gone with the call")
        else:  # the call ending ends the supervision
            await phone.hangup(call)
            await until(lambda: _gone(ari, w["snoop"], w["phone"]), what="supervision ended with the call")
        async with sup.get("/api/supervisions") as r:
            assert (await r.json())["supervisions"] == []
    assert stack[PLUGINS].acd.supervision.get().active == {}
    audit = await pool.fetch("SELECT actor, action FROM audit_log WHERE action LIKE 'supervise%' ORDER BY id")
    assert [a["action"] for a in audit][:1] == ["supervise"] and audit[0]["actor"] == "li"


async def _has(ari, bridge: str, channels: set[str]) -> bool:
    return channels <= await _bridge_channels(ari, bridge)


async def _gone(ari, *channels: str) -> bool:
    return not any([await _exists(ari, c) for c in channels])


async def test_only_a_bridged_call_can_be_supervised(stack, logins):
    async with await logins.client("supervisor:li") as sup:
        async with sup.post("/api/calls/nope/supervise", json={"mode": "listen", "seat": "seat20"}) as r:
            assert r.status == 409
        async with sup.post("/api/calls/nope/supervise", json={"mode": "spy", "seat": "seat20"}) as r:
            assert r.status == 422


async def test_a_supervisor_moves_a_waiting_call_to_another_queue_and_priority(stack, logins, pool):
    phone = Phone(stack)
    first = await phone.call(caller="13800000001", queue="general")
    second = await phone.call(caller="13800000002", queue="general")
    async with await logins.client("agent:1001") as agent:
        async with agent.post(f"/api/queues/calls/{second}/move", json={"queue": "market", "priority": 5}) as r:
            assert r.status == 403
    async with await logins.client("supervisor:li") as sup:
        async with sup.post(f"/api/queues/calls/{second}/move", json={"queue": "nowhere"}) as r:
            assert r.status == 422
        async with sup.post(f"/api/queues/calls/{second}/move", json={"queue": "market", "priority": 5}) as r:
            assert r.status == 200, await r.text()
            assert await r.json() == {"call_id": second, "queue": "market", "priority": 5, "position": 1}
        async with sup.post("/api/queues/calls/nope/move", json={"queue": "market"}) as r:
            assert r.status == 409
    entry = phone.acd.book.get(second)
    assert (entry.queue, entry.skill, entry.priority) == ("market", "market", 5)
    assert phone.acd.book.get(first).queue == "general"
    row = await pool.fetchrow("SELECT queue, priority FROM calls WHERE call_id = $1", second)
    assert (row["queue"], row["priority"]) == ("market", 5)
    # a market agent signs in: the moved call is the one offered
    await phone.login("1001", "seat01")  # seat01 has the market skill
    await until(lambda: phone.acd.calls[second].state == "bridged", what="the moved call answered")
    assert phone.acd.calls[first].state == "queued"
    audit = await pool.fetch("SELECT actor, target FROM audit_log WHERE action = 'call_moved'")
    assert [(a["actor"], a["target"]) for a in audit] == [("li", f"/api/queues/calls/{second}/move")]
