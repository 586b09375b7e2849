"""The shared background loop: rounds keep coming after a failure, which is logged."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every

log = get_logger("test")


async def test_a_failed_round_is_logged_and_the_next_one_runs() -> None:
    rounds: list[int] = []
    four = asyncio.Event()

    async def job() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 4:
            four.set()
        if len(rounds) == 2:
            raise RuntimeError("round two fails")

    with capture_logs() as logs:
        task = asyncio.create_task(every(0.001, job, log=log, failed="job_failed", at_once=True))
        await asyncio.wait_for(four.wait(), 5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    failed = [e for e in logs if e["event"] == "job_failed"]
    assert len(failed) == 1 and failed[0]["log_level"] == "error" and "exc_info" in failed[0]


async def test_quiet_failures_are_one_warning_line() -> None:
    tried = asyncio.Event()

    async def job() -> None:
        tried.set()
        raise ConnectionRefusedError("Asterisk away")

    with capture_logs() as logs:
        task = asyncio.create_task(every(0.001, job, log=log, failed="audit_failed", traceback=False))
        await asyncio.wait_for(tried.wait(), 5)
        await asyncio.sleep(0)  # the failure is logged right after the job raises
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert logs[0] == {"event": "audit_failed", "error": "Asterisk away", "log_level": "warning"}
