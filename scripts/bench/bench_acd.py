#!/usr/bin/env python3
"""ACD benchmark: our ARI controller against Asterisk's own app_queue, same Asterisk, same run.

Both serve the same 20 simulated agents (Local/seatNN@agent-sim: answer at once, talk 0.2 s)
and the same callers (give up after 2 s). For each offered rate the script reports how many
calls were routed to an agent before the caller gave up and the time from the call entering
the queue (ChannelDialplan: Stasis or Queue) to the agent channel being dialled (Dial event),
both read from Asterisk's own event timestamps by an observer app subscribed to everything.
Then a burst of 100 simultaneous arrivals into our ACD, counting ARI errors.

Loopback only: its own Asterisk instance, database, Redis index and ports.
    .venv/bin/python scripts/bench/bench_acd.py [--rates 20,35,50,70] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.infra import db  # noqa: E402
from callcenter.infra.ari import AriClient, AriEvent  # noqa: E402
from callcenter.infra.sandbox import start_instance  # noqa: E402
from callcenter.infra.settings import Settings  # noqa: E402

ADMIN_DSN = "postgresql://callcenter:callcenter@127.0.0.1:5432/postgres"
SEATS = [f"seat{i:02d}" for i in range(1, 21)]


def ts(event: AriEvent) -> float:
    return datetime.strptime(event.timestamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Observer:
    """Sees every channel event; pairs queue entry with agent dial per caller number."""

    def __init__(self, settings: Settings):
        self.ari = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, "bench-observer",
                             subscribe_all=True)
        self.enter: dict[str, float] = {}
        self.ring: dict[str, float] = {}

    async def start(self) -> None:
        await self.ari.open()
        self.ari.on_event(self.on_event)
        self.ari.start_events()
        await asyncio.wait_for(self.ari.connected.wait(), 10)

    async def on_event(self, ev: AriEvent) -> None:
        if ev.type == "ChannelDialplan" and ev.raw.get("dialplan_app") in ("Stasis", "Queue"):
            ch = ev.channel or {}
            num = (ch.get("caller") or {}).get("number", "")
            if num.startswith("139") and ch.get("name", "").startswith("Local/") and num not in self.enter:
                if ev.raw.get("dialplan_app") == "Queue" or "queue-direct" in ch.get("name", ""):
                    self.enter[num] = ts(ev)
        elif ev.type == "Dial" and not ev.raw.get("dialstatus"):
            peer = ev.raw.get("peer") or {}
            num = (peer.get("caller") or {}).get("number", "")
            if peer.get("name", "").startswith("Local/seat") and num.startswith("139") and num not in self.ring:
                self.ring[num] = ts(ev)


async def drive(ari: AriClient, context: str, rate: float, seconds: float, base: int) -> list[str]:
    numbers = []
    n = int(rate * seconds)
    start = time.perf_counter()
    tasks = []
    for i in range(n):
        num = f"139{base + i:08d}"
        numbers.append(num)
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(ari.safe(ari.post(
            "/channels", endpoint=f"Local/12345@{context}/n", context="citizen-sim", extension="s",
            priority=1, callerId=num, idempotent=False,
            body={"variables": {"HOLD_FOR": "2", "WAIT_BEFORE": "0", "QUEUE_WAIT": "2",
                                "__IVR_QUEUE": "general"}}))))
    await asyncio.gather(*tasks, return_exceptions=True)
    return numbers


async def drain(ari: AriClient, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        chans = await ari.get("/channels")
        if not [c for c in chans if c["name"].startswith("Local/")]:
            return
        await asyncio.sleep(0.5)


def summarize(obs: Observer, numbers: list[str]) -> dict:
    lat = [(obs.ring[n] - obs.enter[n]) * 1000 for n in numbers if n in obs.ring and n in obs.enter]
    routed = sum(1 for n in numbers if n in obs.ring)
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")

    return {"offered": len(numbers), "routed": routed, "p50": pct(0.5), "p99": pct(0.99),
            "mean": statistics.fmean(lat) if lat else float("nan")}


async def set_agents(ari: AriClient) -> None:
    for seat in SEATS:
        for name, value in ((f"AGENT_MODE_{seat}", "answer"), (f"AGENT_RING_{seat}", "0"),
                            (f"AGENT_TALK_{seat}", "0.2")):
            await ari.post("/asterisk/variable", variable=name, value=value)


async def run(args) -> None:
    pid = os.getpid()
    dbname = f"callcenter_bench_{pid}"
    settings = Settings(
        env="test", database_url=ADMIN_DSN.rsplit("/", 1)[0] + f"/{dbname}",
        redis_url="redis://127.0.0.1:6379/14", mqtt_prefix=f"bench-{pid}/callcenter",
        ari_url=f"http://127.0.0.1:{free_port()}", ari_password=f"bench-{pid}", ari_app=f"bench-{pid}",
        agi_port=free_port(), http_port=free_port(), sip_port=free_port(), rtp_start=30000, rtp_end=30999,
        asterisk_instance=f"bench-{pid}", wrap_up_s=0, log_level="WARNING", log_format="json",
    )
    await db.fresh_database(ADMIN_DSN, dbname)
    inst = await asyncio.to_thread(start_instance, settings, echo=lambda *_: None)
    env = {**os.environ, **{f"CALLCENTER_{k.upper()}": str(v) for k, v in settings.model_dump().items()
                            if v is not None}}
    log_path = Path(f"/tmp/bench-acd-controller-{pid}.log")
    controller = subprocess.Popen([sys.executable, "-m", "callcenter.cli", "run"], env=env,  # noqa: ASYNC220
                                  stdout=subprocess.DEVNULL, stderr=log_path.open("wb"))  # noqa: ASYNC230
    obs = Observer(settings)
    gen = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, "bench-gen", timeout=10)
    try:
        await gen.open()
        await obs.start()
        await set_agents(gen)
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{settings.http_port}"
            for _ in range(100):
                try:
                    async with http.get(f"{base}/health") as r:
                        if (await r.json()).get("ari_connected"):
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
            for i, seat in enumerate(SEATS):
                async with http.post(f"{base}/api/agents/{9000 + i}/login", json={
                        "seat": seat, "interface": f"Local/{seat}@agent-sim/n", "override_by": "bench"}) as r:
                    assert r.status == 200, await r.text()
        rates = [float(r) for r in args.rates.split(",")]
        results: dict[str, list] = {"acd": [], "app_queue": []}
        base_num = 0
        for rate in rates:
            for system, context in (("app_queue", "bench-queue"), ("acd", "queue-direct")):
                nums = await drive(gen, context, rate, args.seconds, base_num)
                base_num += len(nums)
                await asyncio.sleep(3)
                await drain(gen)
                results[system].append((rate, summarize(obs, nums)))
        print(f"\n20 Local-channel agents (0.2 s talk), callers give up after 2 s, {args.seconds:.0f} s per rate")
        print(f"{'rate/s':>7} | {'system':<9} | {'routed':>12} | {'p50 ms':>7} | {'p99 ms':>7}")
        best = {"acd": 0.0, "app_queue": 0.0}
        for i, rate in enumerate(rates):
            for system in ("app_queue", "acd"):
                r = results[system][i][1]
                ok = r["routed"] >= 0.99 * r["offered"]
                if ok:
                    best[system] = max(best[system], rate)
                print(f"{rate:7.0f} | {system:<9} | {r['routed']:5d}/{r['offered']:<5d}{' ' if ok else '!'} | "
                      f"{r['p50']:7.1f} | {r['p99']:7.1f}")
        ratio = best["acd"] / best["app_queue"] if best["app_queue"] else float("inf")
        print(f"sustained (>=99% routed): acd {best['acd']:.0f}/s, app_queue {best['app_queue']:.0f}/s, "
              f"ratio {ratio:.2f}x")
        # burst: 100 simultaneous arrivals into our ACD
        errors_before = gen.errors
        nums = [f"139{base_num + i:08d}" for i in range(100)]
        burst_results = await asyncio.gather(*(gen.post("/channels", endpoint="Local/12345@queue-direct/n",
                                        context="citizen-sim", extension="s", priority=1, callerId=n,
                                        idempotent=False,
                                        body={"variables": {"HOLD_FOR": "5", "WAIT_BEFORE": "0"}})
                               for n in nums), return_exceptions=True)
        failures = [r for r in burst_results if isinstance(r, Exception)]
        if failures:
            print(f"burst originate failures, e.g.: {failures[0]}")
        await asyncio.sleep(6)
        await drain(gen)
        burst = summarize(obs, nums)
        print(f"burst of 100 simultaneous calls: routed {burst['routed']}/100, entry->ring p50 "
              f"{burst['p50']:.1f} ms p99 {burst['p99']:.1f} ms, originate errors {gen.errors - errors_before}")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{settings.http_port}/health") as r:
                print(f"controller health after the run: {await r.json()} (log: {log_path})")
    finally:
        controller.terminate()
        controller.wait(10)
        await obs.ari.close()
        await gen.close()
        await asyncio.to_thread(inst.stop)
        shutil.rmtree(inst.host_dir, ignore_errors=True)
        await db.drop_database(ADMIN_DSN, dbname)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rates", default="20,35,50,70")
    p.add_argument("--seconds", type=float, default=8.0)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
