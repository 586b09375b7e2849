"""Writes of the ACD (call records, agent states, live state, events) done in order, off the
call-control path: call control never waits on PostgreSQL or Redis.

One task consumes the queue. A write that fails because PostgreSQL or Redis is unreachable
(restarting, say) is retried with back-off, and the writes behind it wait: nothing is lost
and the order holds. A write that fails for any other reason (a bug, a constraint) is logged
with what it was and skipped. `flush()` waits until everything queued so far is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import redis.exceptions

from callcenter.infra.logging import get_logger

log = get_logger("acd.journal")

# the store is away (down, restarting, unreachable), not the write wrong: try again.
# asyncpg raises InternalClientError ("cannot switch to state 12; another operation is in
# progress") on a connection PostgreSQL dropped mid-statement: an outage, not a bad write
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
)


class Journal:
    def __init__(self, *, retry_first_s: float = 0.1, retry_max_s: float = 5.0) -> None:
        self._queue: asyncio.Queue[tuple[str, Callable[[], Awaitable[object]]]] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self.failures = 0  # writes given up (not an outage: a bad write)
        self.retries = 0  # attempts repeated while a store was unreachable
        self.retry_first_s, self.retry_max_s = retry_first_s, retry_max_s

    @property
    def pending(self) -> int:
        """Writes waiting for PostgreSQL/Redis (grows while one of them is away)."""
        return self._queue.qsize()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="acd-journal")

    def write(self, what: str, fn: Callable[[], Awaitable[object]]) -> None:
        self._queue.put_nowait((what, fn))

    async def flush(self) -> None:
        await self._queue.join()

    async def stop(self) -> None:
        if self._task is None:
            return
        try:
            async with asyncio.timeout(10):
                await self._queue.join()
        except TimeoutError:
            log.error("journal_not_drained", pending=self._queue.qsize())
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while True:
            what, fn = await self._queue.get()
            try:
                await self._write(what, fn)
            finally:
                self._queue.task_done()

    async def _write(self, what: str, fn: Callable[[], Awaitable[object]]) -> None:
        delay = self.retry_first_s
        while True:
            try:
                await fn()
                if delay > self.retry_first_s:
                    log.info("journal_store_back", what=what, pending=self._queue.qsize())
                return
            except asyncio.CancelledError:
                raise
            except UNREACHABLE as exc:
                self.retries += 1
                if delay == self.retry_first_s:
                    log.warning("journal_store_unreachable", what=what, error=str(exc) or type(exc).__name__,
                                pending=self._queue.qsize())
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)
            except Exception:
                self.failures += 1
                log.exception("journal_write_failed", what=what)
                return
