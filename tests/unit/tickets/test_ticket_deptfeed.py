"""The department feed on the shared hub: each socket hears only its own department's ticket
events; every socket learns when the subscription is up or lost; the feed pushes no snapshots."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from helpers import free_port, until

from callcenter.infra.settings import Settings
from callcenter.tickets import notifier
from callcenter.tickets.deptfeed import DeptFeed
from callcenter.tickets.model import Action, Kind
from callcenter.tickets.transitions import apply, new_ticket

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def event(number: str, lead: str | None, name: str = "created") -> tuple[str, dict]:
    """A real ticket event as the notifier writes it (topic, payload), for a ticket led by ``lead``."""
    t = new_ticket(kind=Kind.COMPLAINT, created_at=T0, caller_phone="13812345678", category="城市管理", number=number)
    if lead:
        e = apply(t, Action.DISPATCH, at=T0, actor="agent-1", lead=lead, assisting=[])
        return notifier.transition_message(t, e) if name == "dispatch" else \
            notifier.notice_message(t, name, actor="agent-1", at=T0)
    return notifier.notice_message(t, name, actor="agent-1", at=T0)


def raw(message: tuple[str, dict]) -> tuple[str, bytes]:
    topic, payload = message
    return topic, json.dumps({**payload, "outbox_id": 7}, ensure_ascii=False).encode()


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
    one, two, three = (event("PZH-20260302-000001", "market", "dispatch"), event("PZH-20260302-000002", None),
                       event("PZH-20260302-000003", "roads", "updated"))
    assert [one[0], two[0], three[0]] == ["tickets/market/dispatch", "tickets/hall/created", "tickets/roads/updated"]
    await feed.on_message(*raw(one))
    await feed.on_message(*raw(two))
    await feed.on_message("tickets/market/created", b"not json")
    await feed.on_message(*raw(three))  # nobody watches roads
    assert [(m["topic"], m["payload"]["number"], m["payload"]["outbox_id"]) for m in market.sent] == [
        ("tickets/market/dispatch", "PZH-20260302-000001", 7)]
    assert market.sent[0]["payload"]["lead_department"] == "market"
    assert [(m["topic"], m["payload"]["number"]) for m in hall.sent] == [("tickets/hall/created", "PZH-20260302-000002")]
    assert water.sent == [] and feed.events == 4 and not feed.push
    await feed.live(False)
    assert market.sent[-1] == water.sent[-1] == hall.sent[-1] == {"type": "live", "live": False}


async def test_forged_or_odd_shaped_ticket_events_are_not_forwarded() -> None:
    feed = DeptFeed()
    market = FakeSocket()
    feed.groups["market"] = {market}
    topic, good = event("PZH-20260302-000001", "market", "updated")
    before = feed.relay.dropped
    for payload in ({"number": "PZH-1"},  # the shape of a hand-made message
                    {**good, "lead_department": "water"},  # another department's ticket on market's topic
                    {**good, "event": "created"},  # the payload says another event than its topic
                    {**good, "number": "<script>alert(1)</script>"},
                    {**good, "status": "deleted"},
                    [good], "text"):
        await feed.on_message(topic, json.dumps(payload, ensure_ascii=False).encode())
    await feed.on_message("tickets/market/drop_table", json.dumps({**good, "event": "drop_table"}).encode())
    assert market.sent == [] and feed.relay.dropped - before == 8
    await feed.on_message(topic, json.dumps({**good, "html": "<b>x</b>"}, ensure_ascii=False).encode())
    assert len(market.sent) == 1 and "html" not in market.sent[0]["payload"]


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
    await feed.start(Settings(mqtt_host="127.0.0.1", mqtt_port=free_port(), mqtt_prefix="t/cc"))
    try:
        assert feed.running and [t.get_name() for t in feed._tasks] == ["tickets.dept_feed-mqtt"]
        await until(lambda: len(ws.sent) >= 2, what="two failed connections")
        assert ws.sent[:2] == [{"type": "live", "live": False}] * 2 and not feed.connected.is_set()
    finally:
        await feed.stop()
    assert ws.closed and not feed.running and not feed.groups
