"""MQTT: the transactional outbox relay (PostgreSQL -> broker).

Every event is first written to the `outbox` table in the same transaction as the state
change it describes (by `callcenter.infra.outbox`, the one writer); the relay publishes
pending rows in order and marks them. A broker
outage delays events and loses none; the relay reconnects with back-off.
"""

from __future__ import annotations

import asyncio
import json

import aiomqtt
import asyncpg

from callcenter.infra.logging import get_logger

log = get_logger("mqtt")


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, host: str, port: int, prefix: str, *, batch: int = 200,
                 coalesce_s: float = 0.02):
        self.pool = pool
        self.coalesce_s = coalesce_s
        self.host, self.port, self.prefix = host, port, prefix
        self.batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._listen_conn: asyncpg.Connection | None = None
        self.connected = asyncio.Event()
        self.published = 0

    def topic(self, suffix: str) -> str:
        return f"{self.prefix}/{suffix}"

    async def start(self) -> None:
        self._listen_conn = await self.pool.acquire()
        await self._listen_conn.add_listener("outbox", self._on_notify)
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop by flag first, cancel as a back-up, and never wait more than a few seconds:
        on 3.11 a cancel that lands as a timeout fires can be swallowed by the timeout."""
        self._stopping = True
        self._wake.set()
        if self._task:
            self._task.cancel()
            _done, stuck = await asyncio.wait({self._task}, timeout=5)
            if stuck:
                log.error("outbox_relay_stuck")
            self._task = None
        if self._listen_conn is not None:
            await self._listen_conn.remove_listener("outbox", self._on_notify)
            await self.pool.release(self._listen_conn)
            self._listen_conn = None

    def _on_notify(self, *_args: object) -> None:
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            try:
                async with aiomqtt.Client(self.host, self.port, identifier=None, timeout=5) as client:
                    self.connected.set()
                    backoff = 0.2
                    log.info("mqtt_connected", host=self.host, port=self.port)
                    while not self._stopping:
                        sent = await self._drain(client)
                        if sent < self.batch:
                            if self._stopping:
                                return
                            self._wake.clear()
                            try:
                                async with asyncio.timeout(1.0):
                                    await self._wake.wait()
                                # one call step writes several events: take them in one drain
                                await asyncio.sleep(self.coalesce_s)
                            except TimeoutError:
                                pass
            except asyncio.CancelledError:
                raise
            except (aiomqtt.MqttError, OSError) as exc:
                self.connected.clear()
                log.warning("mqtt_unavailable", error=str(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _drain(self, client: aiomqtt.Client) -> int:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT id, topic, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
                self.batch,
            )
            done = []
            try:
                # all at once: paho sends them in order and the acknowledgements overlap
                results = await asyncio.gather(*(client.publish(
                    self.topic(row["topic"]), json.dumps(row["payload"], ensure_ascii=False, default=str), qos=1,
                ) for row in rows), return_exceptions=True)
                done = [row["id"] for row, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)]
                failed = next((r for r in results if isinstance(r, BaseException)), None)
                if failed is not None:
                    raise failed
            finally:
                if done:
                    await conn.execute(
                        "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", done
                    )
                    self.published += len(done)
        return len(rows)

