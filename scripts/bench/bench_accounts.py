#!/usr/bin/env python3
"""Accounts benchmark: the cost of one login (argon2id verify, production parameters) and the
guard's cost per authenticated request (session lookup in Redis + user row in PostgreSQL).

1. ``--verifies`` argon2id verifications with the production parameters (time_cost=4,
   memory_cost=19 MiB, parallelism=1): median and p95 in ms. Goal: 50-100 ms per login.
2. A local aiohttp server with the accounts plugin on a throw-away database (default
   ``callcenter_bench_accounts``) and Redis index 14: ``--logins`` logins over HTTP, then
   ``--requests`` authenticated ``GET /api/session`` with ``--concurrency`` clients.

    .venv/bin/python scripts/bench/bench_accounts.py [--verifies 30] [--logins 20] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.accounts.guard import guard  # noqa: E402
from callcenter.accounts.model import Role, User  # noqa: E402
from callcenter.accounts.passwords import PRODUCTION, Passwords  # noqa: E402
from callcenter.accounts.plugin import AccountsPlugin  # noqa: E402
from callcenter.accounts.repository import Users  # noqa: E402
from callcenter.context import CONTEXT, Context  # noqa: E402
from callcenter.infra import db  # noqa: E402
from callcenter.infra.redis import LiveState  # noqa: E402
from callcenter.infra.settings import Settings  # noqa: E402
from callcenter.infra.web import http_errors  # noqa: E402

ADMIN_DSN = os.environ.get("CALLCENTER_TEST_ADMIN_DSN", "postgresql://callcenter:callcenter@127.0.0.1:5432/postgres")


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * p))]


async def verify_cost(n: int) -> None:
    pw = Passwords(PRODUCTION)
    stored = await pw.hash("bench-password-123")
    times = []
    for _ in range(n):
        t = time.perf_counter()
        assert await pw.verify(stored, "bench-password-123")
        times.append((time.perf_counter() - t) * 1000)
    print(f"argon2id verify (t=4, m=19 MiB, p=1): median {statistics.median(times):.0f} ms, "
          f"p95 {pct(times, 0.95):.0f} ms over {n}")


async def http_cost(args: argparse.Namespace) -> None:
    dsn = await db.fresh_database(args.admin_dsn, args.db)
    pool = await db.create_pool(dsn, min_size=2, max_size=8)
    settings = Settings(env="dev", database_url=dsn, redis_url="redis://127.0.0.1:6379/14", mqtt_prefix="bench")
    live = LiveState(settings.redis_url, prefix="bench")
    try:
        await live.clear()
        await Users(pool).add(User("bench", Role.SUPERVISOR), await Passwords(PRODUCTION).hash("bench-password-123"))
        ctx = Context(settings, pool, live, None, None, None, None, None)  # type: ignore[arg-type]
        app = web.Application(middlewares=[http_errors, guard])
        app[CONTEXT] = ctx
        plugin = AccountsPlugin()
        plugin.routes(app)

        async def services(_app):
            async with contextlib.asynccontextmanager(plugin.start)(ctx):
                yield

        app.cleanup_ctx.append(services)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(),
                                             connector=aiohttp.TCPConnector(limit=args.concurrency)) as http:
                times, cookie = [], ""
                for _ in range(args.logins):
                    t = time.perf_counter()
                    async with http.post(f"{base}/api/session", json={"username": "bench",
                                                                     "password": "bench-password-123"}) as r:
                        assert r.status == 200, await r.text()
                        cookie = f"cc_session={r.cookies['cc_session'].value}"
                    times.append((time.perf_counter() - t) * 1000)
                print(f"HTTP login: median {statistics.median(times):.0f} ms, p95 {pct(times, 0.95):.0f} ms "
                      f"over {args.logins}")
                lat: list[float] = []

                async def one() -> None:
                    t = time.perf_counter()
                    async with http.get(f"{base}/api/session", headers={"Cookie": cookie}) as r:
                        assert r.status == 200
                        await r.read()
                    lat.append((time.perf_counter() - t) * 1000)

                start = time.perf_counter()
                for i in range(0, args.requests, args.concurrency):
                    await asyncio.gather(*(one() for _ in range(min(args.concurrency, args.requests - i))))
                elapsed = time.perf_counter() - start
                print(f"authenticated GET /api/session: {args.requests / elapsed:.0f} req/s, "
                      f"median {statistics.median(lat):.1f} ms, p99 {pct(lat, 0.99):.1f} ms "
                      f"({args.concurrency} concurrent)")
        finally:
            await runner.cleanup()
    finally:
        await live.clear()
        await live.close()
        await pool.close()
        await db.drop_database(args.admin_dsn, args.db)


async def main(args: argparse.Namespace) -> None:
    from callcenter.infra.logging import configure_logging

    configure_logging("console", "WARNING")
    await verify_cost(args.verifies)
    await http_cost(args)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verifies", type=int, default=30)
    ap.add_argument("--logins", type=int, default=20)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--admin-dsn", default=ADMIN_DSN)
    ap.add_argument("--db", default="callcenter_bench_accounts")
    asyncio.run(main(ap.parse_args()))
