#!/usr/bin/env python3
"""Surveys benchmark: a day of a real hall in fast-forward, and the pick of the next attempt.

1. Creates its own throw-away database (default ``callcenter_bench_surveys``), loads
   ``--tickets`` (2,000) tickets resolved over one working day and ``--missed`` (300) abandoned
   calls (some short, some followed by a new call from the same number).
2. Runs the real scheduler, store and dialler (policy, calling hours, attempts, recovery) on a
   fake clock in one-minute steps over the callback window (idle stretches, e.g. nights, are
   skipped up to 10 minutes at a time). Only the telephone network is
   simulated: each originate is answered by a simulated citizen with probability ``--answer``
   (60 %), else busy or no answer; an answering citizen rates on the five-level scale.
3. Prints the figures (满意率, strict, 回访率, 解决率, 漏话回拨率) and the run's database time.
4. Loads ``--pending`` (100,000) pending rows and times ``claim`` (the pick of the next due
   attempt: FOR UPDATE SKIP LOCKED, attempt counted, attempt row written, one statement)
   ``--picks`` times: p50 / p99. Goal: p99 <= 5 ms.
5. Optionally renders the daily report of the simulated day (``--report out.png``).

    .venv/bin/python scripts/bench/bench_surveys.py [--tickets 2000] [--missed 300] [--pending 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.infra import db  # noqa: E402
from callcenter.surveys.dialler import Dialler  # noqa: E402
from callcenter.surveys.model import SHANGHAI, Outcome  # noqa: E402
from callcenter.surveys.rates import figures, grouped  # noqa: E402
from callcenter.surveys.results import ResultSink  # noqa: E402
from callcenter.surveys.scheduler import Scheduler  # noqa: E402
from callcenter.surveys.stasis import SurveyCalls  # noqa: E402
from callcenter.surveys.store import CLAIM, SurveyStore  # noqa: E402
from callcenter.tickets.api import FIVE_LEVEL  # noqa: E402
from callcenter.tickets.sla import default_calendar  # noqa: E402

ADMIN_DSN = "postgresql://callcenter:callcenter@127.0.0.1:5432/postgres"
DEPTS = ["market", "water", "urban_management", "housing", "transport", "hr_social", "housing_fund", "power",
         "gas", "ecology", "health"]
DISTRICTS = ["东区", "西区", "仁和区", "钒钛高新区"]
RATINGS = [("1", 0.55), ("2", 0.25), ("3", 0.12), ("4", 0.05), ("5", 0.03)]


def args_ratings(n_tickets: int) -> int:
    return n_tickets // 2


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class SimulatedNetwork:
    """Stands in for Asterisk in the fast-forward: records originates; `settle` ends them."""

    def __init__(self, rng: random.Random, answer: float) -> None:
        self.rng, self.answer = rng, answer
        self.up: list[str] = []

    async def post(self, path: str, **params: Any) -> dict:
        self.up.append(params["channelId"])
        return {"id": params["channelId"]}

    async def delete(self, path: str, **params: Any) -> None:
        return None

    async def safe(self, coro: Any) -> Any:
        return await coro

    def outcome(self) -> tuple[Outcome, dict[str, Any]]:
        r = self.rng.random()
        if r < self.answer:
            if self.rng.random() < 0.04:
                return Outcome.HUNG_UP, {}
            digit = self.rng.choices([d for d, _ in RATINGS], [w for _, w in RATINGS])[0]
            level = FIVE_LEVEL.by_digit(digit)
            resolved = self.rng.random() < (0.93 if not level.bad else 0.4)
            return Outcome.COMPLETED, {"resolved": resolved, "rating": level.label, "digit": digit}
        return (Outcome.BUSY if r < self.answer + 0.12 else Outcome.NO_ANSWER), {}


async def load_day(pool, day: date, n_tickets: int, n_missed: int, rng: random.Random) -> None:
    start = datetime.combine(day, dtime(0), tzinfo=SHANGHAI)
    rows = []
    for i in range(n_tickets):
        at = start + timedelta(seconds=rng.uniform(8 * 3600, 21 * 3600))
        phone = "" if rng.random() < 0.03 else f"139{rng.randrange(10**8):08d}"
        rows.append((f"PZH-{day:%Y%m%d}-{i + 1:06d}", "complaint", "call", "resolved", "normal", phone,
                     rng.choice(DISTRICTS), "bench", rng.choice(DEPTS), "bench", at, at))
    await pool.copy_records_to_table("tickets", records=rows, columns=[
        "number", "kind", "channel", "status", "urgency", "caller_phone", "district", "description",
        "lead_department", "created_by", "created_at", "updated_at"])
    calls = []
    for i in range(n_missed):
        entered = start + timedelta(seconds=rng.uniform(7 * 3600, 22 * 3600))
        caller = f"138{rng.randrange(10**8):08d}"
        held = rng.uniform(2, 9) if rng.random() < 0.2 else rng.uniform(10, 180)  # 20 % short abandons
        calls.append((f"bench-m{i}", caller, "12345", entered, entered + timedelta(seconds=held), "abandoned"))
        if rng.random() < 0.1:  # calls again 5-20 min later (and is served)
            again = entered + timedelta(minutes=rng.uniform(5, 20))
            calls.append((f"bench-a{i}", caller, "12345", again, again + timedelta(minutes=3), "answered"))
    ratings = []  # post-call service ratings (坐席服务评价) of the day, 20 seats in 4 teams
    for i in range(args_ratings(n_tickets)):
        seat = rng.randrange(1, 21)
        digit = rng.choices([d for d, _ in RATINGS], [w for _, w in RATINGS])[0] if rng.random() < 0.9 else None
        ratings.append((f"bench-r{i}", str(1000 + seat), f"seat{seat:02d}", "ABCD"[(seat - 1) // 5],
                        FIVE_LEVEL.by_digit(digit).label if digit else None, digit,
                        start + timedelta(seconds=rng.uniform(0, 86400 * 2))))
    await pool.copy_records_to_table("survey_ratings", records=ratings, columns=[
        "call_id", "agent_id", "seat_id", "team", "rating", "digit", "at"])
    await pool.copy_records_to_table("calls", records=calls, columns=[
        "call_id", "caller", "dnis", "entered_at", "ended_at", "disposition"])


async def fast_forward(pool, day: date, args, rng: random.Random) -> dict[str, Any]:
    clock_now = [datetime.combine(day, dtime(0), tzinfo=SHANGHAI).astimezone(UTC)]
    net = SimulatedNetwork(rng, args.answer)
    store, calendar = SurveyStore(pool), default_calendar()
    from callcenter.surveys.config import SurveySettings

    cfg = SurveySettings(max_concurrent=args.concurrency)
    calls = SurveyCalls(net, store, FIVE_LEVEL)  # type: ignore[arg-type]
    results = ResultSink(pool, FIVE_LEVEL)
    sched = Scheduler(store, cfg.survey_policy(), cfg.missed_policy(), calendar, results)
    dialler = Dialler(store, net, calls, sched, results, app="bench", survey=cfg.survey_policy(),  # type: ignore[arg-type]
                      missed=cfg.missed_policy(), calendar=calendar, max_concurrent=args.concurrency,
                      clock=lambda: clock_now[0], worker="bench")
    end = clock_now[0] + timedelta(days=args.days)
    db_time = 0.0
    while clock_now[0] < end:
        t0 = time.perf_counter()
        await dialler.tick()
        ends = []
        for channel in net.up:  # the simulated citizens answer (or not) at once, in parallel
            outcome, answers = net.outcome()
            calls.forget(channel)
            ends.append(dialler.ended(channel, outcome, answers))
        await asyncio.gather(*ends)
        db_time += time.perf_counter() - t0
        idle = not net.up
        net.up.clear()
        clock_now[0] += timedelta(minutes=1)
        if idle:  # nothing was due: jump to the next due row (at most 10 minutes, so new work is seen)
            nxt = await pool.fetchval("SELECT min(due_at) FROM survey_jobs WHERE state = 'pending'")
            if nxt is not None and nxt > clock_now[0]:
                clock_now[0] = min(nxt, clock_now[0] + timedelta(minutes=10))
            elif nxt is None:
                clock_now[0] += timedelta(minutes=9)
    since = datetime.combine(day - timedelta(days=1), dtime(0), tzinfo=SHANGHAI)
    records = await store.records(since, end + timedelta(days=1))
    return {"figures": figures(records, FIVE_LEVEL), "by_department": grouped(records, "department", FIVE_LEVEL),
            "dialled": dialler.dialled, "db_s": db_time}


async def pick_timing(pool, n_pending: int, picks: int, rng: random.Random) -> list[float]:
    now = datetime.now(UTC)
    await pool.execute("DELETE FROM survey_jobs")
    rows = [("ticket", f"B-{i}", 0, None, f"137{i:08d}", "market", None, "pending", 3,
             now + timedelta(minutes=rng.uniform(-600, 600)), now + timedelta(days=3), None, now, now)
            for i in range(n_pending)]
    await pool.copy_records_to_table("survey_jobs", records=rows, columns=[
        "kind", "ticket_number", "round", "call_id", "phone", "department", "district", "state", "max_attempts",
        "due_at", "deadline", "reason", "created_at", "updated_at"])
    await pool.execute("ANALYZE survey_jobs")
    store = SurveyStore(pool)
    durable, statement, floor = [], [], []
    for i in range(picks):
        if i % 2:  # the whole pick as the dialler does it: one statement, committed (fsync)
            t0 = time.perf_counter()
            c = await store.claim(now, "bench", ["ticket", "missed"])
            durable.append((time.perf_counter() - t0) * 1000)
        else:  # the same statement without its commit: what the decision itself costs
            async with pool.acquire() as conn, conn.transaction():
                t0 = time.perf_counter()
                c = await conn.fetchrow(CLAIM, now, "bench", 60.0, ["ticket", "missed"], 1)
                statement.append((time.perf_counter() - t0) * 1000)
        assert c is not None
        t0 = time.perf_counter()  # the disk's commit floor: a one-row insert, committed
        await pool.execute("INSERT INTO survey_optouts (phone) VALUES ($1) ON CONFLICT DO NOTHING", f"9{i}")
        floor.append((time.perf_counter() - t0) * 1000)
    batch = []  # a dialler with 10 free lines claims 10 due attempts in one statement
    for _ in range(picks // 10):
        t0 = time.perf_counter()
        got = await store.claim_many(now, "bench", ["ticket", "missed"], 10)
        batch.append((time.perf_counter() - t0) * 1000 / len(got))
    return durable, statement, floor, batch


async def main(args) -> None:
    from callcenter.infra.logging import configure_logging

    configure_logging("console", "WARNING")
    name = args.db
    dsn = await db.fresh_database(ADMIN_DSN, name)
    rng = random.Random(args.seed)
    pool = await db.create_pool(dsn, min_size=1, max_size=8)
    try:
        await pool.execute("INSERT INTO departments (code, name) SELECT unnest($1::text[]), unnest($2::text[])",
                           DEPTS, ["市场监管局", "水务公司", "城管执法局", "住建局", "交通运输局", "人社局",
                                   "住房公积金中心", "供电公司", "燃气公司", "生态环境局", "卫健委"])
        day = date.fromisoformat(args.day)
        await load_day(pool, day, args.tickets, args.missed, rng)
        t0 = time.perf_counter()
        ff = await fast_forward(pool, day, args, rng)
        wall = time.perf_counter() - t0
        f = ff["figures"]
        print(f"fast-forward {args.days} days from {day} (1-minute steps): {args.tickets} resolved tickets, "
              f"{args.missed} missed calls, {ff['dialled']} calls dialled, {wall:.1f} s wall, "
              f"{ff['db_s']:.1f} s in the dialler rounds")
        for key in ("satisfaction_rate", "satisfaction_rate_strict", "revisit_rate", "resolution_rate",
                    "missed_callback_rate"):
            print(f"  {key:26s} {f[key]}")
        print(f"  revisits reached/due {f['revisits_reached']}/{f['revisits_due']}, no callback {f['no_callback']},"
              f" bad reviews {f['bad_reviews']}, missed reached/eligible {f['missed_reached']}/"
              f"{f['missed_eligible']}, already served {f['missed_already_served']}, agent rating "
              f"{f['agent_rating']} of {f['agent_ratings']}")
        if args.report:
            from callcenter.surveys.report import gather, render

            data = await gather(pool, day + timedelta(days=1), FIVE_LEVEL, days=7)
            print(f"  daily report: {render(data, Path(args.report))}")
        durable, statement, floor, batch = await pick_timing(pool, args.pending, args.picks, rng)
        print(f"pick next due attempt at {args.pending:,} pending rows (goal p99 <= 5 ms):")
        for label, times in (("claim statement (lock, count, attempt row)", statement),
                             ("claim committed (durable, one at a time)", durable),
                             ("claim committed, 10 per statement, per pick", batch),
                             ("commit floor (1-row insert, committed)", floor)):
            print(f"  {label:44s} p50 {statistics.median(times):.2f} ms, p99 {pct(times, 99):.2f} ms, "
                  f"max {max(times):.2f} ms")
    finally:
        await pool.close()
        if not args.keep:
            await db.drop_database(ADMIN_DSN, name)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=2000)
    p.add_argument("--missed", type=int, default=300)
    p.add_argument("--answer", type=float, default=0.6)
    p.add_argument("--concurrency", type=int, default=30)
    p.add_argument("--days", type=int, default=6, help="fast-forward this many days from the resolve day")
    p.add_argument("--day", default="2026-11-26", help="the resolve day (a working day)")
    p.add_argument("--pending", type=int, default=100_000)
    p.add_argument("--picks", type=int, default=2000)
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--db", default="callcenter_bench_surveys")
    p.add_argument("--report", help="also render the daily report of the day after the resolve day")
    p.add_argument("--keep", action="store_true")
    asyncio.run(main(p.parse_args()))
