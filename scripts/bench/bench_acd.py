#!/usr/bin/env python3
"""ACD benchmark: our ARI controller against Asterisk's own app_queue, same Asterisk, same run.

Both serve the same 20 simulated agents (Local/seatNN@agent-sim: answer at once, talk 0.2 s)
and the same callers (give up after 2 s). For each offered rate the script reports how many
calls were routed to an agent before the caller gave up and the time from the call entering
the queue (just before Stasis or Queue) to the agent channel starting to ring (its first
dialplan step), both logged by the dialplan with Asterisk's clock, so measuring adds no event
stream, and the CPU time Asterisk and the controller spent per routed call.
Then a burst of 100 simultaneous arrivals into our ACD, counting ARI errors.

Loopback only: its own Asterisk instance, database, Redis index and ports.
    .venv/bin/python scripts/bench/bench_acd.py [--rates 40,80,90,100,120] [--seconds 8] [--talk 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.infra import db  # noqa: E402
from callcenter.infra.ari import TRUNK_FORMATS, AriClient  # noqa: E402
from callcenter.infra.ports import free_port  # noqa: E402
from callcenter.infra.sandbox import start_instance  # noqa: E402
from callcenter.infra.settings import Settings  # noqa: E402
from callcenter.stack import roster_seat_ids  # noqa: E402

ADMIN_DSN = "postgresql://callcenter:callcenter@127.0.0.1:5432/postgres"
SEATS = [f"seat{i:02d}" for i in range(1, 21)]


async def supervisor_session(http: aiohttp.ClientSession, base: str, dsn: str) -> dict[str, str]:
    """A supervisor account in the bench's database, logged in: the session cookie and CSRF token."""
    import asyncpg

    from callcenter.accounts.passwords import FAST, Passwords

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("INSERT INTO users(username, role, name, password_hash) VALUES ($1, 'supervisor', $1, $2) "
                           "ON CONFLICT DO NOTHING", "bench", await Passwords(FAST).hash("bench-password"))
    finally:
        await conn.close()
    async with http.post(f"{base}/api/session", json={"username": "bench", "password": "bench-password"}) as r:
        assert r.status == 200, await r.text()
        return {"Cookie": f"cc_session={r.cookies['cc_session'].value}", "X-CSRF-Token": (await r.json())["csrf"]}


class LogObserver:
    """Reads the times Asterisk's dialplan logged (queue-direct/bench-queue: `bench enter`,
    agent-sim: `bench ring`), so measuring adds no event stream to the system under test."""

    LINE = re.compile(r"bench (enter|ring) (\d+) ([\d.]+)")

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.enter: dict[str, float] = {}
        self.ring: dict[str, float] = {}

    def read(self) -> None:
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        for kind, num, when in self.LINE.findall(data.decode(errors="replace")):
            target = self.enter if kind == "enter" else self.ring
            target.setdefault(num, float(when))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
            priority=1, formats=TRUNK_FORMATS, callerId=num, idempotent=False,
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


def summarize(obs: LogObserver, numbers: list[str]) -> dict:
    lat = [(obs.ring[n] - obs.enter[n]) * 1000 for n in numbers if n in obs.ring and n in obs.enter]
    routed = sum(1 for n in numbers if n in obs.ring)
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")

    return {"offered": len(numbers), "routed": routed, "p50": pct(0.5), "p99": pct(0.99),
            "mean": statistics.fmean(lat) if lat else float("nan")}


async def set_agents(ari: AriClient, talk: float) -> None:
    for seat in SEATS:
        for name, value in ((f"AGENT_MODE_{seat}", "answer"), (f"AGENT_RING_{seat}", "0"),
                            (f"AGENT_TALK_{seat}", str(talk))):
            await ari.post("/asterisk/variable", variable=name, value=value)


