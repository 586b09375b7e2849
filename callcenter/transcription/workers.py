"""Worker threads with priorities: audio that is only gated and spooled first (cheap), then
citizen lanes, then agent lanes, then the deferred backlog. With a plain thread pool, a citizen's final could wait behind agent audio that is
allowed to be late; here a free worker always takes the most urgent job. Jobs are Vosk calls,
which release the GIL, so the threads really run side by side (scripts/bench/gil_vosk.py)."""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

CHEAP, CITIZEN, AGENT, BACKLOG = 0, 1, 2, 3  # CHEAP: VAD and spooling only, microseconds a frame


class PriorityPool:
    def __init__(self, workers: int, name: str = "vosk"):
        self._q: queue.PriorityQueue = queue.PriorityQueue()
        self._seq = itertools.count()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, priority: int, fn: Callable[..., Any], *args: Any) -> Future:
        fut: Future = Future()
        self._q.put((priority, next(self._seq), fut, fn, args))
        return fut

    def _work(self) -> None:
        while True:
            _prio, _n, fut, fn, args = self._q.get()
            if fut is None:
                return
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # handed to the awaiting coroutine
                fut.set_exception(exc)

    def shutdown(self) -> None:
        for _ in self._threads:
            self._q.put((99, next(self._seq), None, None, ()))
        for t in self._threads:
            t.join()
