#!/usr/bin/env python3
"""Call recording benchmark (issue 21): what recording costs and gives, on the same calls.

On its own sandbox Asterisk, database and ports, with the whole controller in this process:
`--calls` simulated citizens (a 1000 Hz tone as their voice) talk `--talk` seconds at once with
as many simulated agents (a 440 Hz tone), first with recording off, then on (the same calls,
the same Asterisk: the recorder's line switch is flipped between the two), `--runs` times.
It prints per run and as median / spread (max-min) over the runs:

- Asterisk's CPU seconds per call while the calls talk, recording off and on, and their ratio
  (goal <= 1.15x); the CPU that storing took afterwards (sox: wav -> stereo Ogg Vorbis, in this
  process's children) per call, apart;
- stored bytes per call-minute;
- for comparison, the same calls recorded by MixMonitor(D) started in the citizen's dialplan;
- time to first byte of playback (GET /api/calls/{id}/recording as a supervisor, loopback);
- automatic QA (the default scorecard's checks) per 5-minute, 100-line transcript, in ms.

    .venv/bin/python scripts/bench/bench_recording.py [--runs 3] [--calls 8] [--talk 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.app import PLUGINS, STATE, build_app  # noqa: E402
from callcenter.infra import db  # noqa: E402
from callcenter.infra.ari import TRUNK_FORMATS  # noqa: E402
from callcenter.infra.ports import free_port  # noqa: E402
from callcenter.infra.sandbox import start_instance  # noqa: E402
from callcenter.infra.settings import Settings  # noqa: E402
from callcenter.quality.checks import Line  # noqa: E402
from callcenter.quality.scorecard import auto_findings, load  # noqa: E402
from callcenter.recordings.mixing import mix_stereo  # noqa: E402
from callcenter.recordings.model import SNOOP_ARG  # noqa: E402
from callcenter.stack import roster_seat_ids  # noqa: E402

ADMIN_DSN = "postgresql://callcenter:callcenter@127.0.0.1:5432/postgres"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


async def until(check, timeout: float = 30.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        res = check()
        if asyncio.iscoroutine(res):
            res = await res
        if res:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(what)


async def session(http: aiohttp.ClientSession, base: str, pool) -> dict[str, str]:
    from callcenter.accounts.passwords import FAST, Passwords

    await pool.execute("INSERT INTO users(username, role, name, password_hash) VALUES ('bench', 'supervisor',"
                       " 'bench', $1) ON CONFLICT DO NOTHING", await Passwords(FAST).hash("bench-password"))
    async with http.post(f"{base}/api/session", json={"username": "bench", "password": "bench-password"}) as r:
        assert r.status == 200, await r.text()
        return {"Cookie": f"cc_session={r.cookies['cc_session'].value}", "X-CSRF-Token": (await r.json())["csrf"]}


async def talk_round(app, inst, n: int, talk: float, mixmonitor: bool = False,
                     snoops: bool = False) -> tuple[float, list[str]]:
    """n calls talking at once for `talk` s; Asterisk's CPU seconds from all bridged to all hung up.
    `snoops`: the recorder's two snoops per call (`spy: in` on each party) made here and not
    recorded: what the snoop channels cost by themselves."""
    ctx = app[STATE]["ctx"]
    acd = app[PLUGINS].acd.service.get()
    ari = ctx.ari
    calls = []
    for _ in range(n):
        call_id = f"b-{uuid.uuid4().hex[:10]}"
        calls.append(call_id)
        await ari.post("/channels", endpoint="Local/12345@queue-direct/n", context="citizen-sim", extension="s",
                       priority=1, formats=TRUNK_FORMATS, channelId=f"x-{call_id}", otherChannelId=call_id,
                       callerId="13800000001", body={"variables": {
                           "__IVR_QUEUE": "general", "WAIT_BEFORE": "0.1", "HOLD_FOR": "600", "TONE": "1000",
                           "MIXMON": f"mixmon-{call_id}" if mixmonitor else ""}})
    await until(lambda: all((c := acd.calls.get(i)) is not None and c.state == "bridged" for i in calls),
                60, "all bridged")
    made = []
    if snoops:
        for c in calls:
            for leg, channel in (("caller", c), ("agent", acd.calls[c].agent_leg)):
                made.append(f"bench-snoop-{leg}-{c}")
                await ari.post(f"/channels/{channel}/snoop", spy="in", whisper="none", app=ari.app,
                               appArgs=SNOOP_ARG, snoopId=made[-1])
    await asyncio.sleep(1.0)  # the recordings (when on) have started
    cpu0 = cpu_seconds(inst.proc.pid)
    await asyncio.sleep(talk)
    cpu1 = cpu_seconds(inst.proc.pid)
    for ident in made:
        await ari.safe(ari.delete(f"/channels/{ident}"))
    for c in calls:
        await ari.safe(ari.delete(f"/channels/{c}"))
    await until(lambda: not any(c in acd.calls for c in calls), 60, "all ended")
    return (cpu1 - cpu0) / n, calls


async def ttfb(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    t0 = time.perf_counter()
    async with http.get(url, headers=headers) as r:
        assert r.status == 200, r.status
        await r.content.readany()
        first = time.perf_counter() - t0
        await r.read()
    return first


def qa_ms(repeat: int = 50) -> float:
    card = load()
    lines = [Line("agent" if i % 2 else "citizen", i * 3.0, i * 3.0 + 2.5,
                  "您好，我家楼下的路灯坏了三天了，晚上很黑，请尽快派人来修一下" if i % 2 == 0 else
                  "好的，您反映的是楼下路灯坏了三天，我们会转给住建部门处理") for i in range(100)]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        auto_findings(card, lines, 300.0, typical=[180.0 + i for i in range(30)])
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def speech_bytes_per_minute(cache: Path, work: Path) -> float | None:
    """The tones above compress better than voices: the same storing (mix_stereo) on speech, the
    IVR's Mandarin prompts of the sandbox (one order on the caller's side, reversed on the agent's)."""
    pattern = "asterisk-root-*/usr/share/asterisk/sounds/callcenter/*.wav"
    prompts = sorted(await asyncio.to_thread(lambda: list(cache.glob(pattern))))[:60]
    if len(prompts) < 4:
        return None
    legs = [work / "caller.wav", work / "agent.wav"]
    for leg, order in zip(legs, (prompts, prompts[::-1]), strict=True):
        proc = await asyncio.create_subprocess_exec("sox", *map(str, order), "-r", "8000", "-c", "1", str(leg))
        await proc.wait()
    out = work / "speech.ogg"
    seconds = await mix_stereo(legs, [True, True], out)
    return (await asyncio.to_thread(out.stat)).st_size / seconds * 60


