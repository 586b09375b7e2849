"""The throw-away redis-server and mosquitto of the fault runner (scripts/chaos/faults.py) and the
fault tests (test_lease_faults.py): one class, on a free loopback port, answering after a start
and again after a restart; closing it leaves no process and no directory behind."""

from __future__ import annotations

import os

import aiomqtt
import pytest
from helpers import until

from callcenter.infra.private_servers import PrivateServer
from callcenter.infra.redis import LiveState


async def _redis_answers(server: PrivateServer) -> None:
    live = LiveState(server.url, prefix="private")

    async def pong() -> bool:
        try:
            await live.ping()
            return True
        except Exception:
            return False
    try:
        await until(pong, what=f"redis on {server.port}")
    finally:
        await live.close()


async def _mosquitto_answers(server: PrivateServer) -> None:
    async def connects() -> bool:
        try:
            async with aiomqtt.Client("127.0.0.1", server.port, identifier="private-servers-test") as client:
                await client.publish("private/ping", b"1")
            return True
        except aiomqtt.MqttError:
            return False
    await until(connects, what=f"mosquitto on {server.port}")


def _gone(path: str) -> bool:
    return not os.path.exists(path)


@pytest.mark.parametrize("kind,answers", [("redis", _redis_answers), ("mosquitto", _mosquitto_answers)])
async def test_a_private_server_answers_after_start_and_restart_and_leaves_nothing(kind, answers):
    server = PrivateServer(kind)
    try:
        server.start()
        await answers(server)
        server.restart()
        assert server.restarts == 1
        await answers(server)
    finally:
        proc = server.proc
        server.close()
    assert proc is not None and proc.poll() is not None  # the process is gone
    assert _gone(server.dir)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="redis or mosquitto"):
        PrivateServer("postgres")
