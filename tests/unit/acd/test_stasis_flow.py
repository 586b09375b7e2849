"""ARI events in, ARI requests and journal writes out: the Stasis translator, the service and the
effect executor together, against a fake ARI that records what it is asked (no Asterisk)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from callcenter.acd import effects as fx
from callcenter.acd.agents import AgentState
from callcenter.acd.calls import CallState
from callcenter.acd.service import AcdService
from callcenter.acd.shifts import Roster
from callcenter.acd.stasis import AcdStasis
from callcenter.calls.stasis import StasisRouter
from callcenter.infra.ari import GONE, AriError, AriEvent, AriUnavailable


class RecordingAri:
    """Answers every request; `refuse` makes the next originates fail; the channels in `gone` are
    not found (adding one to a bridge is refused as Asterisk does: 400, none added); `fail_play`
    is what the next playbacks raise (a 412, a time-out), `fail_moh` the next music requests. `safe()` tolerates what
    `infra/ari.py` tolerates (404, 409, 422) and raises the rest, as the real client does."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict]] = []
        self.refuse = 0
        self.gone: set[str] = set()  # channels that answer 404
        self.fail_play: list[AriError] = []
        self.fail_moh: list[AriError] = []
        self.failures = self.tolerated = 0

    @property
    def errors(self) -> int:
        return self.failures - self.tolerated

    async def post(self, path: str, **params):
        try:
            return await self._post(path, **params)
        except AriError:
            self.failures += 1
            raise

    async def _post(self, path: str, **params):
        self.requests.append(("POST", path, params))
        if path.endswith("/play") and self.fail_play:
            raise self.fail_play.pop(0)
        if path.endswith("/moh") and self.fail_moh:
            raise self.fail_moh.pop(0)
        parts = path.split("/")
        if len(parts) > 2 and parts[1] == "channels" and parts[2] in self.gone:
            raise AriError(404, "Channel not found", "POST", path)
        if path == "/channels" and self.refuse:
            self.refuse -= 1
            raise AriError(400, "Provided originator channel was not found", "POST", path)
        if path.endswith("/addChannel") and self.gone & set(params["channel"].split(",")):
            raise AriError(400, "Channel not found", "POST", path)
        return {"id": params.get("playbackId") or params.get("channelId") or "x"}

    async def delete(self, path: str, **params):
        self.requests.append(("DELETE", path, params))
        if path.endswith("/moh") and self.fail_moh:
            self.failures += 1
            raise self.fail_moh.pop(0)

    async def get(self, path: str, **params):
        self.requests.append(("GET", path, params))
        if path.startswith("/channels/") and path.split("/")[2] in self.gone:
            self.failures += 1
            raise AriError(404, "Channel not found", "GET", path)
        return {"state": "online"} if path.startswith("/endpoints/") else {}

    async def safe(self, coro):
        try:
            return await coro
        except AriError as exc:
            if exc.status in GONE:
                self.tolerated += 1
                return None
            raise


def event(kind: str, **raw) -> AriEvent:
    return AriEvent(kind, "test", "", {"type": kind, **raw})


def inbound(call_id: str) -> AriEvent:
    return event("StasisStart", args=["inbound"], channel={
        "id": call_id, "state": "Up", "caller": {"number": "13800000001"}, "dialplan": {"exten": "12345"},
        "channelvars": {"IVR_QUEUE": "general", "IVR_PRIORITY": "0"}})


async def service() -> tuple[AcdService, AcdStasis, RecordingAri]:
    ari = RecordingAri()
    svc = AcdService(ari, None, None, None, Roster.default(), "test")  # type: ignore[arg-type]
    await svc.login("1001", "seat01", interface="Local/seat01@agent-sim/n", override_by="test")
    ari.requests.clear()
    return svc, AcdStasis(svc), ari


def journal(svc: AcdService) -> list[str]:
    return [what for what, _ in list(svc.journal._queue._queue)]  # type: ignore[attr-defined]


