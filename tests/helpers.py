"""Test helpers: polling for things that arrive later (never bare sleeps), free ports."""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from callcenter.infra import ports

T = TypeVar("T")


async def until(check: Callable[[], Any | Awaitable[Any]], timeout: float = 10.0, interval: float = 0.05,
                what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; return that value or fail clearly."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        value = check()
        if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        last = value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        await asyncio.sleep(interval)


def xdist_worker() -> tuple[int, int]:
    """(this worker's index, number of workers) under pytest-xdist; (0, 1) in a plain run."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    return (int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0), max(count, 1)


class _WorkerShare(random.SystemRandom):
    """Draws from this worker's own share of a range: parallel workers pick ports from disjoint
    slices of the band, so two of them never settle on the same port between picking and binding."""

    def randrange(self, start, stop=None, step=1):  # type: ignore[override]
        if stop is None:
            start, stop = 0, start
        index, count = xdist_worker()
        width = (stop - start) // count
        if width < 1:
            return super().randrange(start, stop, step)
        low = start + index * width
        return super().randrange(low, low + width, step)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A free loopback port outside the ephemeral range (`callcenter.infra.ports`), from this
    xdist worker's share of the band."""
    return ports.free_port(kind, rng=_WorkerShare())


async def subscribe_collect(settings: Any, received: list, ready: asyncio.Event, pattern: str = "#") -> None:
    """Append (topic-without-prefix, payload) for every MQTT message under the prefix."""
    import aiomqtt

    async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port) as client:
        await client.subscribe(f"{settings.mqtt_prefix}/{pattern}", qos=1)
        ready.set()
        async for msg in client.messages:
            topic = str(msg.topic)[len(settings.mqtt_prefix) + 1:]
            try:
                payload = json.loads(msg.payload)
            except (ValueError, TypeError):
                payload = msg.payload
            received.append((topic, payload))
