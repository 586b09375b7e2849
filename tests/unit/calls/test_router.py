"""The Stasis router: per-call ordering, failing handlers, the event filter it asks for."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from callcenter.calls.stasis import StasisRouter
from callcenter.infra.ari import AriEvent


def event(kind: str, channel: str, *args: str) -> AriEvent:
    return AriEvent(kind, "app", "", {"type": kind, "channel": {"id": channel}, "args": list(args)})


class Recorder:
    EVENTS = frozenset({"StasisStart", "ChannelDtmfReceived"})

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def on_event(self, ev: AriEvent) -> None:
        if ev.type == "ChannelDtmfReceived" and ev.channel_id == "boom":
            raise RuntimeError("handler bug")
        await asyncio.sleep(0.01 if ev.type == "StasisStart" else 0)
        self.seen.append((ev.type, ev.channel_id or ""))


class NoDeclaration:
    async def on_event(self, ev: AriEvent) -> None:
        return None


def test_event_types_is_the_union_of_what_features_declare() -> None:
    router = StasisRouter()
    router.register("inbound", Recorder())
    assert router.event_types() == ["ApplicationReplaced", "ChannelDtmfReceived", "StasisEnd", "StasisStart"]
    router.register(None, NoDeclaration())
    assert router.event_types() is None  # a feature that does not say gets every event


async def test_events_of_one_call_stay_in_order_and_a_failing_handler_does_not_stop_the_rest() -> None:
    router, rec = StasisRouter(), Recorder()
    router.register("inbound", rec)
    with capture_logs() as logs:
        await router.submit(event("StasisStart", "c1", "inbound"))  # slow
        await router.submit(event("ChannelDtmfReceived", "c1"))  # must wait for the slow one
        await router.submit(event("ChannelDtmfReceived", "boom"))  # raises: logged, not propagated
        await router.submit(event("ChannelDtmfReceived", "c2"))
        await router.drain()
    failed = [e for e in logs if e["event"] == "stasis_handler_failed"]
    assert len(failed) == 1 and failed[0]["event_type"] == "ChannelDtmfReceived" and failed[0]["key"] == "boom"
    assert rec.seen.index(("StasisStart", "c1")) < rec.seen.index(("ChannelDtmfReceived", "c1"))
    assert ("ChannelDtmfReceived", "c2") in rec.seen
