#!/usr/bin/env python3
"""Tickets benchmark: creation throughput (service layer and HTTP) and the board's queries.

1. Creates its own throw-away database (default ``callcenter_bench``, via the admin DSN),
   migrates it, and bulk-loads ``--rows`` tickets (default 1,000,000) spread over the last
   365 days with COPY (secondary indexes are dropped for the load and rebuilt after it).
2. Times the board's main queries on that data (median and p95 of ``--repeat`` runs).
3. Creates tickets through ``TicketService.create`` (validated, numbered, duplicate check,
   routed with jieba, dispatched, audited, outboxed: one transaction each) with
   ``--concurrency`` workers, then the same through ``POST /api/tickets`` on a local aiohttp
   server (the HTTP client runs in the same process and its cost is included).
4. Drops the database (``--keep`` keeps it).

    .venv/bin/python scripts/bench/bench_tickets.py [--rows 1000000] [--creates 5000] [--http 2000]
    .venv/bin/python scripts/bench/bench_tickets.py --dispatch --ab 6   # rules alone vs rules + classifier, in turn
Goals: >= 1,000 tickets/s through the service layer; board queries <= 50 ms at 1 M tickets.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.dispatch.router import Router  # noqa: E402
from callcenter.infra import db  # noqa: E402
from callcenter.infra.words import search_words  # noqa: E402
from callcenter.tickets import lists  # noqa: E402
from callcenter.tickets.config import TicketConfig  # noqa: E402
from callcenter.tickets.schemas import TicketCreate  # noqa: E402
from callcenter.tickets.service import TicketService  # noqa: E402
from callcenter.tickets.sla import local_date  # noqa: E402

ADMIN_DSN = "postgresql://callcenter:callcenter@127.0.0.1:5432/postgres"
PROBLEMS = [("商家卖假冒伪劣商品要求退货", "消费维权", "market"), ("小区停水三天了", "供水", "water"),
            ("路边井盖破损有安全隐患", "城市管理", "urban_management"), ("夜间工地施工噪音扰民", "建筑施工", "housing"),
            ("出租车拒载还绕路", "出租汽车", "transport"), ("公司拖欠农民工工资", "劳资纠纷", "hr_social"),
            ("想咨询住房公积金提取", "住房公积金", "housing_fund"), ("小区突然停电", "供电", "power"),
            ("楼道有燃气泄漏的味道", "燃气", "gas"), ("工厂排污河水发臭", "环境保护", "ecology"),
            ("医院挂号难排队久", "医疗卫生", "health"), ("占道经营乱摆摊", "市容环境", "urban_management"),
            ("物业费乱收费", "物业管理", "housing"), ("社保卡补办流程", "社会保障", "hr_social")]
PLACES = ["炳草岗", "大渡口", "弄弄坪", "金江", "仁和", "清香坪", "银江", "格里坪", "渡口", "华山"]
DISTRICTS = ["东区", "西区", "仁和区", "钒钛高新区", None]
KINDS = ["complaint", "help", "enquiry", "report", "suggestion"]
OPEN = ["accepted", "dispatched", "acknowledged", "in_progress", "returned"]
COLUMNS = ["number", "kind", "channel", "status", "urgency", "caller_phone", "category", "district", "address",
           "address_key", "description", "lead_department", "assisting_departments", "take_up_due", "resolve_due",
           "remind_at", "escalation_level", "created_by", "created_at", "updated_at", "version", "search_tsv",
           "reminded_due", "escalated_take_up_due", "escalated_resolve_due"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def tsv(tokens: list[str]) -> str:
    return " ".join("'" + t.replace("'", "''") + "'" for t in tokens)


def generate(rows: int, svc: TicketService, now: datetime, seed: int = 12345):
    """COPY text-format lines, ``chunk`` rows at a time (numbers are per local day)."""
    rnd = random.Random(seed)
    tokens: dict[str, str] = {}
    per_day: dict[str, int] = {}
    start = now - timedelta(days=365)
    stamps = sorted(start + timedelta(seconds=rnd.random() * 365 * 86400 - 3600) for _ in range(rows))
    out: list[str] = []
    for at in stamps:
        desc, category, lead = rnd.choice(PROBLEMS)
        place = rnd.choice(PLACES)
        text = f"{place}{desc}"
        if text not in tokens:
            tokens[text] = tsv(search_words(f"{category} {text}"))
        day = local_date(at).strftime("%Y%m%d")
        per_day[day] = per_day.get(day, 0) + 1
        age = (now - at).days
        status = (rnd.choice(OPEN) if rnd.random() < 0.85 else rnd.choice(["resolved", "surveyed"])) \
            if age < 12 else (rnd.choice(OPEN) if rnd.random() < 0.02 else "closed")
        lead_dep = "hall" if status in ("accepted", "returned") else lead
        assisting = "{east_district}" if lead == "urban_management" and rnd.random() < 0.5 else "{}"
        district = rnd.choice(DISTRICTS)
        due = at + timedelta(days=rnd.choice([3, 5, 7]))
        take_up, remind = at + timedelta(days=1), due - timedelta(days=1)
        is_open = status in OPEN
        escalated = 1 if is_open and due < now else 0
        # the sweeper has already seen this history: mark what it would have done
        marks = [due.isoformat() if is_open and remind <= now else "\\N",
                 take_up.isoformat() if is_open and take_up < now else "\\N",
                 due.isoformat() if is_open and due < now else "\\N"]
        phone = f"13{rnd.randrange(10**8, 10**9)}"
        fields = [f"PZH-{day}-{per_day[day]:06d}", rnd.choice(KINDS), "call", status, "normal", phone, category,
                  district or "\\N", f"{place}{rnd.randrange(1, 200)}号", f"{place}{rnd.randrange(1, 200)}号",
                  text, lead_dep, assisting, take_up.isoformat(), due.isoformat(), remind.isoformat(),
                  str(escalated), "agent:bench", at.isoformat(), at.isoformat(), "3", tokens[text], *marks]
        out.append("\t".join(fields) + "\n")
        if len(out) >= 50_000:
            yield "".join(out).encode()
            out = []
    if out:
        yield "".join(out).encode()


async def bulk_load(pool: asyncpg.Pool, rows: int, svc: TicketService) -> float:
    t0 = time.perf_counter()
    async with pool.acquire() as conn:
        # secondary indexes are rebuilt after the load (constraint indexes stay)
        found = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets' "
                                 "AND indexname NOT IN (SELECT conname FROM pg_constraint)")
        defs = [r["indexdef"] for r in found]
        for r in found:
            await conn.execute(f'DROP INDEX "{r["indexname"]}"')

        async def source():
            for chunk in generate(rows, svc, datetime.now(UTC)):
                yield chunk

        await conn.copy_to_table("tickets", source=source(), columns=COLUMNS, format="text")
        for d in defs:
            await conn.execute(d)
        await conn.execute("INSERT INTO ticket_day_seq (day, last) SELECT to_date(split_part(number, '-', 2), "
                           "'YYYYMMDD'), max(split_part(number, '-', 3)::int) FROM tickets GROUP BY 1")
        await conn.execute("VACUUM ANALYZE tickets")
    return time.perf_counter() - t0


async def board_queries(svc: TicketService, repeat: int) -> list[tuple[str, float, float, int]]:
    now = datetime.now(UTC)
    async with svc.pool.acquire() as conn:
        some = await conn.fetchrow("SELECT number, caller_phone FROM tickets ORDER BY id DESC OFFSET 5000 LIMIT 1")
        first = await lists.department_queue(conn, "market", limit=20)
    week = now - timedelta(days=7)
    cases = {
        "dept queue (market, page 1)": lambda c: lists.department_queue(c, "market", limit=20),
        "dept queue (market, page 2)": lambda c: lists.department_queue(c, "market", limit=20,
                                                                          cursor=first.next_cursor),
        "dept queue (east_district, assists)": lambda c: lists.department_queue(c, "east_district", limit=20),
        "overdue list (deadline first)": lambda c: lists.search(
            c, lists.SearchFilter(overdue_at=now), limit=20, sort="due"),
        "board stats (open by status/dept)": lambda c: lists.board_stats(c, now),
        "search by number": lambda c: lists.search(c, lists.SearchFilter(number=some["number"]), limit=20),
        "search by phone": lambda c: lists.search(c, lists.SearchFilter(phone=some["caller_phone"]), limit=20),
        "search text 井盖 (newest)": lambda c: lists.search(c, lists.SearchFilter(tokens=["井盖"]), limit=20),
        "search text 炳草岗 停水": lambda c: lists.search(
            c, lists.SearchFilter(tokens=search_words("炳草岗 停水")), limit=20),
        "status=dispatched, last 7 days": lambda c: lists.search(
            c, lists.SearchFilter(statuses=["dispatched"], created_from=week), limit=20),
        "dept=water, last 7 days": lambda c: lists.search(
            c, lists.SearchFilter(department="water", created_from=week), limit=20),
        "SLA sweep at now (sweeper caught up)": None,
    }
    results = []
    for name, fn in cases.items():
        times, n = [], 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            if fn is None:
                n = (await svc.sweeper.sweep(now)).escalated
            else:
                async with svc.pool.acquire() as conn:
                    res = await fn(conn)
                n = len(res.items) if isinstance(res, lists.Page) else res.get("open", 0)
            times.append((time.perf_counter() - t0) * 1000)
        results.append((name, statistics.median(times), pct(times, 95), n))
    return results


def body(i: int, rnd: random.Random) -> dict:
    desc, category, _ = rnd.choice(PROBLEMS)
    return {"kind": rnd.choice(KINDS), "description": f"{rnd.choice(PLACES)}{desc}", "category": category,
            "caller_phone": f"15{rnd.randrange(10**8, 10**9)}", "district": rnd.choice(DISTRICTS),
            "call_ids": [f"bench-{i}"]}


async def run_workers(n: int, concurrency: int, one) -> float:
    counter = iter(range(n))

    async def worker():
        for i in counter:
            await one(i)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t0


async def answered_by_bench(svc: TicketService, first: int, n: int) -> None:
    """The calls the tickets are filed from, answered by agent 'bench': an agent attaches only
    calls bridged to them, and the intake checks it (one indexed query per ticket)."""
    await svc.pool.execute(
        "INSERT INTO calls (call_id, agent_id, answered_at) SELECT 'bench-' || g, 'bench', now() "
        "FROM generate_series($1::bigint, $2::bigint) g ON CONFLICT (call_id) DO NOTHING", first, first + n - 1)


async def service_throughput(svc: TicketService, n: int, concurrency: int, seed: int = 7, offset: int = 0) -> float:
    await answered_by_bench(svc, offset, n)
    rnd = random.Random(seed)
    bodies = [TicketCreate.model_validate(body(offset + i, rnd)) for i in range(n)]
    dispatched = 0

    async def one(i: int) -> None:
        nonlocal dispatched
        created = await svc.create("agent:bench", bodies[i])
        dispatched += created.ticket.lead_department is not None

    elapsed = await run_workers(n, concurrency, one)
    print(f"  {dispatched}/{n} dispatched automatically (the rest stay in the hall: unsure or merged)")
    return n / elapsed


async def http_throughput(svc: TicketService, n: int, concurrency: int) -> float:
    from callcenter.accounts.identity import USER
    from callcenter.accounts.model import Role, User
    from callcenter.tickets.plugin import TicketsPlugin

    bench_agent = User("bench", Role.AGENT, agent_id="bench")

    @web.middleware
    async def logged_in(request: web.Request, handler):  # what the accounts guard sets for a session
        request[USER] = bench_agent
        return await handler(request)

    plugin = TicketsPlugin(svc.dispatch)
    plugin.service.set(svc)  # the service is running already: only the routes are needed
    app = web.Application(middlewares=[logged_in])
    plugin.routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rnd = random.Random(8)
    bodies = [body(i, rnd) for i in range(n)]
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
            async def one(i: int) -> None:
                async with http.post(f"http://127.0.0.1:{port}/api/tickets", json=bodies[i]) as resp:
                    assert resp.status == 201, await resp.text()
                    await resp.read()

            elapsed = await run_workers(n, concurrency, one)
    finally:
        await runner.cleanup()
    return n / elapsed


async def ab_rounds(pool, with_learned: TicketService, lookup, args: argparse.Namespace) -> None:
    """The same ticket intake without and with learned dispatch, in turn, in this process on the
    same database: the ratio is the figure (it travels between machines; rates do not)."""
    if lookup is None:
        raise SystemExit("--ab needs --dispatch (it compares the rules alone with rules + classifier)")
    rules_only = TicketService(pool, await Router.open(pool), TicketConfig())
    ratios = []
    for r in range(args.ab):
        rates = {}
        order = [("rules", rules_only), ("learned", with_learned)]
        for name, svc in order if r % 2 == 0 else order[::-1]:
            print(f"round {r + 1}, {name}:", end=" ", flush=True)
            k = 2 * r + (name == "learned")
            rates[name] = await service_throughput(svc, args.creates, args.concurrency, seed=100 + k,
                                                   offset=10_000_000 + k * args.creates)
        ratios.append(rates["learned"] / rates["rules"])
        print(f"  rules alone {rates['rules']:,.0f}/s, rules + classifier {rates['learned']:,.0f}/s: "
              f"ratio {ratios[-1]:.3f}")
    print(f"\nlearned / rules-only throughput over {args.ab} rounds: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")


async def main(args: argparse.Namespace) -> None:
    import logging

    from callcenter.infra.logging import configure_logging

    configure_logging("console", "WARNING")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    dsn = await db.fresh_database(args.admin_dsn, args.db)
    pool = await db.create_pool(dsn, min_size=4, max_size=args.pool)
    try:
        lookup = None
        if args.dispatch:  # learned dispatch beside the rules, as the app wires it
            from callcenter.dispatch.service import DispatchService

            learned = DispatchService(pool)
            ver = await learned.retrain("bench")
            print(f"learned dispatch: model v{ver.version} in force")
            lookup = lambda: learned  # noqa: E731
        svc = TicketService(pool, await Router.open(pool, lookup), TicketConfig())
        svc.sweeper.batch = 500
        print(f"database {args.db}: loading {args.rows:,} tickets with COPY ...", flush=True)
        load = await bulk_load(pool, args.rows, svc)
        print(f"  loaded and indexed in {load:.1f} s ({args.rows / load:,.0f} rows/s)")
        print(f"\nboard queries at {args.rows:,} tickets ({args.repeat} runs each; goal <= 50 ms):")
        print(f"  {'query':38} {'median ms':>9} {'p95 ms':>8} {'rows':>6}")
        for name, med, p95, n in await board_queries(svc, args.repeat):
            flag = "" if p95 <= 50 else "  <-- over 50 ms"
            print(f"  {name:38} {med:9.2f} {p95:8.2f} {n:6}{flag}")
        if args.ab:
            await ab_rounds(pool, svc, lookup, args)
            return
        print(f"\ncreate + route through the service layer ({args.creates} tickets, {args.concurrency} workers):",
              flush=True)
        rate = await service_throughput(svc, args.creates, args.concurrency)
        print(f"  {rate:,.0f} tickets/s (goal >= 1,000)")
        print(f"\ncreate + route through HTTP POST /api/tickets ({args.http} tickets, {args.concurrency} "
              "connections, client in the same process):", flush=True)
        rate = await http_throughput(svc, args.http, args.concurrency)
        print(f"  {rate:,.0f} tickets/s")
    finally:
        await pool.close()
        if not args.keep:
            await db.drop_database(args.admin_dsn, args.db)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="tickets bulk-loaded with COPY")
    p.add_argument("--creates", type=int, default=5000, help="tickets created through the service layer")
    p.add_argument("--http", type=int, default=2000, help="tickets created through HTTP")
    p.add_argument("--concurrency", type=int, default=12)
    p.add_argument("--pool", type=int, default=16, help="PostgreSQL pool size")
    p.add_argument("--repeat", type=int, default=30, help="runs per board query")
    p.add_argument("--db", default="callcenter_bench")
    p.add_argument("--admin-dsn", default=ADMIN_DSN)
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--dispatch", action="store_true", help="with the learned dispatch (classifier + incidents)")
    p.add_argument("--ab", type=int, default=0, metavar="ROUNDS",
                   help="with --dispatch: ROUNDS alternating runs of the service layer without and with it")
    asyncio.run(main(p.parse_args()))
