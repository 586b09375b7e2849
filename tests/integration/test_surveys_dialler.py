"""The dialler on the sandbox: missed-call callbacks (漏话回拨) after a real abandon in the ACD
queue, cancelled when the caller calls back first; two diallers never dial the same attempt;
kill -9 mid-campaign resumes with no lost or repeated attempt; inbound load pauses outbound."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from acd_support import Phone
from helpers import until
from surveys_support import citizen, distinct_job_ids, job_state, resolved_ticket, survey_config, surveys_on

from callcenter.app import STATE
from callcenter.surveys.dialler import inbound_waiting
from callcenter.surveys.plugin import build
from callcenter.surveys.stasis import SurveyCalls

pytestmark = pytest.mark.asterisk


async def abandoned(pool, call_id: str) -> None:
    await until(lambda: pool.fetchval("SELECT disposition = 'abandoned' FROM calls WHERE call_id = $1", call_id),
                timeout=20, what=f"{call_id} abandoned")


async def test_missed_call_is_called_back(stack, pool):
    call_id = await Phone(stack).call(caller="13900000021", hold_for=2)  # no agent: gives up after 2 s
    await abandoned(pool, call_id)
    await citizen(stack, "13900000021")
    s = await surveys_on(stack)
    await until(lambda: _tick_until(s, pool, "SELECT state = 'done' FROM survey_jobs WHERE call_id = $1", call_id),
                timeout=30, what="missed call reached")
    s.calls.close()
    job = await pool.fetchrow("SELECT * FROM survey_jobs WHERE call_id = $1", call_id)
    assert (job["kind"], job["phone"], job["attempts"]) == ("missed", "13900000021", 1)
    assert await pool.fetchval("SELECT outcome FROM survey_attempts WHERE job_id = $1", job["id"]) == "completed"


async def _tick_until(s, pool, sql: str, *args) -> bool:
    await s.dialler.tick()
    return bool(await pool.fetchval(sql, *args))


async def test_missed_call_cancelled_when_the_caller_calls_back_first(stack, pool):
    phone = Phone(stack)
    first = await phone.call(caller="13900000022", hold_for=2)
    await abandoned(pool, first)
    s = await surveys_on(stack)
    await s.dialler.scheduler.run(datetime.now(UTC))
    job = await pool.fetchrow("SELECT * FROM survey_jobs WHERE call_id = $1", first)
    assert job["state"] == "pending"
    second = await phone.call(caller="13900000022", hold_for=60)  # calls in again before the callback
    await until(lambda: pool.fetchval("SELECT count(*) = 1 FROM calls WHERE call_id = $1", second))
    await s.dialler.tick()
    job = await job_state(pool, job["id"], "cancelled")
    assert job["reason"] == "已再次来电" and s.dialler.dialled == 0
    await phone.hangup(second)
    s.calls.close()


class Both:
    """Hands the survey legs' events to two diallers' call handlers (as one Stasis app would
    to whichever controller owns the leg): each ignores the legs it did not dial."""

    EVENTS = SurveyCalls.EVENTS

    def __init__(self, *calls: SurveyCalls) -> None:
        self.calls = calls

    async def on_event(self, event) -> None:
        for c in self.calls:
            await c.on_event(event)


async def test_two_diallers_never_dial_the_same_attempt(stack, pool):
    ctx = stack[STATE]["ctx"]
    phones = [f"1380000{i:04d}" for i in range(100, 108)]
    for p in phones:
        await resolved_ticket(stack, p)
        await citizen(stack, p, dtmf="11")
    cfg = survey_config(max_concurrent=3)
    await distinct_job_ids(pool)
    a, b = build(ctx, cfg, None, worker="dialler-a"), build(ctx, cfg, None, worker="dialler-b")
    ctx.router.register("survey", Both(a.calls, b.calls))
    await ctx.ari.filter_events(ctx.router.event_types())
    await a.dialler.scheduler.run(datetime.now(UTC))
    for _ in range(40):
        await asyncio.gather(a.dialler.tick(), b.dialler.tick())
        if await pool.fetchval("SELECT count(*) FROM survey_jobs WHERE state = 'done'") == len(phones):
            break
        await asyncio.sleep(0.5)
    a.calls.close()
    b.calls.close()
    rows = await pool.fetch("SELECT job_id, n, worker, claimed_at, ended_at, outcome FROM survey_attempts")
    assert len(rows) == len(phones) == a.dialler.dialled + b.dialler.dialled
    assert len({r["job_id"] for r in rows}) == len(phones)  # one attempt per job, none twice
    assert a.dialler.dialled > 0 and b.dialler.dialled > 0
    assert all(r["outcome"] == "completed" for r in rows)
    for worker in ("dialler-a", "dialler-b"):  # the concurrency limit held for each dialler
        spans = [(r["claimed_at"], r["ended_at"]) for r in rows if r["worker"] == worker]
        assert max(sum(s <= t < e for s, e in spans) for t, _ in spans) <= 3


async def test_kill_9_mid_campaign_resumes_without_lost_or_repeated_attempts(stack, pool, settings):
    phones = ["13800000201", "13800000202", "13800000203"]
    for p in phones:
        await resolved_ticket(stack, p)
        await citizen(stack, p, dtmf="11", hold=60)
    s = await surveys_on(stack, survey_config(lease_s=30))
    await s.dialler.scheduler.run(datetime.now(UTC))
    worker = Path(__file__).parents[1] / "surveys_crash_worker.py"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(worker), settings.database_url, settings.ari_url, settings.ari_user,
        settings.ari_password, settings.ari_app, "3", "2", stdout=asyncio.subprocess.PIPE, env=os.environ.copy())
    assert (await asyncio.wait_for(proc.stdout.readline(), 20)).strip() == b"ready"
    ari = stack[STATE]["ari"]
    await until(lambda: _channels_up(ari, 2), what="the doomed worker's two calls up")
    os.kill(proc.pid, signal.SIGKILL)  # kill -9 with two calls up and one attempt claimed, not dialled
    await proc.wait()
    await until(lambda: _tick_until(s, pool, "SELECT count(*) = 3 FROM survey_jobs WHERE state = 'done'"),
                timeout=75, what="all three surveys done after recovery")  # the dead lease runs 30 s first
    s.calls.close()
    rows = await pool.fetch("SELECT j.phone, a.n, a.outcome, a.worker, a.dialled_at FROM survey_attempts a"
                            " JOIN survey_jobs j ON j.id = a.job_id ORDER BY j.phone, a.n")
    got = [(r["phone"], r["n"], r["outcome"]) for r in rows]
    dialled_twice = {r["phone"] for r in rows if r["outcome"] == "interrupted"}
    assert len(dialled_twice) == 2
    resumed = (set(phones) - dialled_twice).pop()
    assert [g for g in got if g[0] == resumed] == [(resumed, 1, "completed")]  # dialled once, same number
    for p in dialled_twice:  # the interrupted attempt counted once, the next one reached the citizen
        assert [g for g in got if g[0] == p] == [(p, 1, "interrupted"), (p, 2, "completed")]
    assert all(r["dialled_at"] is not None for r in rows)


async def _channels_up(ari, n: int) -> bool:
    chans = await ari.get("/channels")
    return sum(c["id"].startswith("sv-") and c["state"] == "Up" for c in chans) >= n


async def test_inbound_load_pauses_outbound(stack, pool):
    phone = Phone(stack)
    waiting = await phone.call(caller="13900000031", hold_for=60)  # no agent: the caller waits
    live = stack[STATE]["live"]
    await until(lambda: _waiting(live), what="the caller in the live queue")
    await resolved_ticket(stack, "13800000032")
    await citizen(stack, "13800000032", dtmf="11")
    s = await surveys_on(stack, survey_config(inbound_wait_s=0, missed_enabled=False))
    await s.dialler.tick()
    assert s.dialler.paused_by_inbound and s.dialler.dialled == 0
    assert await pool.fetchval("SELECT count(*) FROM survey_attempts") == 0
    await phone.hangup(waiting)
    await until(lambda: _waiting(live, none=True), what="the queue empty")
    await s.dialler.tick()
    assert not s.dialler.paused_by_inbound and s.dialler.dialled == 1
    s.calls.close()


async def _waiting(live, none: bool = False) -> bool:
    n = await inbound_waiting(live, datetime.now(UTC), 0)
    return n == 0 if none else n > 0