async def test_a_routed_call_makes_five_requests_and_journals_in_order() -> None:
    svc, stasis, ari = await service()
    await stasis.on_event(inbound("c1"))
    call = svc.calls["c1"]
    assert call.state is CallState.OFFERING and svc.legs == {"c1": ("c1", "caller"), "a1-c1": ("c1", "agent")}
    [(_, path, originate)] = ari.requests
    assert path == "/channels" and originate["originator"] == "c1" and originate["channelId"] == "a1-c1"
    await stasis.on_event(event("StasisStart", args=["agent", "c1"], channel={"id": "a1-c1"}))
    assert call.state is CallState.BRIDGED and svc.slots["1001"].agent.state is AgentState.ON_CALL
    await stasis.on_event(event("StasisEnd", channel={"id": "c1"}))
    assert [(m, p) for m, p, _ in ari.requests] == [
        ("POST", "/channels"), ("POST", "/bridges"), ("POST", "/bridges/c1-b/addChannel"),
        ("DELETE", "/channels/a1-c1"), ("DELETE", "/bridges/c1-b")]
    assert ari.requests[2][2]["channel"] == "c1,a1-c1"
    assert "c1" not in svc.calls and not svc.legs and svc.slots["1001"].agent.state is AgentState.WRAP_UP
    writes = [w for w in journal(svc) if not w.startswith(("agent", "live"))]
    assert writes == ["call start", "call queued", "leg", "call answered", "leg update", "leg update", "call ended"]
    await svc.close()


async def test_a_caller_gone_as_the_agent_answers_ends_the_call_cleanly() -> None:
    """The bench's `addChannel -> 400 Channel not found`: the caller hung up just before the add.
    The handler no longer fails: the call ends abandoned, nothing of the answer is carried out,
    the agent's leg is hung up and the agent is free; the caller's StasisEnd then changes nothing."""
    svc, stasis, ari = await service()
    await stasis.on_event(inbound("c1"))
    ari.gone.add("c1")
    await stasis.on_event(event("StasisStart", args=["agent", "c1"], channel={"id": "a1-c1"}))
    assert "c1" not in svc.calls and not svc.legs and svc.slots["1001"].agent.state is AgentState.AVAILABLE
    assert [(m, p) for m, p, _ in ari.requests][1:] == [
        ("POST", "/bridges"), ("POST", "/bridges/c1-b/addChannel"), ("GET", "/channels/c1"),
        ("GET", "/channels/a1-c1"), ("DELETE", "/bridges/c1-b"), ("DELETE", "/channels/a1-c1")]
    writes = [w for w in journal(svc) if not w.startswith(("agent", "live"))]
    assert writes == ["call start", "call queued", "leg", "leg update", "call ended"]  # no "call answered"
    assert ari.failures == 2 and ari.errors == 0  # the add and the look at c1: expected, not ARI errors
    before = len(ari.requests)
    await stasis.on_event(event("StasisEnd", channel={"id": "c1"}))
    assert len(ari.requests) == before
    await svc.close()


async def test_a_refused_originate_waits_for_the_ticker_and_the_late_leg_is_hung_up() -> None:
    svc, stasis, ari = await service()
    ari.refuse = 1
    await stasis.on_event(inbound("c1"))
    assert svc.calls["c1"].state is CallState.QUEUED and "c1" in svc.book
    # is its caller gone? (no: a refusal not explained, logged as a warning)
    assert [(m, p) for m, p, _ in ari.requests[:3]] == [
        ("POST", "/channels"), ("GET", "/channels/c1"), ("DELETE", "/channels/a1-c1")]
    assert svc.slots["1001"].agent.state is AgentState.AVAILABLE
    await svc.tick()  # the next round offers again, with a new leg
    assert svc.calls["c1"].state is CallState.OFFERING and svc.calls["c1"].agent_leg == "a2-c1"
    # the first leg turns up after all: it is not this call's leg any more
    await stasis.on_event(event("StasisStart", args=["agent", "c1"], channel={"id": "a1-c1"}))
    assert ari.requests[-1][:2] == ("DELETE", "/channels/a1-c1")
    await svc.close()


