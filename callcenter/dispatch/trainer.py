"""Where a model is trained: a child process. Training is tens of CPU-seconds of Python and
scikit-learn; in a thread of the controller it would hold the GIL against the event loop that
answers calls, and a stop would have to wait for it (a thread cannot be cancelled). A child
process (spawned: never a fork of a process with threads) is killed at stop instead."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from callcenter.dispatch.corpus import Corpus
from callcenter.dispatch.model import Example
from callcenter.dispatch.training import fit_corpus


class Trainer:
    """One child process per training: it exits when the training is done (nothing idles in the
    controller between retrainings, hours apart), and is killed when it is abandoned."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def fit(self, corpus: Corpus, hall: Sequence[Example] = (), **kwargs: Any) -> Any:
        """`training.fit_corpus` in a child of its own."""
        pool = self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                pool, functools.partial(fit_corpus, corpus, hall, **kwargs))
        except BaseException:  # cancelled (a stop), or the child died: nothing may go on training
            self.close()
            raise
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False)  # the child is idle: it exits
        return result

    def close(self) -> None:
        """Kill the child (a training in flight is abandoned: the model in force stays)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)