async def run(args) -> None:
    pid = os.getpid()
    dbname = f"callcenter_bench_{pid}"
    settings = Settings(
        env="test", database_url=ADMIN_DSN.rsplit("/", 1)[0] + f"/{dbname}",
        redis_url="redis://127.0.0.1:6379/14", mqtt_prefix=f"bench-{pid}/callcenter",
        ari_url=f"http://127.0.0.1:{free_port()}", ari_password=f"bench-{pid}", ari_app=f"bench-{pid}",
        agi_port=free_port(), http_port=free_port(), sip_port=free_port(), rtp_start=30000, rtp_end=30999,
        asterisk_instance=f"bench-{pid}", wrap_up_s=0, log_level="WARNING", log_format="json", webrtc_port=0,
        # routing is measured alone (as before transcription existed); the taps' own cost is
        # in scripts/bench/bench_transcription.py
        transcription_enabled=False,
        rating_enabled=False,  # agents hang up first here: callers would stay on for the rating
        seat_interface="Local/{seat}@agent-sim/n",  # the simulated agents' phones
    )
    await db.fresh_database(ADMIN_DSN, dbname)
    inst = await asyncio.to_thread(start_instance, settings, roster_seat_ids(), echo=lambda *_: None)
    env = {**os.environ, **{f"CALLCENTER_{k.upper()}": str(v) for k, v in settings.model_dump().items()
                            if v is not None}}
    log_path = Path(f"/tmp/bench-acd-controller-{pid}.log")
    controller = subprocess.Popen([sys.executable, "-m", "callcenter.cli", "run"], env=env,  # noqa: ASYNC220
                                  stdout=subprocess.DEVNULL, stderr=log_path.open("wb"))  # noqa: ASYNC230
    obs = LogObserver(inst.host_dir / "log" / "messages.log")
    gen = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, "bench-gen", timeout=10)
    try:
        await gen.open()
        await set_agents(gen, args.talk)
        await gen.post("/asterisk/variable", variable="BENCH_LOG", value="1")
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
            headers = await supervisor_session(http, base, settings.database_url)
            for i, seat in enumerate(SEATS):  # a supervisor signs them in (off shift: its approval)
                async with http.post(f"{base}/api/agents/{9000 + i}/login", json={"seat": seat},
                                     headers=headers) as r:
                    assert r.status == 200, await r.text()

            async def controller_health() -> dict:
                async with http.get(f"{base}/health") as r:
                    return await r.json()

            async def controller_errors() -> int:
                return int((await controller_health()).get("ari_errors", 0))

            rates = [float(r) for r in args.rates.split(",")]
            systems = [s for s in (("app_queue", "bench-queue"), ("acd", "queue-direct"))
                       if s[0] in args.systems.split(",")]
            results: dict[str, list] = {name: [] for name, _ in systems}
            base_num = 0
            for rate in rates:
                for system, context in systems:
                    cpu0 = cpu_seconds(inst.proc.pid), cpu_seconds(controller.pid)
                    h0 = await controller_health()
                    nums = await drive(gen, context, rate, args.seconds, base_num)
                    base_num += len(nums)
                    await asyncio.sleep(3)
                    await drain(gen)
                    cpu1 = cpu_seconds(inst.proc.pid), cpu_seconds(controller.pid)
                    obs.read()
                    r = summarize(obs, nums)
                    r["ast_cpu"] = (cpu1[0] - cpu0[0]) * 1000 / max(1, r["routed"])
                    r["ctl_cpu"] = (cpu1[1] - cpu0[1]) * 1000 / max(1, r["routed"])
                    h1 = await controller_health()
                    r["ari"] = tuple((h1[k] - h0[k]) / max(1, r["routed"]) for k in ("ari_requests", "ari_events"))
                    results[system].append((rate, r))
            print(f"\n20 Local-channel agents ({args.talk} s talk), callers give up after 2 s, {args.seconds:.0f} s per rate;"
                  "\nentry->ring from Asterisk's own dialplan clock; CPU per routed call (Asterisk / controller)")
            print(f"{'rate/s':>7} | {'system':<9} | {'routed':>12} | {'p50 ms':>7} | {'p99 ms':>7} | "
                  f"{'ast CPU ms':>10} | {'ctl CPU ms':>10} | ARI req/ev per call")
            best = {name: 0.0 for name in results}
            for i, rate in enumerate(rates):
                for system in results:
                    r = results[system][i][1]
                    ok = r["routed"] >= 0.99 * r["offered"]
                    if ok:
                        best[system] = max(best[system], rate)
                    ctl = f"{r['ctl_cpu']:10.2f}" if system == "acd" else f"{'-':>10}"
                    ari = f"{r['ari'][0]:.1f} / {r['ari'][1]:.1f}" if system == "acd" else "-"
                    print(f"{rate:7.0f} | {system:<9} | {r['routed']:5d}/{r['offered']:<5d}{' ' if ok else '!'} | "
                          f"{r['p50']:7.1f} | {r['p99']:7.1f} | {r['ast_cpu']:10.2f} | {ctl} | {ari}")
            capacity = len(SEATS) / args.talk
            print(f"agent capacity: {len(SEATS)} agents / {args.talk} s = {capacity:.0f} calls/s at most; above it"
                  " callers wait for an agent, so entry->ring is queueing time, not routing time")
            for system in results:
                free = [r for rate, r in results[system] if rate < 0.9 * capacity and r["routed"]]
                if free:
                    print(f"{system}: worst p99 entry->ring below 90% of agent capacity "
                          f"{max(r['p99'] for r in free):.1f} ms")
            if len(best) == 2:
                ratio = best["acd"] / best["app_queue"] if best["app_queue"] else float("inf")
                print(f"sustained (>=99% routed): acd {best['acd']:.0f}/s, app_queue {best['app_queue']:.0f}/s, "
                      f"ratio {ratio:.2f}x")
                for i, rate in enumerate(rates):
                    a, q = results["acd"][i][1], results["app_queue"][i][1]
                    if min(a["routed"], q["routed"]) < 0.99 * rate * args.seconds:
                        per_s = {k: r["routed"] / args.seconds for k, r in (("acd", a), ("app_queue", q))}
                        print(f"offered {rate:.0f}/s: routed acd {per_s['acd']:.1f}/s, app_queue "
                              f"{per_s['app_queue']:.1f}/s, ratio {per_s['acd'] / max(per_s['app_queue'], 0.1):.1f}x")
            # burst: 100 simultaneous arrivals, into each system
            for system, context in systems:
                errors_before, ctl_before = gen.errors, await controller_errors()
                nums = [f"139{base_num + i:08d}" for i in range(100)]
                base_num += len(nums)
                burst_results = await asyncio.gather(*(gen.post(
                    "/channels", endpoint=f"Local/12345@{context}/n", context="citizen-sim", extension="s",
                    priority=1, formats=TRUNK_FORMATS, callerId=n, idempotent=False,
                    body={"variables": {"HOLD_FOR": "5", "WAIT_BEFORE": "0", "QUEUE_WAIT": "5"}})
                    for n in nums), return_exceptions=True)
                failures = [r for r in burst_results if isinstance(r, Exception)]
                if failures:
                    print(f"{system} burst originate failures, e.g.: {failures[0]}")
                await asyncio.sleep(6)
                await drain(gen)
                obs.read()
                burst = summarize(obs, nums)
                print(f"{system}: burst of 100 simultaneous calls: routed {burst['routed']}/100, entry->ring p50 "
                      f"{burst['p50']:.1f} ms p99 {burst['p99']:.1f} ms; ARI errors: originate "
                      f"{gen.errors - errors_before}, controller {await controller_errors() - ctl_before}")
            async with http.get(f"{base}/health") as r:
                print(f"controller health after the run: {await r.json()} (log: {log_path})")
    finally:
        controller.terminate()
        try:
            controller.wait(10)
        except subprocess.TimeoutExpired:  # still draining its journal: the instance must stop anyway
            controller.kill()
            controller.wait()
        await gen.close()
        await asyncio.to_thread(inst.stop)
        shutil.rmtree(inst.host_dir, ignore_errors=True)
        await db.drop_database(ADMIN_DSN, dbname)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rates", default="40,80,90,100,120")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--talk", type=float, default=0.2, help="seconds each simulated agent talks")
    p.add_argument("--systems", default="app_queue,acd", help="comma-separated: app_queue, acd")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
