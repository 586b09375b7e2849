#!/usr/bin/env python3
"""Fault runner (issue 10): the operator's scenarios on the sandbox Asterisk, with two real
controller processes, during traffic, and what held after each.

Everything is private to the run: its own database (on the machine's PostgreSQL, dropped at
the end), its own redis-server and mosquitto on free ports (restarted by the run), its own
Asterisk instance. The machine's shared PostgreSQL, Redis and Mosquitto are never restarted:
the PostgreSQL fault terminates every connection of the run's own database instead.

Traffic: one call every 0.7 s (callers hold 3-9 s), 6 simulated agents (Local/seatNN@agent-sim,
ring 0.5 s, answer). Faults, each in the middle of its own traffic window:
  kill       kill -9 of the active controller with a standby running (the killed one is
             started again as the new standby)
  redis      restart of the private redis-server (comes back empty)
  mosquitto  restart of the private mosquitto
  postgres   every connection of the run's database terminated (twice, 1 s apart)
After each window the traffic drains and the run checks: every placed call has exactly one
row, ended with a disposition (a call Asterisk refused because no controller held the app
counts as refused); every leg row is closed; no channel is left in Asterisk; no agent is
ringing or on a call; agents paused for a missed call; each agent's history is an unbroken
chain; every outbox row published and received exactly once on MQTT.

    .venv/bin/python scripts/chaos/faults.py [--faults kill,redis,mosquitto,postgres] [--runs 1] [--seconds 12] [--lease-ttl-ms 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import aiomqtt
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.accounts.passwords import derived_password  # noqa: E402
from callcenter.infra import db  # noqa: E402
from callcenter.infra.ari import TRUNK_FORMATS, AriClient  # noqa: E402
from callcenter.infra.ports import free_port  # noqa: E402
from callcenter.infra.private_servers import PrivateServer  # noqa: E402
from callcenter.infra.sandbox import start_instance  # noqa: E402
from callcenter.infra.settings import Settings  # noqa: E402
from callcenter.stack import roster_seat_ids  # noqa: E402

ADMIN_DSN = os.environ.get("CALLCENTER_TEST_ADMIN_DSN", "postgresql://callcenter:callcenter@127.0.0.1:5432/postgres")
SEATS = [f"seat{i:02d}" for i in range(1, 7)]
JOURNAL_LAG_S = 15  # how long the agents' record may trail the live state before an agent counts as stuck


class Controller:
    def __init__(self, name: str, settings: Settings) -> None:
        self.name, self.settings = name, settings.model_copy(update={"http_port": free_port(), "agi_port": free_port()})
        self.proc: subprocess.Popen | None = None
        self.log = Path(f"/tmp/faults-{name}-{os.getpid()}.log")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.settings.http_port}"

    def start(self) -> None:
        env = {**os.environ, **{f"CALLCENTER_{k.upper()}": str(v) for k, v in self.settings.model_dump().items()
                                if v is not None}}
        with self.log.open("ab") as err:  # the child keeps its own descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "callcenter.cli", "run"], env=env,
                                         stdout=subprocess.DEVNULL, stderr=err)

    def kill9(self) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None

    async def health(self, http: aiohttp.ClientSession) -> dict:
        try:
            async with http.get(f"{self.base}/health", timeout=aiohttp.ClientTimeout(total=2)) as r:
                return await r.json()
        except (aiohttp.ClientError, TimeoutError):
            return {}


class Run:
    def __init__(self, args) -> None:
        self.args = args
        pid = os.getpid()
        self.dbname = f"callcenter_faults_{pid}"
        self.redis, self.mqtt = PrivateServer("redis"), PrivateServer("mosquitto")
        self.settings = Settings(
            env="test", database_url=ADMIN_DSN.rsplit("/", 1)[0] + f"/{self.dbname}",
            redis_url=self.redis.url, mqtt_port=self.mqtt.port,
            mqtt_prefix=f"faults-{pid}/callcenter", ari_url=f"http://127.0.0.1:{free_port()}",
            ari_password=f"faults-{pid}", ari_app=f"faults-{pid}", agi_port=free_port(), http_port=free_port(),
            sip_port=free_port(), rtp_start=31000, rtp_end=31999, asterisk_instance=f"faults-{pid}", wrap_up_s=1,
            lease_ttl_ms=args.lease_ttl_ms, seat_interface="Local/{seat}@agent-sim/n",
            log_level="WARNING", log_format="json", webrtc_port=0)
        self.controllers = [Controller("a", self.settings), Controller("b", self.settings)]
        self.received: list[dict] = []
        self.placed: list[str] = []
        self.refused = 0
        self.seq = 0

    # ------------------------------------------------------------ traffic and observers
    async def collect(self, ready: asyncio.Event) -> None:
        while True:
            try:
                async with aiomqtt.Client("127.0.0.1", self.mqtt.port, identifier=f"faults-obs-{os.getpid()}",
                                          clean_session=False) as client:
                    await client.subscribe(f"{self.settings.mqtt_prefix}/#", qos=1)
                    ready.set()
                    async for msg in client.messages:
                        try:
                            self.received.append(json.loads(msg.payload))
                        except ValueError:
                            pass
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)

    async def traffic(self, gen: AriClient, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.seq += 1
            num = f"139{os.getpid() % 1000:03d}{self.seq:05d}"
            self.placed.append(num)
            asyncio.ensure_future(gen.safe(gen.post(
                "/channels", endpoint="Local/12345@queue-direct/n", context="citizen-sim", extension="s", priority=1,
                formats=TRUNK_FORMATS, callerId=num, idempotent=False,
                body={"variables": {"HOLD_FOR": str(random.uniform(3, 9)), "WAIT_BEFORE": "0",
                                    "__IVR_QUEUE": "general"}})))
            await asyncio.sleep(0.7)

    async def active(self, http) -> Controller | None:
        for c in self.controllers:
            h = await c.health(http)
            if h.get("active") and h.get("ari_connected"):
                return c
        return None

    async def wait_active(self, http, timeout: float = 30) -> Controller:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            c = await self.active(http)
            if c:
                return c
            await asyncio.sleep(0.05)
        raise RuntimeError("no controller became active")

    async def drain(self, gen: AriClient, timeout: float = 60) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            left = [c for c in await gen.get("/channels") if c["name"].startswith("Local/")]
            if not left:
                return 0
            await asyncio.sleep(0.5)
        return len(left)

    # ------------------------------------------------------------ faults
    async def fault(self, name: str, http) -> dict:
        out: dict = {}
        if name == "kill":
            victim = await self.active(http)
            t0 = time.monotonic()
            victim.kill9()
            await self.wait_active(http)
            out["takeover_s"] = round(time.monotonic() - t0, 2)
            victim.start()  # back as the standby
        elif name == "redis":
            self.redis.restart()
        elif name == "mosquitto":
            self.mqtt.restart()
        elif name == "postgres":
            conn = await asyncpg.connect(ADMIN_DSN)
            try:
                for _ in range(2):
                    await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                                       self.dbname)
                    await asyncio.sleep(1)
            finally:
                await conn.close()
        return out

    async def watch_flips(self, http, stop: asyncio.Event, flips: list) -> None:
        """How often the active controller lost its ARI connection (a caller refused then)."""
        last = None
        while not stop.is_set():
            c = await self.active(http)
            who = c.name if c else None
            if who != last and last is not None:
                flips.append((last, who))
            last = who
            await asyncio.sleep(0.05)

    # ------------------------------------------------------------ checks
    async def check(self, pool: asyncpg.Pool, gen: AriClient, http, placed: list[str]) -> dict:
        rows = await pool.fetch("SELECT caller, disposition, ended_at FROM calls WHERE caller = ANY($1::text[])", placed)
        per = collections.Counter(r["caller"] for r in rows)
        wrong = [r for r in rows if r["disposition"] is None or r["ended_at"] is None]
        open_legs = await pool.fetchval("SELECT count(*) FROM call_legs WHERE ended_at IS NULL")
        channels = len([c for c in await gen.get("/channels") if c["name"].startswith("Local/")])
        # the record, as the journal wrote it: its writes trail the live state (a loaded machine: by
        # seconds), so an agent still ringing/on a call there is stuck only if it stays so for a while
        for _ in range(JOURNAL_LAG_S * 10):
            agents = await pool.fetch("SELECT state, pause_reason FROM agents")
            stuck = sum(1 for a in agents if a["state"] in ("ringing", "on_call"))
            if not stuck:
                break
            await asyncio.sleep(0.1)
        paused = sum(1 for a in agents if a["pause_reason"] == "missed_call")
        chain_breaks = 0
        for agent_id in {r["agent_id"] for r in await pool.fetch("SELECT DISTINCT agent_id FROM agent_states")}:
            hist = await pool.fetch("SELECT from_state, to_state FROM agent_states WHERE agent_id=$1 ORDER BY id",
                                    agent_id)
            chain_breaks += sum(1 for a, b in zip(hist, hist[1:], strict=False) if b["from_state"] != a["to_state"])
        unpublished = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        ids = await pool.fetch("SELECT id FROM outbox")
        got = collections.Counter(p.get("outbox_id") for p in self.received if isinstance(p, dict))
        if None in got:  # a build without the outbox id in its events: a repeat is an identical payload
            same = collections.Counter(json.dumps(p, sort_keys=True) for p in self.received)
            return {**self._rows(placed, per, wrong, open_legs, channels, stuck, paused, chain_breaks, unpublished),
                    "events_dup": sum(n - 1 for n in same.values()), "events_lost": max(0, len(ids) - len(same))}
        return {**self._rows(placed, per, wrong, open_legs, channels, stuck, paused, chain_breaks, unpublished),
                "events_dup": sum(1 for i in ids if got[i["id"]] > 1),
                "events_lost": sum(1 for i in ids if got[i["id"]] == 0)}

    @staticmethod
    def _rows(placed, per, wrong, open_legs, channels, stuck, paused, chain_breaks, unpublished) -> dict:
        return {"placed": len(placed), "rows": sum(per.values()), "no_row": sum(1 for n in placed if per[n] == 0),
                "dup_rows": sum(1 for n in placed if per[n] > 1), "rows_wrong": len(wrong),
                "open_legs": open_legs, "channels_left": channels, "stuck_agents": stuck, "missed_paused": paused,
                "history_breaks": chain_breaks, "unpublished": unpublished}

    async def main(self) -> list[dict]:
        await db.fresh_database(ADMIN_DSN, self.dbname)
        self.redis.start()
        self.mqtt.start()
        inst = await asyncio.to_thread(start_instance, self.settings, roster_seat_ids(), echo=lambda *_: None)
        gen = AriClient(self.settings.ari_url, self.settings.ari_user, self.settings.ari_password, "faults-gen",
                        timeout=10)
        pool = await db.create_pool(self.settings.database_url, min_size=1, max_size=2)
        ready = asyncio.Event()
        collector = asyncio.create_task(self.collect(ready))
        try:
            await gen.open()
            await asyncio.wait_for(ready.wait(), 10)
            for seat in SEATS:
                for var, value in ((f"AGENT_MODE_{seat}", "answer"), (f"AGENT_RING_{seat}", "0.5"),
                                   (f"AGENT_TALK_{seat}", "3600")):
                    await gen.post("/asterisk/variable", variable=var, value=value)
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # 127.0.0.1 cookies
                self.controllers[0].start()
                first = await self.wait_active(http, 60)
                self.controllers[1].start()
                async with http.post(f"{first.base}/api/session", json={
                        "username": "admin", "password": derived_password(self.settings.session_secret, "admin")}) as r:
                    assert r.status == 200, await r.text()
                    csrf = (await r.json())["csrf"]
                # agents are signed in by a supervisor (accounts): the admin makes one, who logs in
                async with http.post(f"{first.base}/api/users", headers={"X-CSRF-Token": csrf}, json={
                        "username": "faults-lead", "role": "supervisor", "password": "faults-lead-pw-1234"}) as r:
                    assert r.status in (201, 409), await r.text()
                async with http.post(f"{first.base}/api/session", json={
                        "username": "faults-lead", "password": "faults-lead-pw-1234"}) as r:
                    assert r.status == 200, await r.text()
                    csrf = (await r.json())["csrf"]
                for i, seat in enumerate(SEATS):
                    async with http.post(f"{first.base}/api/agents/{1001 + i}/login", json={"seat": seat},
                                         headers={"X-CSRF-Token": csrf}) as r:
                        assert r.status == 200, await r.text()
                await asyncio.sleep(3)  # the standby up and polling
                results = []
                for name in self.args.faults.split(","):
                    for run in range(self.args.runs):
                        start = len(self.placed)
                        stop, flips = asyncio.Event(), []
                        watcher = asyncio.create_task(self.watch_flips(http, stop, flips))
                        traffic = asyncio.create_task(self.traffic(gen, self.args.seconds))
                        await asyncio.sleep(self.args.seconds / 2)
                        out = await self.fault(name, http)
                        await traffic
                        left = await self.drain(gen)
                        await asyncio.sleep(3)  # wrap-ups, journal, relay
                        stop.set()
                        await watcher
                        res = await self.check(pool, gen, http, self.placed[start:])
                        res.update(out, fault=name, run=run + 1, not_drained=left,
                                   ari_flips=len([f for f in flips if f[1] is None]))
                        results.append(res)
                        print(json.dumps(res), flush=True)
                keys = ["fault", "run", "placed", "no_row", "dup_rows", "rows_wrong", "open_legs", "channels_left",
                        "stuck_agents", "missed_paused", "history_breaks", "unpublished", "events_dup", "events_lost",
                        "ari_flips", "takeover_s"]
                print(" | ".join(keys))
                for r in results:
                    print(" | ".join(str(r.get(k, "-")) for k in keys))
                return results
        finally:
            for c in self.controllers:
                c.stop()
            collector.cancel()
            await asyncio.gather(collector, return_exceptions=True)
            await pool.close()
            await gen.close()
            await asyncio.to_thread(inst.stop)
            shutil.rmtree(inst.host_dir, ignore_errors=True)
            self.redis.close()
            self.mqtt.close()
            await db.drop_database(ADMIN_DSN, self.dbname)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--faults", default="kill,redis,mosquitto,postgres")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--seconds", type=float, default=12.0)
    p.add_argument("--lease-ttl-ms", type=int, default=Settings.model_fields["lease_ttl_ms"].default)
    asyncio.run(Run(p.parse_args()).main())


if __name__ == "__main__":
    main()
