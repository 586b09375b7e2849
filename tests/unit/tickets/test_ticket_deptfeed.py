"""The department feed on the shared hub: each socket hears only its own department's ticket
events; every socket learns when the subscription is up or lost; the feed pushes no snapshots."""

from __future__ import annotations

import json
from types import SimpleNamespace

from helpers import free_port, until

from callcenter.tickets.deptfeed import DeptFeed


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.closed = False

    async def send_str(self, text: str) -> None:
        self.sent.append(json.loads(text))

    async def close(self, **_: object) -> None:
        self.closed = True


async def test_events_go_to_their_department_only() -> None:
    feed = DeptFeed()
    market, water, hall = FakeSocket(), FakeSocket(), FakeSocket()
    feed.groups.update({"market": {market}, "water": {water}, "hall": {hall}})
    await feed.on_message("tickets/market/created", b'{"number": "PZH-1"}')
    await feed.on_message("tickets/hall/created", b'{"number": "PZH-2"}')
    await feed.on_message("tickets/market/created", b"not json")
    await feed.on_message("tickets/roads/created", b'{"number": "PZH-3"}')  # nobody watches roads
    assert market.sent == [{"type": "ticket", "topic": "tickets/market/created", "payload": {"number": "PZH-1"}}]
    assert hall.sent == [{"type": "ticket", "topic": "tickets/hall/created", "payload": {"number": "PZH-2"}}]
    assert water.sent == [] and feed.events == 4 and not feed.push
    await feed.live(False)
    assert market.sent[-1] == water.sent[-1] == hall.sent[-1] == {"type": "live", "live": False}


async def test_a_new_socket_hears_hello_and_then_live_once_the_subscription_is() -> None:
    feed = DeptFeed()
    ws = FakeSocket()
    await feed.opened(ws, "market")
    assert ws.sent == [{"type": "hello", "department": "market"}]  # not live yet: said when it is
    feed.connected.set()
    await feed.opened(ws, "market")
    assert ws.sent[-1] == {"type": "live", "live": True}


async def test_broker_down_tells_every_socket_and_keeps_retrying() -> None:
    feed = DeptFeed()
    ws = FakeSocket()
    feed.groups["market"] = {ws}
    await feed.start(SimpleNamespace(mqtt_host="127.0.0.1", mqtt_port=free_port(), mqtt_prefix="t/cc"))
    try:
        assert feed.running and [t.get_name() for t in feed._tasks] == ["tickets.dept_feed-mqtt"]
        await until(lambda: len(ws.sent) >= 2, what="two failed connections")
        assert ws.sent[:2] == [{"type": "live", "live": False}] * 2 and not feed.connected.is_set()
    finally:
        await feed.stop()
    assert ws.closed and not feed.running and not feed.groups