async def test_events_for_unknown_calls_and_legs_are_ignored_or_hung_up() -> None:
    svc, stasis, ari = await service()
    await stasis.on_event(event("ChannelDestroyed", channel={"id": "nobody"}))
    await stasis.on_event(event("ChannelDtmfReceived", channel={"id": "nobody"}, digit="1"))
    await stasis.on_event(event("PlaybackFinished", playback={"id": "p", "target_uri": "channel:nobody"}))
    assert ari.requests == []
    await stasis.on_event(event("StasisStart", args=["citizen", "gone"], channel={"id": "cb1-gone"}))
    assert ari.requests == [("DELETE", "/channels/cb1-gone", {})]
    await svc.close()


async def test_a_parked_callback_comes_back_on_the_ticker_when_due() -> None:
    svc, stasis, ari = await service()
    now = datetime.now(UTC)
    svc.clock = lambda: now
    await svc.logout("1001")
    await stasis.on_event(inbound("c1"))
    call = svc.calls["c1"]
    call.callback_offered = True
    await stasis.on_event(event("ChannelDtmfReceived", channel={"id": "c1"}, digit="1"))
    assert call.state is CallState.CALLBACK_WAIT and svc.book.get("c1").callback
    await stasis.on_event(event("ChannelDestroyed", channel={"id": "c1"}))  # the caller hung up
    await svc.login("1001", "seat01", interface="Local/seat01@agent-sim/n", override_by="test")
    assert call.state is CallState.CALLBACK_AGENT
    await stasis.on_event(event("StasisStart", args=["cbagent", "c1"], channel={"id": "a1-c1"}))
    assert call.state is CallState.CALLBACK_DIALING and svc.legs["cb1-c1"] == ("c1", "citizen")
    await stasis.on_event(event("ChannelDestroyed", channel={"id": "cb1-c1"}, cause_txt="No answer"))
    assert call.state is CallState.CALLBACK_PARKED and "c1" not in svc.book
    now += timedelta(seconds=61)
    await svc.tick()
    assert call.state is CallState.CALLBACK_AGENT and call.attempts == 2
    await svc.close()


async def test_every_agent_offered_a_call_rings_before_any_originate_goes_out() -> None:
    """`assign` applies the offers at once and sends the originates together: no other handler
    can offer a ringing agent a second call while the first originates are on their way."""
    svc, stasis, ari = await service()
    await svc.login("1002", "seat02", interface="Local/seat02@agent-sim/n", override_by="test")
    for agent_id in ("1001", "1002"):
        await svc.pause(agent_id, "break")
    for call_id in ("c1", "c2"):
        await stasis.on_event(inbound(call_id))
    seen: list[set[AgentState]] = []
    post = ari.post

    async def watching(path: str, **params):
        if path == "/channels":
            seen.append({s.agent.state for s in svc.slots.values()})
        return await post(path, **params)

    ari.post = watching  # type: ignore[method-assign]
    for slot in svc.slots.values():  # both free for the same routing round
        slot.agent.unpause(svc.clock())
    await svc.assign()
    assert seen == [{AgentState.RINGING}, {AgentState.RINGING}]
    assert {c.state for c in svc.calls.values()} == {CallState.OFFERING}
    await svc.close()


async def bridged_with_rating() -> tuple[AcdService, AcdStasis, RecordingAri]:
    svc, stasis, ari = await service()
    svc.rating_on = lambda: True
    await stasis.on_event(inbound("c1"))
    await stasis.on_event(event("StasisStart", args=["agent", "c1"], channel={"id": "a1-c1"}))
    ari.requests.clear()
    return svc, stasis, ari


