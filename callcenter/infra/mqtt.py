"""MQTT: the transactional outbox relay (PostgreSQL -> broker).

Every event is first written to the `outbox` table in the same transaction as the state
change it describes (by `callcenter.infra.outbox`, the one writer); the relay publishes
pending rows in order and marks them. A broker
outage delays events and loses none; the relay reconnects with back-off.

Every controller process runs a relay (the standby too), so a drain takes a transaction-level
advisory lock first: one relay drains at a time, the rows it publishes are marked in the same
transaction, and the events go out once and in id order whichever process holds the lock. The
promise is exactly-once while PostgreSQL stays up; a row published just before PostgreSQL went
away is published again (its payload carries the outbox id, `outbox_id`, for consumers to drop
a repeat). The LISTEN connection is watched: when PostgreSQL drops it, it is opened again, so
events keep going out within milliseconds rather than on the one-second poll.
"""

from __future__ import annotations

import asyncio
import json

import aiomqtt
import asyncpg
from aiomqtt.exceptions import MqttConnectError

from callcenter.infra.logging import get_logger

log = get_logger("mqtt")

DRAIN_LOCK = 0x12345_0B0C  # pg advisory lock key: one relay drains the outbox at a time
_REFUSED = {4, 5, 0x86, 0x87}  # CONNACK: bad user name or password, not authorised (3.1.1 and 5)


def login_refused(exc: BaseException) -> bool:
    """The broker refused this client's user or password (not a broker that is away)."""
    rc = getattr(exc, "rc", None)
    return isinstance(exc, MqttConnectError) and getattr(rc, "value", rc) in _REFUSED


def describe(exc: BaseException) -> str:
    """One line for a log (aiomqtt's connect errors have an empty str())."""
    return str(exc) or f"{type(exc).__name__}: {getattr(exc, 'rc', '')}"


def log_failure(logger, exc: BaseException, *, user: str | None, settings: str, retry_in: float) -> None:
    """A refused login is an error naming the settings to check; anything else a warning."""
    if login_refused(exc):
        logger.error("mqtt_login_refused", user=user or "(anonymous)", check=settings, retry_in=retry_in)
    else:
        logger.warning("mqtt_unavailable", error=describe(exc), retry_in=retry_in)


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, host: str, port: int, prefix: str, *, batch: int = 200,
                 coalesce_s: float = 0.02, username: str | None = None, password: str | None = None):
        self.pool = pool
        self.login = {"username": username, "password": password}  # the controller's broker user
        self.coalesce_s = coalesce_s
        self.host, self.port, self.prefix = host, port, prefix
        self.batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._listen_conn: asyncpg.Connection | None = None
        self.connected = asyncio.Event()
        self.published = 0
        self.listens = 0  # LISTEN connections opened (1, plus one after each loss)
        self.notified = 0  # NOTIFYs received

    def topic(self, suffix: str) -> str:
        return f"{self.prefix}/{suffix}"

    async def start(self) -> None:
        await self._listen()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def _listen(self) -> None:
        conn = await self.pool.acquire()
        try:
            await conn.add_listener("outbox", self._on_notify)
        except BaseException:
            await self.pool.release(conn)
            raise
        conn.add_termination_listener(self._on_listen_lost)
        self._listen_conn = conn
        self.listens += 1

    def _on_listen_lost(self, conn: asyncpg.Connection) -> None:
        """PostgreSQL dropped the LISTEN connection (a restart, a terminated backend): give it
        back to the pool and open another on the relay's next round."""
        if conn is self._listen_conn:
            self._listen_conn = None
            log.warning("outbox_listen_lost")
            asyncio.get_running_loop().create_task(self._release(conn))
            self._wake.set()

    async def _release(self, conn: asyncpg.Connection) -> None:
        try:
            await self.pool.release(conn)
        except Exception as exc:  # a terminated connection: the pool replaces it
            log.debug("outbox_listen_release_failed", error=str(exc))

    async def _relisten(self) -> None:
        if self._listen_conn is None and not self._stopping:
            try:
                await self._listen()
                log.info("outbox_listen_back")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("outbox_listen_failed", error=str(exc))

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
        conn, self._listen_conn = self._listen_conn, None
        if conn is not None:
            conn.remove_termination_listener(self._on_listen_lost)
            try:
                await conn.remove_listener("outbox", self._on_notify)
            finally:
                await self.pool.release(conn)

    def _on_notify(self, *_args: object) -> None:
        self.notified += 1
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            try:
                async with aiomqtt.Client(self.host, self.port, identifier=None, timeout=5, **self.login) as client:
                    self.connected.set()
                    backoff = 0.2
                    log.info("mqtt_connected", host=self.host, port=self.port)
                    while not self._stopping:
                        await self._relisten()
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
                log_failure(log, exc, user=self.login["username"], retry_in=backoff,
                            settings="CALLCENTER_MQTT_USERNAME / CALLCENTER_MQTT_PASSWORD")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _drain(self, client: aiomqtt.Client) -> int:
        """Publish pending rows in id order, under the drain lock (0 when another relay holds it)."""
        failed: BaseException | None = None
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", DRAIN_LOCK):
                return 0
            rows = await conn.fetch(
                "SELECT id, topic, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
                self.batch,
            )
            # all at once: paho sends them in order and the acknowledgements overlap
            results = await asyncio.gather(*(client.publish(
                self.topic(row["topic"]), self._payload(row), qos=1,
            ) for row in rows), return_exceptions=True)
            done = [row["id"] for row, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)]
            failed = next((r for r in results if isinstance(r, BaseException)), None)
            if done:
                await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", done)
        self.published += len(done)
        if failed is not None:
            raise failed
        return len(rows)

    @staticmethod
    def _payload(row: asyncpg.Record) -> str:
        payload = row["payload"]
        if isinstance(payload, dict):
            payload = {**payload, "outbox_id": row["id"]}
        return json.dumps(payload, ensure_ascii=False, default=str)
