"""Call routing over ARI against the real sandbox Asterisk: Local-channel citizens and agents."""

from __future__ import annotations

import pytest
from acd_support import Phone
from helpers import until

from callcenter.acd.agents import AgentState
from callcenter.app import PLUGINS, STATE


@pytest.fixture
async def phone(stack):
    p = Phone(stack)
    p.acd.ring_timeout_s = 3
    yield p


async def row(pool, call_id):
    return await pool.fetchrow("SELECT * FROM calls WHERE call_id=$1", call_id)


async def test_call_goes_to_longest_idle_agent_and_is_recorded(phone, pool, mqtt_messages):
    await phone.login("1001", "seat01")
    await phone.login("1002", "seat02")
    call = await phone.call()
    await until(lambda: phone.acd.calls.get(call) and phone.acd.calls[call].state == "bridged",
                what="bridged call")
    assert phone.acd.calls[call].agent_id == "1001"
    # on the call once both legs are in the bridge (the add follows the answer)
    await until(lambda: phone.agent("1001").state is AgentState.ON_CALL, what="agent on the call")
    assert phone.agent("1002").state is AgentState.AVAILABLE
    await phone.hangup(call)
    await until(lambda: phone.agent("1001").state is AgentState.WRAP_UP, what="wrap-up")
    await phone.acd.journal.flush()
    r = await row(pool, call)
    assert r["disposition"] == "answered" and r["agent_id"] == "1001" and r["seat_id"] == "seat01"
    assert r["answered_at"] is not None and r["ended_at"] >= r["answered_at"]
    states = [x["to_state"] for x in await pool.fetch(
        "SELECT to_state FROM agent_states WHERE agent_id='1001' ORDER BY id")]
    assert states == ["available", "ringing", "on_call", "wrap_up"]
    await until(lambda: any(t == f"calls/{call}/ended" for t, _ in mqtt_messages), what="MQTT call ended")
    assert any(t == "agents/1001/state" for t, _ in mqtt_messages)


async def test_skill_routing_prefers_skilled_agent(phone):
    await phone.login("1003", "seat03")  # general + dialect, idle longest
    await phone.login("1001", "seat01")  # general + market
    call = await phone.call(queue="market", skill="market")
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    assert phone.acd.calls[call].agent_id == "1001"


async def test_higher_priority_waiting_call_is_served_first(phone):
    first = await phone.call(priority=0)
    urgent = await phone.call(priority=8)
    assert phone.acd.book.position_of(urgent) == 1
    await phone.login("1001", "seat01")
    await until(lambda: phone.acd.calls[urgent].state == "bridged", what="urgent bridged")
    assert phone.acd.calls[first].state == "queued"


async def test_no_answer_requeues_at_front_and_pauses_the_agent(phone):
    await phone.login("1001", "seat01", mode="noanswer")
    await phone.login("1002", "seat02")
    call = await phone.call()
    await until(lambda: phone.acd.calls[call].state == "bridged", timeout=15, what="bridged after retry")
    assert phone.acd.calls[call].agent_id == "1002"
    assert phone.agent("1001").state is AgentState.PAUSED
    assert phone.agent("1001").pause_reason.value == "missed_call"


async def test_caller_hears_music_while_a_slow_agent_rings_and_not_after(phone):
    await phone.login("1001", "seat01", ring=2)  # rings 2 s of the 3 s this module allows
    call = await phone.call()
    session = phone.acd.calls[call]
    assert session.state == "offering" and not session.moh  # routed at once: no music yet
    await until(lambda: session.moh, timeout=5, what="music after a second of ringing")
    assert session.state == "offering"
    await until(lambda: session.state == "bridged", timeout=10, what="agent answered")
    assert not session.moh
    channel = await phone.ari.get(f"/channels/{call}")
    assert channel["state"] == "Up"


async def test_caller_hangs_up_while_queued_is_abandoned(phone, pool):
    call = await phone.call(hold_for=1)
    await until(lambda: call not in phone.acd.calls, what="call gone")
    await phone.acd.journal.flush()
    assert (await row(pool, call))["disposition"] == "abandoned"
    assert len(phone.acd.book) == 0


async def test_caller_hangs_up_while_agent_rings(phone, pool):
    await phone.login("1001", "seat01", mode="noanswer")
    phone.acd.ring_timeout_s = 30
    call = await phone.call(hold_for=2)
    await until(lambda: phone.agent("1001").state is AgentState.RINGING, what="ringing")
    await until(lambda: call not in phone.acd.calls, what="caller gone")
    assert phone.agent("1001").state is AgentState.AVAILABLE  # not the agent's fault: no missed call
    await phone.acd.journal.flush()
    assert (await row(pool, call))["disposition"] == "abandoned"


async def test_wrap_up_is_respected_before_next_offer(phone):
    from callcenter.acd.agents import AgentConfig

    phone.acd.roster = phone.acd.roster.model_copy(update={"agents": AgentConfig(wrap_up_s=2)})
    await phone.login("1001", "seat01")
    c1 = await phone.call()
    await until(lambda: phone.acd.calls[c1].state == "bridged", what="first bridged")
    await phone.hangup(c1)
    await until(lambda: phone.agent("1001").state is AgentState.WRAP_UP, what="wrap-up")
    c2 = await phone.call()
    assert phone.acd.calls[c2].state == "queued"
    await until(lambda: phone.acd.calls[c2].state == "bridged", timeout=10, what="second after wrap-up")


