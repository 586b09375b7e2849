"""Writes of the ACD (call records, agent states, live state, events) done in order, off the
call-control path: call control never waits on PostgreSQL or Redis.

One task consumes the queue; a failed write is logged with what it was and does not stop the
writes after it. `flush()` waits until everything queued so far is written (tests, shutdown).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from callcenter.infra.logging import get_logger

log = get_logger("acd.journal")


class Journal:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[tuple[str, Callable[[], Awaitable[object]]]] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self.failures = 0

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
                await fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                log.exception("journal_write_failed", what=what)
            finally:
                self._queue.task_done()
