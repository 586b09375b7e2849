"""A seeded storm of calls against agents that answer, ring out, are busy or get paused, with
callers hanging up at random moments. Afterwards nothing may be stuck: stuck or out-of-sync
agent states are the defect contact centers report most."""

from __future__ import annotations

import asyncio
import os
import random

from acd_support import Phone
from helpers import until

from callcenter.acd.agents import AgentConfig, AgentState, IllegalAgentTransition, MissedCallPolicy
from callcenter.acd.service import AcdError
from callcenter.app import STATE

SEATS = {"1001": "seat01", "1002": "seat02", "1003": "seat03", "1004": "seat04", "1005": "seat05"}


async def test_a_storm_of_calls_leaves_no_agent_call_or_channel_behind(stack, pool):
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "12345")))  # another seed: CHAOS_SEED=n
    phone = Phone(stack)
    acd = phone.acd
    acd.ring_timeout_s = 3
    acd.roster = acd.roster.model_copy(update={"agents": AgentConfig(
        wrap_up_s=0.3, missed_call_policy=MissedCallPolicy.AVAILABLE)})
    modes = [("answer", 0.2), ("answer", 1.5), ("noanswer", 0.2), ("busy", 0.2), ("answer", 0.5)]
    for (agent_id, seat), (mode, ring) in zip(SEATS.items(), modes, strict=True):
        await phone.login(agent_id, seat, mode=mode, ring=ring, talk=rng.uniform(0.3, 1.5))

    async def meddle() -> None:  # a supervisor and agents pausing, resuming, changing phones
        for _ in range(12):
            await asyncio.sleep(rng.uniform(0.2, 0.8))
            agent_id = rng.choice(list(SEATS))
            try:
                if rng.random() < 0.5:
                    await acd.pause(agent_id, "break")
                else:
                    await acd.unpause(agent_id)
            except (AcdError, IllegalAgentTransition):
                pass  # not allowed in its current state: refused, as it should be
            if rng.random() < 0.3:
                await phone.agent_mode(SEATS[agent_id], rng.choice(["answer", "noanswer", "busy"]),
                                       ring=rng.uniform(0.1, 1.0), talk=rng.uniform(0.3, 1.5))

    calls: list[str] = []

    async def storm() -> None:
        for _ in range(30):
            calls.append(await phone.call(wait_before=0, hold_for=round(rng.uniform(0.3, 6.0), 1),
                                          priority=rng.choice([0, 0, 0, 5])))
            await asyncio.sleep(rng.uniform(0.0, 0.3))

    await asyncio.gather(storm(), meddle())
    await until(lambda: not acd.calls, timeout=40, what="every call over")
    await asyncio.sleep(0.5)  # wrap-ups end
    await stack[STATE]["router"].drain()
    await acd.journal.flush()

    states = {a: acd.slots[a].agent.state for a in SEATS}
    assert not {a: s for a, s in states.items() if s in (AgentState.RINGING, AgentState.ON_CALL)}, states
    assert len(acd.book) == 0 and not acd.legs
    app = await phone.ari.get(f"/applications/{phone.ari.app}")
    ours = [ch for ch in app["channel_ids"] if any(ch.endswith(c) for c in calls)]  # callers, agent legs
    assert not ours, ours
    rows = await pool.fetch("SELECT call_id, disposition, ended_at FROM calls WHERE call_id = ANY($1)", calls)
    assert len(rows) == len(calls)
    assert all(r["ended_at"] is not None and r["disposition"] in ("answered", "abandoned") for r in rows), rows
    assert sum(r["disposition"] == "answered" for r in rows) > 0
    # every agent's history is one unbroken chain of legal transitions
    for agent_id in SEATS:
        hist = await pool.fetch("SELECT from_state, to_state FROM agent_states WHERE agent_id=$1 ORDER BY id",
                                agent_id)
        breaks = [(i, dict(a), dict(b)) for i, (a, b) in enumerate(zip(hist, hist[1:], strict=False))
                  if a["to_state"] != b["from_state"]]
        assert not breaks, (agent_id, breaks, [tuple(h) for h in hist])
        assert hist[-1]["to_state"] == acd.slots[agent_id].agent.state.value
