"""A background job run every so often that survives its own failures (ticker, audit, sweeper)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def every(seconds: float, job: Callable[[], Awaitable[Any]], *, log: Any, failed: str,
                at_once: bool = False, traceback: bool = True) -> None:
    """Run `job` every `seconds` (first at once, or after one interval) until cancelled. A failure
    is logged as `failed` on `log` (with its traceback, or as one warning line where failures
    are expected, e.g. Asterisk away) and the next round comes as usual."""
    if not at_once:
        await asyncio.sleep(seconds)
    while True:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed round must not end the job
            if traceback:
                log.exception(failed)
            else:
                log.warning(failed, error=str(exc) or type(exc).__name__)
        await asyncio.sleep(seconds)
