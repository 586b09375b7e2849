"""Where a model is trained: a child process. Training is tens of CPU-seconds of Python and
scikit-learn; in a thread of the controller it would hold the GIL against the event loop that
answers calls, and a stop would have to wait for it (a thread cannot be cancelled). A child
process (spawned: never a fork of a process with threads) is killed at stop instead."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from callcenter.dispatch.training import fit


class Trainer:
    """One child process, started at the first training and kept for the next ones."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def fit(self, *args: Any, **kwargs: Any) -> Any:
        """`training.fit` in the child; a child that died (killed, out of memory) is replaced
        by the next call."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fit, *args, **kwargs))
        except BrokenProcessPool:
            self.close()
            raise

    def close(self) -> None:
        """Kill the child (a training in flight is abandoned: the model in force stays)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)
