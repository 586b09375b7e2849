"""Test helpers: polling for things that arrive later (never bare sleeps), free ports."""

from __future__ import annotations

import asyncio
import json
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


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A free loopback port outside the ephemeral range (`callcenter.infra.ports`)."""
    return ports.free_port(kind)


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
