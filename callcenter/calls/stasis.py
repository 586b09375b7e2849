"""ARI events in: route each event of the Stasis app to the feature that owns the channel."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from callcenter.infra.ari import AriEvent
from callcenter.infra.logging import get_logger

log = get_logger("stasis")


class Feature(Protocol):
    """`EVENTS` (optional): the event types the feature handles; see `StasisRouter.event_types`."""

    async def on_event(self, event: AriEvent) -> None: ...


class StasisRouter:
    """StasisStart is routed by its first argument (`inbound`, `selftest`, `feature`, ...);
    every other event goes to every feature, which ignores what it does not own.

    Events of one call are handled strictly in order; different calls are handled
    concurrently, so a slow ARI request for one call never holds up the others. The call an
    event belongs to comes from the keyer (`key_by`: the ACD maps its legs to a call id)."""

    def __init__(self) -> None:
        self.starters: dict[str, Feature] = {}
        self.features: list[Feature] = []
        self.keyer: Callable[[str], str] = lambda channel_id: channel_id
        self._tails: dict[str, asyncio.Task] = {}

    def key_by(self, keyer: Callable[[str], str]) -> None:
        """Key events by `keyer(channel_id)` (the call a channel is a leg of) from now on."""
        self.keyer = keyer

    def key_of(self, event: AriEvent) -> str:
        args = event.args
        if event.type == "StasisStart" and len(args) > 1 and args[0] in ("agent", "cbagent", "citizen"):
            return args[1]
        channel = event.channel_id
        if channel is None:
            target = str((event.raw.get("playback") or {}).get("target_uri", ""))
            channel = target.partition(":")[2] if target.startswith("channel:") else None
        return self.keyer(channel) if channel else f"~{event.type}"

    async def submit(self, event: AriEvent) -> None:
        """Queue the event behind earlier events of the same call; returns at once."""
        self.in_order(self.key_of(event), lambda: self.handle(event), event.type)

    def in_order(self, key: str, job: Callable[[], Awaitable[None]], what: str = "job") -> None:
        """Run `job` after everything already queued for call `key` (timers use this too, so
        they never race the call's events)."""
        previous = self._tails.get(key)
        task = asyncio.create_task(self._after(previous, job, key, what))
        self._tails[key] = task

    async def _after(self, previous: asyncio.Task | None, job: Callable[[], Awaitable[None]], key: str,
                     what: str) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        try:
            await job()
        except Exception:
            log.exception("stasis_handler_failed", event_type=what, key=key)
        finally:
            if self._tails.get(key) is asyncio.current_task():
                del self._tails[key]

    async def drain(self) -> None:
        while self._tails:
            await asyncio.gather(*list(self._tails.values()), return_exceptions=True)

    def event_types(self) -> list[str] | None:
        """The event types some feature handles, for Asterisk's per-app event filter: most events
        (ChannelVarset, ChannelDialplan, ...) are not needed and were ~80% of the stream. None
        (no filter) if a feature does not say what it handles."""
        wanted = {"StasisStart", "StasisEnd", "ApplicationReplaced"}
        for f in self.features:
            events = getattr(f, "EVENTS", None)
            if events is None:
                return None
            wanted |= events
        return sorted(wanted)

    def register(self, kind: str | None, feature: Feature) -> None:
        if kind is not None:
            self.starters[kind] = feature
        if feature not in self.features:
            self.features.append(feature)

    async def handle(self, event: AriEvent) -> None:
        if event.type == "StasisStart":
            args = event.args
            feature = self.starters.get(args[0]) if args else None
            if feature is None:
                # an originated leg (agent, callback) carries no args: its owner claims it
                for f in self.features:
                    await f.on_event(event)
                return
            await feature.on_event(event)
            return
        for f in self.features:
            await f.on_event(event)
