"""The controller lease under a Redis restart and a killed holder (issue 10, defect 5), on a
private redis-server of the test's own."""

from __future__ import annotations

import pytest
from helpers import until

from callcenter.infra.lease import ControllerLease
from callcenter.infra.private_servers import PrivateServer
from callcenter.infra.redis import LiveState


@pytest.fixture
async def redis_server():
    server = PrivateServer("redis")
    server.start()
    live = LiveState(server.url, prefix="faults")
    await until(_pings(live), what="private redis up")
    yield server
    await live.close()
    server.close()


def _pings(live: LiveState):
    async def check() -> bool:
        try:
            await live.ping()
            return True
        except Exception:
            return False
    return check


class Controller:
    """What the app hands the lease: take the ARI WebSocket on gain, drop it on loss."""

    def __init__(self, live: LiveState, name: str) -> None:
        self.lease = ControllerLease(live, name, ttl_ms=900)
        self.gains = self.losses = 0

    def start(self) -> None:
        self.lease.start(self._gain, self._loss)

    def _gain(self) -> None:
        self.gains += 1

    def _loss(self) -> None:
        self.losses += 1


async def test_a_redis_restart_keeps_the_active_controller_active(redis_server):
    """Defect 5: the lease key vanished with the restart, the active controller dropped its ARI
    connection and took the lease again (a second off Asterisk: callers refused)."""
    lives = [LiveState(redis_server.url, prefix="faults") for _ in range(2)]
    active, standby = Controller(lives[0], "controller:x"), Controller(lives[1], "controller:x")
    try:
        active.start()
        await until(lambda: active.lease.held.is_set(), what="active holds the lease")
        standby.start()
        for _ in range(3):
            redis_server.restart()
            await until(lambda: active.lease.reclaimed >= redis_server.restarts, timeout=15,
                        what="the active one set the vanished key again")
            mark = active.lease.renewals
            await until(lambda mark=mark: active.lease.renewals >= mark + 6, timeout=15, what="renewals after the restart")
            assert (active.losses, standby.gains) == (0, 0)
        assert await lives[1].lease_holder("controller:x") == active.lease.owner
        # the active one dies without a word (its task gone, its key left to expire): the standby takes over
        active.lease._task.cancel()
        await until(lambda: standby.lease.held.is_set(), timeout=15, what="standby takes over")
        assert standby.gains == 1
    finally:
        for c in (standby, active):
            await c.lease.stop()
        for live in lives:
            await live.close()