def spread(xs: list[float]) -> str:
    return f"median {statistics.median(xs):.3f}  spread {max(xs) - min(xs):.3f}  (runs: {', '.join(f'{x:.3f}' for x in xs)})"


def bench_settings(name: str, dbname: str, work: Path, *, rtp_start: int, **overrides) -> Settings:
    """A bench's own instance: its database, Redis index, MQTT prefix, ports and Asterisk; seats
    are Local channels into the sandbox's agent simulator; nothing but calls and recording on."""
    pid = os.getpid()
    fields = dict(
        env="test", database_url=ADMIN_DSN.rsplit("/", 1)[0] + f"/{dbname}",
        redis_url="redis://127.0.0.1:6379/13", mqtt_prefix=f"bench-{name}-{pid}/callcenter",
        ari_url=f"http://127.0.0.1:{free_port()}", ari_password=f"bench-{pid}", ari_app=f"bench-{name}-{pid}",
        agi_port=free_port(), http_port=free_port(), sip_port=free_port(), rtp_start=rtp_start,
        rtp_end=rtp_start + 999, asterisk_instance=f"bench-{name}-{pid}", wrap_up_s=0, log_level="WARNING",
        log_format="json", transcription_enabled=False, rating_enabled=False, survey_enabled=False,
        seat_interface="Local/{seat}@agent-sim/n", recordings_dir=work / "recordings", webrtc_port=0)
    return Settings(**(fields | overrides))


