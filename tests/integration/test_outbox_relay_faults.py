"""The outbox relay under faults: a standby's relay running beside the active one, and
PostgreSQL dropping the relay's LISTEN connection (issue 10, defects 1 and 7)."""

from __future__ import annotations

import asyncio
import collections

from helpers import until

from callcenter.infra import outbox
from callcenter.infra.mqtt import OutboxRelay


def _relay(settings, pool) -> OutboxRelay:
    return OutboxRelay(pool, settings.mqtt_host, settings.mqtt_port, settings.mqtt_prefix, batch=25)


async def _write(pool, n: int, tag: str) -> None:
    for i in range(0, n, 10):
        await outbox.write(pool, [(f"faults/{tag}/{j}", {"n": j}) for j in range(i, min(i + 10, n))])


async def test_two_relays_publish_every_event_once_and_in_order(settings, pool, mqtt_messages):
    """Defect 1: every controller process runs a relay; two relays took the same rows and
    published 690 of 694 events twice."""
    relays = [_relay(settings, pool), _relay(settings, pool)]
    for r in relays:
        await r.start()
    try:
        await asyncio.gather(_write(pool, 300, "a"), _write(pool, 300, "b"))
        await until(lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"),
                    timeout=30, what="every row published")
        await until(lambda: len([t for t, _ in mqtt_messages if t.startswith("faults/")]) >= 600, timeout=30,
                    what="600 events received")
    finally:
        for r in relays:
            await r.stop()
    assert sum(r.published for r in relays) == 600
    mine = [(t, p) for t, p in mqtt_messages if t.startswith("faults/")]
    counts = collections.Counter(t for t, _ in mine)
    assert [t for t, n in counts.items() if n > 1] == []
    for tag in ("a", "b"):  # each writer's events arrive in the order written
        assert [p["n"] for t, p in mine if t.startswith(f"faults/{tag}/")] == list(range(300))
    ids = [p["outbox_id"] for _, p in mine]  # the dedup key a consumer can use, and the order
    assert ids == sorted(ids) and len(set(ids)) == 600


async def test_relay_listens_again_after_postgresql_drops_its_connection(settings, pool, mqtt_messages):
    """Defect 7: after a PostgreSQL restart the LISTEN connection was never opened again and
    every event waited for the one-second poll for the rest of the process."""
    relay = _relay(settings, pool)
    await relay.start()
    try:
        await asyncio.wait_for(relay.connected.wait(), 10)
        pid = relay._listen_conn.get_server_pid()
        assert await pool.fetchval("SELECT pg_terminate_backend($1)", pid)
        await until(lambda: relay.listens == 2, what="LISTEN opened again")
        listening = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'LISTEN%'",
            relay._listen_conn.get_server_pid())
        assert listening == 1
        before = relay.notified
        await _write(pool, 1, "after")
        await until(lambda: relay.notified > before, what="the NOTIFY reaching the relay again")
        await until(lambda: any(t == "faults/after/0" for t, _ in mqtt_messages), what="event after the drop")
    finally:
        await relay.stop()
