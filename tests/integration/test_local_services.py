"""``make run``'s own brokers (callcenter/infra/local_services.py, started by scripts/setup.sh):
on their own ports, with the production setup (MQTT users and ACL, a Redis ACL user); a second
``up`` keeps the running servers; the env file it writes is what the controller logs in with;
``down`` stops them and leaves the ports free."""

from __future__ import annotations

import asyncio
import json
import shutil
import stat
import tempfile
from pathlib import Path

import aiomqtt
import pytest
import redis.asyncio as aioredis
import redis.exceptions
from helpers import free_port

from callcenter.infra.local_services import CONTROLLER, WEB, LocalServices, _answers
from callcenter.infra.settings import Settings

pytestmark = pytest.mark.timeout(90)


def env_of(path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


@pytest.fixture
def local_dir():
    """A directory like /var/lib/callcenter/local: its parents open to the mosquitto user (pytest's
    tmp_path is not), removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="local-services-"))
    base.chmod(0o755)
    yield base / "local"
    shutil.rmtree(base, ignore_errors=True)


async def test_make_runs_brokers_take_only_their_users_and_come_up_once(local_dir):
    services = LocalServices(local_dir, mqtt_port=free_port(), redis_port=free_port(), prefix="local-test")
    try:
        path = await asyncio.to_thread(services.up)
        env = env_of(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE((local_dir / "secrets.json").stat().st_mode) == 0o600
        settings = Settings(**{k.removeprefix("CALLCENTER_").lower(): v for k, v in env.items()})
        assert settings.mqtt_login("controller")["username"] == CONTROLLER
        assert settings.mqtt_login("web")["username"] == WEB
        pids = [services._pid_file(k).read_text() for k in ("mosquitto", "redis")]

        # MQTT: nobody anonymous; the web user reads what the controller publishes, not its own
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", services.mqtt_port):
                pass
        async with aiomqtt.Client("127.0.0.1", services.mqtt_port, **settings.mqtt_login("web")) as web, \
                aiomqtt.Client("127.0.0.1", services.mqtt_port, **settings.mqtt_login("controller")) as controller:
            await web.subscribe("local-test/#", qos=1)
            await web.publish("local-test/agents/1011/notice", b'{"forged": true}', qos=1)
            await controller.publish("local-test/agents/1011/state", b'{"genuine": true}', qos=1)
            async for msg in web.messages:
                assert (str(msg.topic), json.loads(msg.payload)) == ("local-test/agents/1011/state", {"genuine": True})
                break

        # Redis: its user with the password from the env file, nobody else
        good = aioredis.from_url(settings.redis_url)
        anonymous = aioredis.from_url(f"redis://127.0.0.1:{services.redis_port}/0")
        try:
            assert await good.ping()
            with pytest.raises(redis.exceptions.AuthenticationError):
                await anonymous.ping()
        finally:
            await good.aclose()
            await anonymous.aclose()

        assert env_of(await asyncio.to_thread(services.up)) == env  # a second `make run`: same servers, same credentials
        assert [services._pid_file(k).read_text() for k in ("mosquitto", "redis")] == pids
    finally:
        stopped = services.down()
    assert stopped == ["mosquitto", "redis"]
    assert not _answers(services.mqtt_port) and not _answers(services.redis_port)