async def run(args) -> None:
    pid = os.getpid()
    dbname = f"callcenter_bench_rec_{pid}"
    work = Path(tempfile.mkdtemp(prefix="bench-recording-"))
    settings = bench_settings("rec", dbname, work, rtp_start=31000, recording_enabled=True)
    await db.fresh_database(ADMIN_DSN, dbname)
    inst = await asyncio.to_thread(start_instance, settings, roster_seat_ids(), echo=lambda *_: None)
    app = build_app(settings)
    runner = web.AppRunner(app)
    results: dict[str, list[float]] = {k: [] for k in ("off", "on", "ratio", "store", "bytes_min", "ttfb_ms",
                                                       "mixmon", "mixmon_ratio", "snoops", "snoops_ratio")}
    try:
        await start_app(runner, settings)
        ctx = app[STATE]["ctx"]
        acd = app[PLUGINS].acd.service.get()
        recorder = app[PLUGINS].recordings.service.get()
        seats = [f"seat{i:02d}" for i in range(1, args.calls + 1)]
        for i, seat in enumerate(seats):
            for name, value in ((f"AGENT_MODE_{seat}", "answer"), (f"AGENT_RING_{seat}", "0"),
                                (f"AGENT_TALK_{seat}", "3600"), (f"AGENT_TONE_{seat}", "440")):
                await ctx.ari.post("/asterisk/variable", variable=name, value=value)
            await acd.login(str(9100 + i), seat, interface=f"Local/{seat}@agent-sim/n", override_by="bench")
        base = f"http://127.0.0.1:{settings.http_port}"
        async with aiohttp.ClientSession() as http:
            headers = await session(http, base, ctx.pool)
            for n in range(args.runs):
                recorder.records = lambda _line: False
                off, _ = await talk_round(app, inst, args.calls, args.talk)
                mixmon, _ = await talk_round(app, inst, args.calls, args.talk, mixmonitor=True)
                results["mixmon"].append(mixmon)
                results["mixmon_ratio"].append(mixmon / off)
                snooped, _ = await talk_round(app, inst, args.calls, args.talk, snoops=True)
                results["snoops"].append(snooped)
                results["snoops_ratio"].append(snooped / off)
                recorder.records = lambda _line: True
                kids0 = children_cpu()
                on, calls = await talk_round(app, inst, args.calls, args.talk)

                async def all_stored(calls=calls) -> bool:
                    return await ctx.pool.fetchval("SELECT count(*) FROM recordings WHERE call_id = ANY($1)"
                                                   " AND state IN ('stored', 'failed')", calls) == len(calls)

                await until(all_stored, 120, "all stored")
                store_cpu = (children_cpu() - kids0) / len(calls)
                rows = await ctx.pool.fetch("SELECT call_id, bytes, duration_s, state FROM recordings"
                                            " WHERE call_id = ANY($1)", calls)
                ok = [r for r in rows if r["state"] == "stored"]
                per_min = statistics.mean(r["bytes"] / r["duration_s"] * 60 for r in ok)
                firsts = [await ttfb(http, f"{base}/api/calls/{r['call_id']}/recording", headers) for r in ok]
                results["off"].append(off)
                results["on"].append(on)
                results["ratio"].append(on / off if off else float("nan"))
                results["store"].append(store_cpu)
                results["bytes_min"].append(per_min)
                results["ttfb_ms"].append(statistics.median(firsts) * 1000)
                print(f"run {n + 1}: Asterisk CPU s/call off {off:.3f} on {on:.3f} ratio {on / off:.2f}x;"
                      f" storing {store_cpu:.3f} CPU s/call; {per_min / 1024:.1f} KiB per call-minute;"
                      f" first byte {statistics.median(firsts) * 1000:.1f} ms; {len(ok)}/{len(rows)} stored;"
                      f" MixMonitor(D) for comparison {mixmon:.3f} ({mixmon / off:.2f}x);"
                      f" the two snoops alone, not recorded {snooped:.3f} ({snooped / off:.2f}x)",
                      flush=True)
        qa = [qa_ms() for _ in range(args.runs)]
        speech = await speech_bytes_per_minute(settings.asterisk_cache, work)
        print(f"\n{args.calls} calls at once, {args.talk:.0f} s each, {args.runs} runs")
        print(f"Asterisk CPU s per call, recording off: {spread(results['off'])}")
        print(f"Asterisk CPU s per call, recording on:  {spread(results['on'])}")
        print(f"ratio on/off (goal <= 1.15):            {spread(results['ratio'])}")
        print(f"for comparison, MixMonitor(D) from the dialplan (not used: ARI cannot start it), CPU s per call: "
              f"{spread(results['mixmon'])}; ratio {spread(results['mixmon_ratio'])}")
        print(f"where it goes: the recorder's two snoops per call alone (no file), CPU s per call: "
              f"{spread(results['snoops'])}; ratio {spread(results['snoops_ratio'])}")
        print(f"storing (nice sox, after hang-up, controller's children) CPU s per call: {spread(results['store'])}")
        print(f"KiB per call-minute (stereo Ogg):       {spread([b / 1024 for b in results['bytes_min']])}")
        if speech is not None:
            print(f"KiB per call-minute of speech (prompts): {speech / 1024:.1f}")
        print(f"time to first byte of playback, ms:     {spread(results['ttfb_ms'])}")
        print(f"auto-QA ms per 5-minute call (goal 50): {spread(qa)}")
    finally:
        await tear_down(runner, inst, dbname, work)


async def start_app(runner: web.AppRunner, settings: Settings) -> None:
    """A bench's app serving on its own port, connected to its Asterisk."""
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.http_port).start()
    await asyncio.wait_for(runner.app[STATE]["ari"].connected.wait(), 20)


async def tear_down(runner: web.AppRunner, inst, dbname: str, *dirs: Path) -> None:
    """A bench's own app, Asterisk instance, directories and database, gone."""
    await runner.cleanup()
    await asyncio.to_thread(inst.stop)
    for d in (inst.host_dir, *dirs):
        shutil.rmtree(d, ignore_errors=True)
    await db.drop_database(ADMIN_DSN, dbname)


def bench_main(run, doc: str | None, *, calls: int, talk: float) -> None:
    """The call benches' command line: --runs, --calls, --talk (s)."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--calls", type=int, default=calls)
    p.add_argument("--talk", type=float, default=talk)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    bench_main(run, __doc__, calls=8, talk=20.0)
