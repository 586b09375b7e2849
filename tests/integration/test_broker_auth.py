"""MQTT and Redis accept only their users (#25 item 3), on real servers:

- the whole controller against its own Mosquitto with a password file and the ACL of
  :mod:`callcenter.infra.broker_auth`: an anonymous client is refused, the web tier's user (and any
  user that is not the controller) cannot publish on ``<prefix>/agents/+/…``, a wrong password is
  refused, and what the controller's user publishes reaches the agent's desk WebSocket;
- on the suite's ordinary (anonymous) test broker, a forged or odd-shaped message on a topic the
  desk takes is not forwarded to the desk's WebSocket, and one the desk does not take is not either;
- a Redis with one ACL user: the right password answers, none and a wrong one are refused with
  Redis's own words, and the controller's doctor says which setting to check.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import aiomqtt
import pytest
import redis.exceptions
from accounts_support import Sessions
from aiohttp import web
from helpers import until

from callcenter.infra.broker_auth import MqttUsers
from callcenter.infra.outbox import write_with_event
from callcenter.infra.private_servers import PrivateServer
from callcenter.infra.redis import LiveState

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(120)]

FORGED = {"type": "final", "call_id": "c1", "leg": "agent", "speaker": "坐席", "seq": 1, "start": 0, "end": 1,
          "text": "请把市民的身份证号读给我", "status": "ok"}


def state_of(agent_id: str, state: str = "paused", reason: str = "genuine") -> dict[str, Any]:
    return {"agent_id": agent_id, "seat_id": "seat11", "team": "C", "skills": ["general"], "state": state,
            "since": "2026-12-07T04:00:00+00:00", "call_id": None, "reason": reason}


async def desk_socket(http: aiohttp.ClientSession, base: str, headers: dict[str, str], agent_id: str):
    return await http.ws_connect(f"{base}/ws/agent/{agent_id}", headers={"Cookie": headers["Cookie"], "Origin": base})


async def until_live(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Ask for the desk's document until it says the hub's subscription is up."""
    for _ in range(100):
        await ws.send_str('{"type":"refresh"}')
        while True:
            msg = await ws.receive_json(timeout=10)
            if msg.get("type") == "agent":
                break
        if msg["live"]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the desk never became live (the hub could not subscribe)")


async def events_until(ws: aiohttp.ClientWebSocketResponse, last_reason: str) -> list[dict[str, Any]]:
    """Every raw event the desk gets, up to the agent state whose reason is ``last_reason``."""
    got = []
    while True:
        msg = await ws.receive_json(timeout=15)
        if msg.get("type") == "event":
            got.append(msg)
            if msg["payload"].get("reason") == last_reason:
                return got


async def publish(port: int, topic: str, payload: Any, **login: Any) -> None:
    async with aiomqtt.Client("127.0.0.1", port, **login) as client:
        await client.publish(topic, json.dumps(payload, ensure_ascii=False), qos=1)  # PUBACK: the broker has it


@pytest.fixture
async def broker(settings):
    users = MqttUsers(settings.mqtt_prefix, "cc-controller", "controller-pw-1", "cc-web", "web-pw-1")
    server = PrivateServer("mosquitto", mqtt_users=users)
    server.start()

    async def answers() -> bool:
        try:
            async with aiomqtt.Client("127.0.0.1", server.port, username=users.web, password=users.web_password):
                return True
        except aiomqtt.MqttError:
            return False
    try:
        await until(answers, what="the private mosquitto")
        yield server, users
    finally:
        server.close()


async def test_only_the_controller_publishes_and_the_desk_gets_what_it_published(
        broker, settings, database, asterisk, pool, live):
    from callcenter.app import STATE, build_app

    server, users = broker
    mine = settings.model_copy(update={"mqtt_port": server.port, "mqtt_username": users.controller,
                                       "mqtt_password": users.controller_password,
                                       "mqtt_web_username": users.web, "mqtt_web_password": users.web_password})
    runner = web.AppRunner(build_app(mine))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", mine.http_port).start()
    base = f"http://127.0.0.1:{mine.http_port}"
    prefix = mine.mqtt_prefix
    try:
        app = runner.app
        await asyncio.wait_for(app[STATE]["relay"].connected.wait(), 15)  # the relay logged in as the controller
        desk = await Sessions(pool, base).headers("agent:1011")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            ws = await desk_socket(http, base, desk, "1011")
            await until_live(ws)  # the hub logged in as the web tier and its subscription was granted

            # (a) anonymous: the broker refuses the connection, so nothing can be published
            with pytest.raises(aiomqtt.MqttError):
                await publish(server.port, f"{prefix}/agents/1011/notice", FORGED)
            with pytest.raises(aiomqtt.MqttError):  # nor with a wrong password for the controller's name
                await publish(server.port, f"{prefix}/agents/1011/state", state_of("1011", reason="forged"),
                              username=users.controller, password="guess")
            # (b) a user that is not the controller (the web tier's own) publishes: the ACL drops it
            await publish(server.port, f"{prefix}/agents/1011/notice", FORGED,
                          username=users.web, password=users.web_password)
            await publish(server.port, f"{prefix}/agents/1011/state", state_of("1011", reason="forged by web"),
                          username=users.web, password=users.web_password)
            # (c) the controller's user publishes: the desk gets it (and, being later, after any forgery);
            # once by hand, once the product's way: an outbox row the relay publishes as the controller
            await publish(server.port, f"{prefix}/agents/1011/state", state_of("1011", reason="by hand"),
                          username=users.controller, password=users.controller_password)
            await write_with_event(pool, [], [], "agents/1011/state", state_of("1011"))
            got = await events_until(ws, "genuine")
            await ws.close()
        assert [(m["topic"], m["payload"]["reason"]) for m in got] == [("agents/1011/state", "by hand"),
                                                                       ("agents/1011/state", "genuine")]
        assert got[1]["payload"]["outbox_id"] > 0
    finally:
        await runner.cleanup()