async def test_the_agent_hanging_up_first_hands_the_caller_to_the_rating() -> None:
    svc, stasis, ari = await bridged_with_rating()
    await stasis.on_event(event("ChannelDestroyed", channel={"id": "a1-c1"}, cause_txt="Normal Clearing"))
    assert [(m, p) for m, p, _ in ari.requests] == [
        ("DELETE", "/bridges/c1-b"), ("POST", "/channels/c1/variable"), ("POST", "/channels/c1/continue")]
    assert ari.requests[1][2]["value"] == "c1,1001,seat01,A"
    assert ari.requests[2][2] == {"context": "rating-direct", "extension": "s", "priority": 1}
    assert "c1" not in svc.calls and not svc.legs and svc.slots["1001"].agent.state is AgentState.WRAP_UP
    await stasis.on_event(event("StasisEnd", channel={"id": "c1"}))  # it leaves the app: not a hang-up
    assert len(ari.requests) == 3 and "call ended" in journal(svc)


async def test_a_caller_gone_before_the_hand_over_breaks_nothing() -> None:
    svc, stasis, ari = await bridged_with_rating()
    ari.gone.add("c1")
    await stasis.on_event(event("ChannelDestroyed", channel={"id": "a1-c1"}))
    assert [(m, p) for m, p, _ in ari.requests] == [("DELETE", "/bridges/c1-b"), ("POST", "/channels/c1/variable")]
    assert "c1" not in svc.calls and not svc.legs and svc.slots["1001"].agent.state is AgentState.WRAP_UP


async def test_a_late_transition_for_an_old_call_leaves_the_agents_new_call_alone() -> None:
    """The leg audit may free an agent while its old call's step still awaits the hang-up of its
    leg (seen under the bench's load); the agent can be offered another call meanwhile. The old
    call's transition, when it comes, is not for the call the agent is on now."""
    svc, stasis, ari = await service()
    await stasis.on_event(inbound("c1"))
    ex = svc.executor
    ex.agent(fx.AgentTransition("1001", fx.AgentAction.OFFER_CANCELLED))  # the audit (no call id)
    await stasis.on_event(inbound("c2"))
    agent = svc.slots["1001"].agent
    assert agent.state is AgentState.RINGING and agent.current_call_id == "c2"
    ex.agent(fx.AgentTransition("1001", fx.AgentAction.OFFER_CANCELLED, "c1"))  # c1's step, late
    assert agent.state is AgentState.RINGING and agent.current_call_id == "c2"
    ex.agent(fx.AgentTransition("1001", fx.AgentAction.OFFER_CANCELLED, "c2"))
    assert agent.state is AgentState.AVAILABLE
    await svc.close()


async def test_the_ordering_given_at_construction_keys_every_leg_by_its_call() -> None:
    """The per-call ordering is the service's constructor argument: the service tells it which
    call each leg belongs to, and its own timers and requests queue on the same key."""
    router = StasisRouter()
    svc = AcdService(RecordingAri(), None, None, None, Roster.default(), "test", order=router)  # type: ignore[arg-type]
    svc.legs["agent-leg-1"] = ("c1", "agent")
    assert router.key_of(event("ChannelDtmfReceived", channel={"id": "agent-leg-1"})) == "c1"
    assert router.key_of(event("ChannelDtmfReceived", channel={"id": "stranger"})) == "stranger"
    ran: list[str] = []

    async def job() -> None:
        ran.append("cancel")

    router.in_order("c1", job, "test")
    assert await svc.cancel_callback("c1") is False  # queued behind the job above, in order
    assert ran == ["cancel"]
    await router.drain()


