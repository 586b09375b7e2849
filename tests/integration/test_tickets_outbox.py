"""Outbox replay: ticket events written while MQTT is unreachable are published later, once."""

from __future__ import annotations

import socket
from collections import Counter

from helpers import until
from tickets_support import dept, tickets_app

from callcenter.infra.mqtt import OutboxRelay


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


async def test_events_written_during_an_outage_are_published_after(settings, pool, mqtt_messages):
    async with tickets_app(settings, pool, mqtt_port=closed_port()) as api:
        assert not api.relay.connected.is_set()
        number = (await api.create())["number"]
        await api.act(number, "acknowledge", dept("market"))
        pending = await pool.fetch("SELECT topic FROM outbox WHERE published_at IS NULL ORDER BY id")
        assert [r["topic"] for r in pending] == ["tickets/hall/created", "tickets/market/dispatch",
                                                 "tickets/market/acknowledge"]
        assert not [t for t, p in mqtt_messages if isinstance(p, dict) and p.get("number") == number]

        # the broker is "back": stop the broken relay, start one pointed at the real broker
        await api.relay.stop()
        relay = OutboxRelay(pool, settings.mqtt_host, settings.mqtt_port, settings.mqtt_prefix)
        await relay.start()
        try:
            mine = lambda: [t for t, p in mqtt_messages if isinstance(p, dict) and p.get("number") == number]  # noqa: E731
            await until(lambda: len(mine()) >= 3, what="replayed ticket events")
            await until(lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"),
                        what="outbox drained")
            # events written after the recovery flow straight through
            await api.act(number, "start", dept("market"))
            await until(lambda: "tickets/market/start" in mine(), what="live event")
            assert Counter(mine()) == Counter(["tickets/hall/created", "tickets/market/dispatch",
                                               "tickets/market/acknowledge", "tickets/market/start"])
            order = [p["event"] for t, p in mqtt_messages if isinstance(p, dict) and p.get("number") == number]
            assert order == ["created", "dispatch", "acknowledge", "start"]
        finally:
            await relay.stop()
