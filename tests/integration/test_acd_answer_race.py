"""A leg vanishes between the agent's answer and its add to the bridge, on the sandbox Asterisk.

Seen under load (scripts/bench/bench_acd.py at 80-90 calls/s): a caller who gives up the moment
the agent answers made `POST /bridges/{id}/addChannel` answer 400 `Channel not found` and the
handler fail. Here the race is made, not waited for: a hook in front of the executor's add hangs
up a leg and waits until Asterisk has destroyed it, then lets the real request go out.
"""

from __future__ import annotations

import pytest
from acd_support import Phone
from helpers import until

from callcenter.acd import effects as fx
from callcenter.acd.agents import AgentState
from callcenter.acd.calls import CallState


@pytest.fixture
async def phone(stack):
    p = Phone(stack)
    p.acd.ring_timeout_s = 5
    yield p


async def exists(phone: Phone, channel: str) -> bool:
    return await phone.ari.safe(phone.ari.get(f"/channels/{channel}")) is not None


def vanish_before_the_first_add(phone: Phone, which: str) -> list[str]:
    """Before the call's first `AddToBridge`, hang up its caller (`which="caller"`) or the agent's
    leg and wait until the channel is gone. Returns the channels made to vanish."""
    executor = phone.acd.executor
    real = executor._awaited[fx.AddToBridge]
    vanished: list[str] = []

    async def hook(call, effect):
        if not vanished:
            channel = call.call_id if which == "caller" else call.agent_leg
            vanished.append(channel)
            await phone.hangup(channel)
            await until(lambda: _not(exists(phone, channel)), what=f"{channel} destroyed")
        return await real(call, effect)

    executor._awaited[fx.AddToBridge] = hook
    return vanished


async def _not(aw) -> bool:
    return not await aw


async def test_caller_gone_as_the_agent_answers_is_abandoned_and_frees_the_agent(phone, pool, mqtt_messages):
    await phone.login("1001", "seat01")
    vanished = vanish_before_the_first_add(phone, "caller")
    call = await phone.call()
    await until(lambda: call not in phone.acd.calls, what="call over")
    assert vanished == [call]
    agent_leg = "a1-" + call
    await until(lambda: _not(exists(phone, agent_leg)), what="agent leg hung up")
    assert phone.agent("1001").state is AgentState.AVAILABLE
    await phone.acd.journal.flush()
    row = await pool.fetchrow("SELECT * FROM calls WHERE call_id=$1", call)
    assert row["disposition"] == "abandoned" and row["ended_at"] is not None
    assert row["answered_at"] is None and row["agent_id"] is None  # as a hang-up while it rang
    leg = await pool.fetchrow("SELECT * FROM call_legs WHERE channel_id=$1", agent_leg)
    assert leg["ended_at"] is not None and leg["cause"] == "caller hung up"
    states = [r["to_state"] for r in await pool.fetch(
        "SELECT to_state FROM agent_states WHERE agent_id='1001' ORDER BY id")]
    assert states == ["available", "ringing", "available"]
    await until(lambda: any(t == f"calls/{call}/ended" for t, _ in mqtt_messages), what="MQTT call ended")
    assert not any(t == f"calls/{call}/answered" for t, _ in mqtt_messages)
    assert not phone.acd.legs and not phone.acd.book


async def test_agent_leg_gone_as_it_answers_sends_the_caller_back_to_be_answered(phone, pool):
    await phone.login("1001", "seat01")
    await phone.login("1002", "seat02")
    vanished = vanish_before_the_first_add(phone, "agent")
    call = await phone.call()
    session = phone.acd.calls[call]
    await until(lambda: session.state is CallState.BRIDGED and session.attempts == 2, what="bridged again")
    assert vanished == ["a1-" + call] and await exists(phone, call)
    await phone.hangup(call)
    await until(lambda: call not in phone.acd.calls, what="call over")
    await phone.acd.journal.flush()
    row = await pool.fetchrow("SELECT * FROM calls WHERE call_id=$1", call)
    assert row["disposition"] == "answered" and row["agent_id"] == session.agent_id
    legs = await pool.fetch("SELECT channel_id, ended_at, cause FROM call_legs WHERE call_id=$1 ORDER BY id", call)
    assert [r["channel_id"] for r in legs] == ["a1-" + call, "a2-" + call]
    assert legs[0]["cause"] == "gone as it answered" and all(r["ended_at"] for r in legs)
    assert {phone.agent(a).state for a in ("1001", "1002")} <= {AgentState.AVAILABLE, AgentState.WRAP_UP}