async def test_off_shift_login_needs_a_supervisor_override(phone, stack, logins):
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    off = next(s for s in phone.acd.roster.seats if not phone.acd.roster.is_on_shift(s, now))
    url = "/api/agents/2001/login"
    async with await logins.client("agent:2001") as http:
        async with http.post(url, json={"seat": off.id}) as r:
            assert r.status == 409
            assert (await r.json())["error"] == "not_on_shift"
        async with http.post(url, json={"seat": "seat99"}) as r:
            assert r.status == 404 and "unknown seat" in (await r.json())["message"]
        async with http.post(url, json={"seat": "bogus"}) as r:
            assert r.status == 422 and "seat" in (await r.json())["fields"]
        async with http.post(url, data=b"{nope") as r:
            assert r.status == 400
    assert "2001" not in phone.acd.slots


async def test_overflow_to_general_agents_after_the_queue_wait(phone):
    from callcenter.acd.policy import QueueDef

    queues = [QueueDef(**{**q.model_dump(), "overflow_after_s": 1.5}) if q.name == "market" else q
              for q in phone.acd.roster.queues]
    phone.acd.roster = phone.acd.roster.model_copy(update={"queues": queues})
    await phone.login("1003", "seat03")  # general + dialect: no market skill
    call = await phone.call(queue="market", skill="market")
    assert phone.acd.calls[call].state == "queued"  # not offered before the overflow time
    await until(lambda: phone.acd.calls[call].state == "bridged", timeout=10, what="overflowed to general")
    assert phone.acd.calls[call].agent_id == "1003"


async def test_a_call_stays_g711_and_costs_few_ari_round_trips(phone):
    """Guards the per-call cost: no slin192 legs (resampling was most of Asterisk's CPU) and
    only the events the features handle (the app's event filter)."""
    ari = phone.ari
    await until(lambda: phone.acd.resyncs >= 1, what="the connect's resync done (its requests are not the call's)")
    await phone.login("1001", "seat01")
    requests, events = ari.requests, ari.events
    call = await phone.call()
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    leg = phone.acd.calls[call].agent_leg
    for channel in (call, leg):
        fmt = await ari.get(f"/channels/{channel}/variable", variable="CHANNEL(audionativeformat)")
        assert fmt["value"].strip("()") == "alaw", (channel, fmt)
    used_requests, used_events = ari.requests - requests, ari.events - events
    await phone.hangup(call)
    await until(lambda: call not in phone.acd.calls, what="call over")
    # the test's own originate and two format reads, then the controller's three: originate the
    # agent, create the bridge, add both (its dialplan answered the caller); two StasisStarts
    assert used_requests <= 6 and used_events <= 3, (used_requests, used_events)


async def test_a_lost_hangup_event_does_not_leave_the_agent_stuck(phone, stack, pool):
    """Simulates a lost ChannelDestroyed: the controller forgets the agent leg, then the agent
    hangs up. The audit ends the call and frees the agent on its second look."""
    await phone.login("1001", "seat01")
    call = await phone.call()
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    leg = phone.acd.calls[call].agent_leg
    phone.acd.legs.pop(leg)  # its hang-up event will now be ignored, as if it never came
    await phone.ari.delete(f"/channels/{leg}")

    async def gone() -> bool:
        return leg not in set((await phone.ari.get(f"/applications/{phone.ari.app}"))["channel_ids"])

    await until(gone, what="agent leg gone in Asterisk")
    await stack[STATE]["router"].drain()  # its events came and were ignored
    assert phone.agent("1001").state is AgentState.ON_CALL  # stuck
    phone.acd.legs[leg] = (call, "agent")  # what a lost event leaves: a leg tracked, gone in Asterisk
    audit = stack[PLUGINS].acd.audit.get()
    await audit.run_once()
    assert phone.agent("1001").state is AgentState.ON_CALL  # one look is not enough (could be new)
    await audit.run_once()
    assert phone.agent("1001").state is not AgentState.ON_CALL
    await until(lambda: call not in phone.acd.calls, what="call ended")
    await phone.acd.journal.flush()
    assert (await row(pool, call))["disposition"] == "answered"
    assert audit.repaired >= 1


async def test_the_audit_refills_the_live_view_after_redis_lost_it(phone, stack, live):
    await phone.login("1001", "seat01")
    await phone.acd.journal.flush()
    await live.redis.delete(live.key("agents"))  # what a Redis restart does to it (nothing kept on disk)
    assert not await live.all("agents")
    await stack[PLUGINS].acd.audit.get().run_once()
    await phone.acd.journal.flush()
    agents = await live.all("agents")
    assert agents["1001"]["state"] == "available" and agents["1001"]["seat_id"] == "seat01"


async def test_the_audit_frees_an_agent_whose_call_the_controller_forgot(phone, stack):
    await phone.login("1001", "seat01")
    call = await phone.call()
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    session = phone.acd.calls.pop(call)  # the controller lost track of the call altogether
    for leg in (call, session.agent_leg):
        phone.acd.legs.pop(leg, None)
    await phone.hangup(call)
    assert phone.agent("1001").state is AgentState.ON_CALL  # stuck
    await stack[PLUGINS].acd.audit.get().run_once()
    assert phone.agent("1001").state is AgentState.WRAP_UP
