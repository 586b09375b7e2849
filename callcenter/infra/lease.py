"""One active controller per Stasis app: a Redis lease decides who holds the events WebSocket.

Only one WebSocket can hold a Stasis app (a newer one replaces the older), so a standby must
never race the active controller for it. The holder renews the lease every ttl/3; a standby
polls and takes over once the lease lapses (the active one stopped or died).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from callcenter.infra.logging import get_logger
from callcenter.infra.redis import LiveState

log = get_logger("lease")


class ControllerLease:
    def __init__(self, live: LiveState, name: str, *, ttl_ms: int = 3000):
        self.live = live
        self.name = name
        self.owner = uuid.uuid4().hex
        self.ttl_ms = ttl_ms
        self.held = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self, on_gain: Callable[[], None], on_loss: Callable[[], None]) -> None:
        self._task = asyncio.create_task(self._run(on_gain, on_loss), name=f"lease-{self.name}")

    async def _run(self, on_gain, on_loss) -> None:
        period = self.ttl_ms / 3000
        while True:
            try:
                if not self.held.is_set():
                    if await self.live.acquire_lease(self.name, self.owner, self.ttl_ms):
                        self.held.set()
                        log.info("lease_acquired", lease=self.name)
                        on_gain()
                elif not await self.live.renew_lease(self.name, self.owner, self.ttl_ms):
                    self.held.clear()
                    log.error("lease_lost", lease=self.name)
                    on_loss()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis hiccup: keep trying; a lapse hands over safely
                log.warning("lease_check_failed", error=str(exc))
            await asyncio.sleep(period)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.held.is_set():
            await self.live.release_lease(self.name, self.owner)
            self.held.clear()
