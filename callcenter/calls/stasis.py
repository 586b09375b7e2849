"""ARI events in: route each event of the Stasis app to the feature that owns the channel."""

from __future__ import annotations

from typing import Protocol

from callcenter.infra.ari import AriEvent
from callcenter.infra.logging import get_logger

log = get_logger("stasis")


class Feature(Protocol):
    async def on_event(self, event: AriEvent) -> None: ...


class StasisRouter:
    """StasisStart is routed by its first argument (`inbound`, `selftest`, `feature`, ...);
    every other event goes to every feature, which ignores what it does not own."""

    def __init__(self) -> None:
        self.starters: dict[str, Feature] = {}
        self.features: list[Feature] = []

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
