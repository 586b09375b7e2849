"""One active controller per Stasis app: a Redis lease decides who holds the events WebSocket.

Only one WebSocket can hold a Stasis app (a newer one replaces the older), so a standby must
never race the active controller for it. The holder renews the lease every ttl/6; a standby
polls as often and takes over once the lease lapses (the active one stopped or died).

A Redis restart empties Redis, lease included, while the holder is alive. So:
- the holder that finds the key gone (not taken by another) sets it again and keeps holding:
  it does not drop Asterisk for a second (callers refused, agents paused as missed);
- a standby takes the lease only when it has seen it vacant on two polls more than one renewal
  period apart: a live holder has set it again by then, a dead one has not;
- a holder that cannot reach Redis for longer than the ttl steps down (its lease has lapsed
  for everybody else), and takes the lease again when Redis is back if nobody else has.
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
        self.period = ttl_ms / 6000  # seconds between renewals (and between a standby's polls)
        self.held = asyncio.Event()
        self.renewals = 0  # successful renewals (tests wait on it)
        self.reclaimed = 0  # times the key had vanished under a live holder (a Redis restart)
        self._task: asyncio.Task | None = None
        self._vacant_since: float | None = None  # a standby saw the lease vacant then
        self._renewed_at = 0.0

    def start(self, on_gain: Callable[[], None], on_loss: Callable[[], None]) -> None:
        self._task = asyncio.create_task(self._run(on_gain, on_loss), name=f"lease-{self.name}")

    async def _run(self, on_gain, on_loss) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                if not self.held.is_set():
                    if await self._may_take(loop.time()) and await self.live.acquire_lease(
                            self.name, self.owner, self.ttl_ms):
                        self._gain(loop.time(), on_gain)
                elif await self._renew():
                    self._renewed_at = loop.time()
                else:
                    self._lose(on_loss, "taken by another controller")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: keep holding while the lease is surely ours
                log.warning("lease_check_failed", error=str(exc))
                self._vacant_since = None
                if self.held.is_set() and loop.time() - self._renewed_at > self.ttl_ms / 1000:
                    self._lose(on_loss, "Redis unreachable for longer than the lease")
            await asyncio.sleep(self.period)

    async def _may_take(self, now: float) -> bool:
        """Vacant on two polls more than one renewal period apart (a holder re-sets it sooner)."""
        if await self.live.lease_holder(self.name) is not None:
            self._vacant_since = None
            return False
        if self._vacant_since is None:
            self._vacant_since = now
            return False
        return now - self._vacant_since > self.period * 1.5

    async def _renew(self) -> bool:
        if await self.live.renew_lease(self.name, self.owner, self.ttl_ms):
            self.renewals += 1
            return True
        if await self.live.lease_holder(self.name) is None and await self.live.acquire_lease(
                self.name, self.owner, self.ttl_ms):
            self.reclaimed += 1
            self.renewals += 1
            log.warning("lease_reclaimed", lease=self.name, note="the key vanished (Redis restarted?)")
            return True
        return False

    def _gain(self, now: float, on_gain: Callable[[], None]) -> None:
        self._vacant_since = None
        self._renewed_at = now
        self.held.set()
        log.info("lease_acquired", lease=self.name)
        on_gain()

    def _lose(self, on_loss: Callable[[], None], why: str) -> None:
        self.held.clear()
        log.error("lease_lost", lease=self.name, why=why)
        on_loss()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.held.is_set():
            await self.live.release_lease(self.name, self.owner)
            self.held.clear()