async def test_a_seat_lost_during_a_callback_neither_spins_nor_hangs_the_stop() -> None:
    """The seat goes offline while its agent talks to a citizen called back: the call keeps
    going (`agent_lost` is for inbound callers), nothing is rescheduled, the router drains, and
    the agent is marked unreachable once the call ends instead of being offered calls again."""
    router, ari = StasisRouter(), RecordingAri()
    svc = AcdService(ari, None, None, None, Roster.default(), "test", order=router)  # type: ignore[arg-type]
    stasis = AcdStasis(svc)
    await svc.login("1001", "seat01", interface="PJSIP/seat01", override_by="test")
    assert await svc.request_callback("r1", "13800000002", origin="test")
    await stasis.on_event(event("StasisStart", args=["cbagent", "r1"], channel={"id": "a1-r1"}))
    await stasis.on_event(event("StasisStart", args=["citizen", "r1"], channel={"id": "cb1-r1"}))
    agent = svc.slots["1001"].agent
    assert svc.calls["r1"].state is CallState.BRIDGED and agent.state is AgentState.ON_CALL
    ran = 0
    in_order = router.in_order

    def counting(key, job, what="job"):
        nonlocal ran
        ran += 1
        assert ran < 10, "agent-lost job rescheduling itself"
        in_order(key, job, what)

    router.in_order = counting  # type: ignore[method-assign]
    await svc.set_reachable("seat01", False)
    await asyncio.wait_for(router.drain(), 30)  # a guard against a hang, not a timing assertion
    assert ran == 1  # the agent-lost job ran once and did not queue itself again
    assert agent.state is AgentState.ON_CALL and svc.calls["r1"].state is CallState.BRIDGED
    await stasis.on_event(event("ChannelDestroyed", channel={"id": "cb1-r1"}))  # the citizen hangs up
    await asyncio.wait_for(router.drain(), 30)
    assert "r1" not in svc.calls and agent.state is AgentState.UNREACHABLE
    await svc.set_reachable("seat01", True)
    assert agent.state is AgentState.AVAILABLE
    await svc.close()


async def waiting_caller() -> tuple[AcdService, AcdStasis, RecordingAri, list[datetime]]:
    """c1 waits with music (its agent paused); the clock is the test's."""
    svc, stasis, ari = await service()
    now = [datetime.now(UTC)]
    svc.clock = lambda: now[0]
    await svc.pause("1001", "break")
    await stasis.on_event(inbound("c1"))
    assert svc.calls["c1"].moh and svc.calls["c1"].state is CallState.QUEUED
    ari.requests.clear()
    now[0] += timedelta(seconds=61)  # the position announcement is due
    return svc, stasis, ari, now


async def test_a_refused_announcement_restores_the_music_and_the_tick_goes_on() -> None:
    """A 412 (or a time-out) on the playback: the caller is back on music, the call is announced
    again later, and the same tick still routes (the agent back from the break takes the call)."""
    for failure in (AriError(412, "Channel in invalid state"), AriUnavailable(0, "TimeoutError")):
        svc, stasis, ari, now = await waiting_caller()
        ari.fail_play.append(failure)
        svc.slots["1001"].agent.unpause(now[0])  # free for this tick's routing round
        await svc.tick()
        call = svc.calls["c1"]
        assert call.playback_id is None
        assert [(m, p) for m, p, _ in ari.requests[:3]] == [
            ("DELETE", "/channels/c1/moh"), ("POST", "/channels/c1/play"), ("POST", "/channels/c1/moh")]
        assert call.state is CallState.OFFERING  # the assignment of that tick was not aborted
        await svc.close()


async def test_after_a_failed_announcement_the_next_one_is_played() -> None:
    svc, stasis, ari, now = await waiting_caller()
    ari.fail_play.append(AriError(412, "Channel in invalid state"))
    await svc.tick()
    call = svc.calls["c1"]
    assert call.moh and call.playback_id is None
    now[0] += timedelta(seconds=61)
    await svc.tick()
    assert call.playback_id is not None and ari.requests[-1][:2] == ("POST", "/channels/c1/play")
    await svc.close()


async def test_music_refused_neither_stops_the_announcement_nor_the_tick() -> None:
    svc, stasis, ari, now = await waiting_caller()
    ari.fail_moh.append(AriError(412, "Channel in invalid state"))
    svc.slots["1001"].agent.unpause(now[0])
    await svc.tick()
    assert [(m, p) for m, p, _ in ari.requests[:2]] == [("DELETE", "/channels/c1/moh"), ("POST", "/channels/c1/play")]
    assert svc.calls["c1"].state is CallState.OFFERING
    await svc.close()