async def test_a_refused_login_is_an_error_naming_the_settings(broker, settings):
    """A hub with the web tier's name and a wrong password is refused; it says so, naming the
    settings to check, keeps retrying and tells its pages they are not live."""
    from structlog.testing import capture_logs

    from callcenter.tickets.deptfeed import DeptFeed

    server, users = broker
    wrong = settings.model_copy(update={"mqtt_port": server.port, "mqtt_web_username": users.web,
                                        "mqtt_web_password": "guess"})
    feed = DeptFeed()
    with capture_logs() as logs:
        await feed.start(wrong)
        try:
            await until(lambda: [e for e in logs if e["event"] == "mqtt_login_refused"], what="the refusal logged")
        finally:
            await feed.stop()
    refused = next(e for e in logs if e["event"] == "mqtt_login_refused")
    assert refused["log_level"] == "error" and refused["user"] == users.web
    assert refused["check"] == "CALLCENTER_MQTT_WEB_USERNAME / CALLCENTER_MQTT_WEB_PASSWORD"
    assert "guess" not in str(logs) and not feed.connected.is_set()


async def test_forged_and_odd_shaped_events_on_the_test_broker_never_reach_a_desk(stack, settings, pool):
    base = f"http://127.0.0.1:{settings.http_port}"
    prefix, port = settings.mqtt_prefix, settings.mqtt_port
    desk = await Sessions(pool, base).headers("agent:1011")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        ws = await desk_socket(http, base, desk, "1011")
        await until_live(ws)
        for topic, payload in [
            ("agents/1011/notice", FORGED),  # the finding: a topic nobody publishes, forwarded unchanged
            ("agents/1011/state", FORGED),  # the desk's own topic, another shape
            ("agents/1011/state", state_of("1012", reason="another agent's")),
            ("agents/1011/state", state_of("1011", state="<b>boss</b>", reason="bad state")),
            ("agents/1011/state", [state_of("1011", reason="in a list")]),
        ]:
            await publish(port, f"{prefix}/{topic}", payload)
        async with aiomqtt.Client("127.0.0.1", port) as client:
            await client.publish(f"{prefix}/agents/1011/state", b"\xff not JSON", qos=1)
        # the control, later: a well-formed state (the test broker takes anyone's)
        await publish(port, f"{prefix}/agents/1011/state", {**state_of("1011"), "html": "<img src=x>"})
        got = await events_until(ws, "genuine")
        await ws.close()
    assert [(m["topic"], m["payload"]["reason"]) for m in got] == [("agents/1011/state", "genuine")]
    assert "html" not in got[0]["payload"]  # forwarded as validated, not as received


async def test_redis_answers_its_user_only_and_says_why_not():
    from callcenter.doctor import FIX, _redis
    from callcenter.infra.settings import Settings

    server = PrivateServer("redis", redis_login=("callcenter", "redis-pw-1"))
    server.start()
    try:
        good = LiveState(server.url, prefix="auth")
        try:
            await until(lambda: _pings(good), what="the private redis")
            await good.put("agents", "1011", {"state": "paused"})
            assert (await good.all("agents")) == {"1011": {"state": "paused"}}
        finally:
            await good.close()
        anonymous = f"redis://127.0.0.1:{server.port}/0"
        wrong = f"redis://callcenter:guess@127.0.0.1:{server.port}/0"
        default_user = f"redis://:redis-pw-1@127.0.0.1:{server.port}/0"  # the password without the user
        for url, words in ((anonymous, "HELLO must be called with the client already authenticated"),
                           (wrong, "invalid username-password pair"), (default_user, "invalid username-password pair")):
            state = LiveState(url, prefix="auth")
            try:
                with pytest.raises(redis.exceptions.AuthenticationError, match=words):
                    await state.ping()
            finally:
                await state.close()
        # what `callcenter doctor` (and the controller's start) says: who was refused, which setting
        with pytest.raises(RuntimeError) as err:
            await _redis(Settings(redis_url=wrong))
        assert str(err.value).startswith(f"Redis at 127.0.0.1:{server.port} refused user 'callcenter': check "
                                         "the user and password in CALLCENTER_REDIS_URL")
        assert "guess" not in str(err.value)
        with pytest.raises(RuntimeError, match="refused a client without a password"):
            await _redis(Settings(redis_url=anonymous))
        assert "CALLCENTER_REDIS_URL" in FIX["redis"]
    finally:
        server.close()


async def _pings(state: LiveState) -> bool:
    try:
        return await state.ping()
    except (redis.exceptions.ConnectionError, OSError):
        return False
