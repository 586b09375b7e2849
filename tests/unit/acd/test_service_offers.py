"""AcdService against a fake ARI that refuses originates: what happens to the call and agents."""

from __future__ import annotations

from datetime import UTC, datetime

from callcenter.acd.agents import AgentState
from callcenter.acd.calls import Call, CallState
from callcenter.acd.service import AcdService
from callcenter.acd.shifts import Roster
from callcenter.infra.ari import AriError


class RefusingAri:
    """Every originate fails, as when the caller (the originator) has just hung up."""

    def __init__(self) -> None:
        self.originates = 0
        self.tolerated = 0

    async def post(self, path: str, **params):
        if path == "/channels":
            self.originates += 1
            raise AriError(400, "Provided originator channel was not found", "POST", path)
        return {}

    async def delete(self, path: str, **params):
        return None

    async def get(self, path: str, **params):
        raise AriError(404, "Channel not found", "GET", path)  # the caller is gone

    async def safe(self, coro):
        try:
            return await coro
        except AriError:
            return None


async def test_a_refused_originate_is_not_offered_again_in_the_same_breath() -> None:
    ari = RefusingAri()
    svc = AcdService(ari, None, None, None, Roster.default(), "test")  # type: ignore[arg-type]
    for agent_id, seat in (("1001", "seat01"), ("1002", "seat02")):
        await svc.login(agent_id, seat, interface=f"Local/{seat}@agent-sim/n", override_by="test")
    session = Call("c1", "13800000001", "general", "general", datetime.now(UTC), svc.book.next_seq())
    svc.calls["c1"] = session
    svc.book.add(session.entry())
    await svc.assign()
    # one attempt; the call waits in its place for its hang-up event or the next tick
    assert ari.originates == 1 and ari.tolerated == 1  # explained by the caller gone: not an ARI error
    assert session.state is CallState.QUEUED and "c1" in svc.book
    assert {s.agent.state for s in svc.slots.values()} == {AgentState.AVAILABLE}
    await svc.assign()  # the ticker's next round tries again, once
    assert ari.originates == 2
    await svc.close()
