#!/usr/bin/env python3
"""Board latency: MQTT event -> WebSocket push, through the accounts guard, with the real hub.

A local app (accounts + board plugins, real PostgreSQL on a throw-away database, Redis index 14,
the local Mosquitto) serves ``--boards`` supervisor sockets (``/ws/board``) and ``--agents``
agent sockets (``/ws/agent/{id}``), each logged in with its own session. Agent state events are
published on MQTT at ``--rate`` per second for ``--seconds``; for every event and every socket
the latency is the time until the first push that socket receives after the event (the hub
debounces bursts by 0.1 s, included). Prints p50/p99 per kind of page. Goal: p99 <= 200 ms.
WebSocket clients stand in for browser pages (the page's own rendering is not included).

    .venv/bin/python scripts/bench/bench_board_latency.py [--rate 50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import aiohttp
import aiomqtt
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.accounts.guard import guard  # noqa: E402
from callcenter.accounts.model import Role, User  # noqa: E402
from callcenter.accounts.passwords import FAST, Passwords  # noqa: E402
from callcenter.accounts.plugin import AccountsPlugin  # noqa: E402
from callcenter.accounts.repository import Users  # noqa: E402
from callcenter.acd.board.plugin import BoardPlugin  # noqa: E402
from callcenter.app import BOARD_RECORDS  # noqa: E402
from callcenter.context import CONTEXT, Context  # noqa: E402
from callcenter.infra import db  # noqa: E402
from callcenter.infra.redis import LiveState  # noqa: E402
from callcenter.infra.settings import Settings  # noqa: E402
from callcenter.infra.web import Provided, http_errors  # noqa: E402

ADMIN_DSN = os.environ.get("CALLCENTER_TEST_ADMIN_DSN", "postgresql://callcenter:callcenter@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-123"


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


async def main(args: argparse.Namespace) -> None:
    from callcenter.infra.logging import configure_logging

    configure_logging("console", "WARNING")
    dsn = await db.fresh_database(args.admin_dsn, args.db)
    pool = await db.create_pool(dsn, min_size=2, max_size=8)
    prefix = f"bench-{os.getpid()}"
    settings = Settings(env="test", database_url=dsn, redis_url="redis://127.0.0.1:6379/14", mqtt_prefix=prefix)
    live = LiveState(settings.redis_url, prefix=prefix)
    try:
        await live.clear()
        stored = await Passwords(FAST).hash(PASSWORD)
        users = Users(pool)
        await users.add(User("sup", Role.SUPERVISOR), stored)
        for i in range(args.agents):
            await users.add(User(f"agent{1001 + i}", Role.AGENT, agent_id=str(1001 + i)), stored)
            await live.put("agents", str(1001 + i), {"agent_id": str(1001 + i), "state": "available",
                                                     "seat_id": f"seat{i + 1:02d}", "call_id": None})
        ctx = Context(settings, pool, live, None, None, None, None, None)  # type: ignore[arg-type]
        app = web.Application(middlewares=[http_errors, guard])
        app[CONTEXT] = ctx
        accounts, board = AccountsPlugin(), BoardPlugin(acd=Provided("ACD"), tickets=Provided("tickets"),
                                                        records=BOARD_RECORDS)
        accounts.routes(app)
        board.routes(app)

        async def services(_app):
            async with contextlib.asynccontextmanager(accounts.start)(ctx), \
                    contextlib.asynccontextmanager(board.start)(ctx):
                await asyncio.wait_for(board.hub.get().connected.wait(), 10)
                yield

        app.cleanup_ctx.append(services)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            await measure(args, base, prefix)
        finally:
            await runner.cleanup()
    finally:
        await live.clear()
        await live.close()
        await pool.close()
        await db.drop_database(args.admin_dsn, args.db)


async def measure(args: argparse.Namespace, base: str, prefix: str) -> None:
    pushes: dict[str, list[float]] = {}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        async def login(name: str) -> str:
            async with http.post(f"{base}/api/session", json={"username": name, "password": PASSWORD}) as r:
                assert r.status == 200, await r.text()
                return f"cc_session={r.cookies['cc_session'].value}"

        sockets = [(f"board{i}", "/ws/board", await login("sup")) for i in range(args.boards)]
        sockets += [(f"agent{1001 + i}", f"/ws/agent/{1001 + i}", await login(f"agent{1001 + i}"))
                    for i in range(args.agents)]

        async def reader(name: str, path: str, cookie: str, ready: asyncio.Event) -> None:
            async with http.ws_connect(f"{base}{path}", headers={"Cookie": cookie, "Origin": base}) as ws:
                await ws.receive_json()  # the first snapshot
                ready.set()
                times = pushes.setdefault(name, [])
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data).get("type") in ("board", "agent"):
                        times.append(time.monotonic())

        readies = [asyncio.Event() for _ in sockets]
        tasks = [asyncio.create_task(reader(n, p, c, e)) for (n, p, c), e in zip(sockets, readies, strict=True)]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in readies)), 30)
        published: list[float] = []
        async with aiomqtt.Client("127.0.0.1", 1883) as mqtt:
            interval, start = 1 / args.rate, time.monotonic()
            for n in range(int(args.rate * args.seconds)):
                await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))
                agent = 1001 + n % args.agents
                published.append(time.monotonic())
                await mqtt.publish(f"{prefix}/agents/{agent}/state", json.dumps({"agent_id": str(agent), "n": n}))
        await asyncio.sleep(1.0)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for kind in ("board", "agent"):
        lat = []
        for name, times in pushes.items():
            if not name.startswith(kind):
                continue
            for t in published:
                after = next((r for r in times if r >= t), None)
                if after is not None:
                    lat.append((after - t) * 1000)
        print(f"/ws/{kind}: {len(lat)} event deliveries, p50 {pct(lat, 0.5):.0f} ms, p99 {pct(lat, 0.99):.0f} ms")
    print(f"({len(published)} events at {args.rate}/s to {args.boards} board and {args.agents} agent sockets)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--boards", type=int, default=3)
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--admin-dsn", default=ADMIN_DSN)
    ap.add_argument("--db", default="callcenter_bench_board")
    asyncio.run(main(ap.parse_args()))
