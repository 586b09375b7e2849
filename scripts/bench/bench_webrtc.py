#!/usr/bin/env python3
"""Browser phone benchmark (issue 23): call set-up time to the desk's ringing, and Asterisk's CPU
per call for a WebRTC seat against a UDP SIP seat, on the same Asterisk in the same process run.

On its own sandbox Asterisk (with its WSS port and local certificates), database and ports, with
the whole controller in this process: Debian's Chromium opens the desk page (/agent) as agent
1001, whose seat's browser phone (seatNN-web: SIP over WSS, DTLS-SRTP, ICE) registers; baresip
registers seat two's desk phone (SIP over UDP, G.711, auto-answer) for agent 1002. Each run puts
`--calls` citizen calls (a 1000 Hz tone) one after the other to each seat (the other agent
paused; the order of the two seats alternates from run to run), each answered (the bench clicks
the page's answer button at the ringing; baresip answers by itself), talking `--talk` seconds
(the agent's voice: a 440 Hz tone on both phones) and hung up by the caller. It prints per run
and over the runs: the set-up time, from the call's entry into the ACD (and from the originate)
to the page's phone in the ringing state (`#phone-state[data-state=ringing]`, stamped in the
page by a MutationObserver), median, p10/p90 and min/max over all calls; Asterisk's CPU seconds
(/proc/<pid>/stat utime+stime) per call over the talk window and over the whole call, for each
seat, and their ratio WebRTC/UDP (the main figure: machines differ); the codec negotiated on
each agent leg (CHANNEL(audionativeformat)). Loopback only; nothing downloaded.

    .venv/bin/python scripts/bench/bench_webrtc.py [--runs 3] [--calls 5] [--talk 10]
"""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from accounts_support import browser_login  # noqa: E402
from bench_recording import (  # noqa: E402
    ADMIN_DSN,
    bench_main,
    bench_settings,
    cpu_seconds,
    start_app,
    tear_down,
    until,
)
from chromium_support import webrtc_args  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402
from softphone import Baresip  # noqa: E402

from callcenter.app import PLUGINS, STATE, build_app  # noqa: E402
from callcenter.infra import db  # noqa: E402
from callcenter.infra.ari import TRUNK_FORMATS  # noqa: E402
from callcenter.infra.asterisk_conf import seat_password  # noqa: E402
from callcenter.infra.certs import spki_sha256  # noqa: E402
from callcenter.infra.ports import free_port  # noqa: E402
from callcenter.infra.sandbox import start_instance  # noqa: E402
from callcenter.stack import roster_seat_ids  # noqa: E402

WEB_AGENT, UDP_AGENT = "1001", "1002"
RING_STAMP = """() => {
  const el = document.getElementById("phone-state");
  window.__rings = []; let last = el.dataset.state;
  new MutationObserver(() => {
    if (el.dataset.state === "ringing" && last !== "ringing") window.__rings.push(Date.now());
    last = el.dataset.state;
  }).observe(el, { attributes: true, attributeFilter: ["data-state"] });
}"""


def tone(path: Path, rate: int, seconds: float) -> None:
    """The agent's voice on both phones: a 440 Hz tone."""
    subprocess.run(["sox", "-q", "-n", "-r", str(rate), "-c", "1", "-b", "16", str(path), "synth", str(seconds),
                    "sine", "440", "vol", "0.5"], check=True)


def now_ms() -> float:
    return time.time() * 1000


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def dist(xs: list[float]) -> str:
    return (f"median {statistics.median(xs):.0f}  p10 {pct(xs, 0.1):.0f}  p90 {pct(xs, 0.9):.0f}  "
            f"min {min(xs):.0f}  max {max(xs):.0f}  (n={len(xs)})")


def spread(xs: list[float], f: str = ".3f") -> str:
    return (f"median {statistics.median(xs):{f}}  spread {max(xs) - min(xs):{f}}  "
            f"(runs: {', '.join(f'{x:{f}}' for x in xs)})")


async def codec(ari, channel: str) -> str:
    async def var(name: str) -> str:
        try:
            return (await ari.get(f"/channels/{channel}/variable", variable=name)).get("value", "?")
        except Exception as exc:  # noqa: BLE001 - a figure's label, never the bench's failure
            return f"? ({exc.__class__.__name__})"
    native, read, write = [await var(f"CHANNEL({v})") for v in ("audionativeformat", "audioreadformat",
                                                                   "audiowriteformat")]
    return native if read == write == native else f"{native} (read {read}, write {write})"


class Bench:
    def __init__(self, app, inst, args, page):
        self.inst, self.args, self.page = inst, args, page
        self.ari = app[STATE]["ctx"].ari
        self.acd = app[PLUGINS].acd.service.get()
        self.rings = 0
        self.codecs: dict[str, dict[str, list[float]]] = {"webrtc": {}, "udp": {}}  # path -> talk CPU

    def state(self, agent: str):
        return self.acd.slots[agent].agent.state

    async def page_state(self) -> str:
        return await self.page.locator("#phone-state").get_attribute("data-state") or ""

    async def ready(self, kind: str) -> None:
        agent = WEB_AGENT if kind == "webrtc" else UDP_AGENT
        try:
            if kind == "webrtc":
                async def registered() -> bool:
                    return await self.page_state() == "registered"
                await until(registered, 30, "the browser phone registered, idle")
            await until(lambda: self.state(agent) == "available", 30, f"{kind} agent {agent} available")
        except TimeoutError:
            print(f"agent {agent}: {self.state(agent)}; desk phone:",
                  await self.page.locator("#phone-panel").inner_text(), await self.page.evaluate(
                "() => [!!window.JsSIP, typeof window.deskPhone, phone.seat, !!phone.cred, !!phone.ua]"),
                  self.page.console[-20:])
            raise

    async def one_call(self, kind: str) -> dict[str, float]:
        """One citizen call to the seat of `kind`, answered, talking, hung up by the caller."""
        acd, ari, pid = self.acd, self.ari, self.inst.proc.pid
        call_id = f"w-{uuid.uuid4().hex[:10]}"
        cpu0, t_orig = cpu_seconds(pid), now_ms()
        await ari.post("/channels", endpoint="Local/12345@queue-direct/n", context="citizen-sim", extension="s",
                       priority=1, formats=TRUNK_FORMATS, channelId=f"x-{call_id}", otherChannelId=call_id,
                       callerId="13800000001", body={"variables": {
                           "__IVR_QUEUE": "general", "WAIT_BEFORE": "0", "HOLD_FOR": "600", "TONE": "1000"}})
        await until(lambda: call_id in acd.calls, 30, f"{call_id} in the ACD")
        entered = acd.calls[call_id].entered_at.timestamp() * 1000
        out: dict[str, float] = {}
        if kind == "webrtc":
            await self.page.wait_for_function("n => window.__rings.length > n", arg=self.rings, timeout=30000)
            self.rings += 1
            ring = await self.page.evaluate("window.__rings[window.__rings.length - 1]")
            out |= {"ring_entry": ring - entered, "ring_orig": ring - t_orig}
            await self.page.click("#phone-answer")

        def bridged() -> bool:
            c = acd.calls.get(call_id)
            return c is not None and c.state == "bridged"
        await until(bridged, 30, f"{kind} call bridged")
        out["bridged_entry"] = now_ms() - entered
        await asyncio.sleep(1.0)
        c0 = cpu_seconds(pid)
        await asyncio.sleep(self.args.talk)
        out["talk_cpu"] = cpu_seconds(pid) - c0
        path = await codec(ari, acd.calls[call_id].agent_leg)  # after the window: ARI costs CPU too
        self.codecs[kind].setdefault(path, []).append(out["talk_cpu"])
        await ari.safe(ari.delete(f"/channels/{call_id}"))
        await until(lambda: call_id not in acd.calls, 30, "call ended")
        await self.ready(kind)
        out["call_cpu"] = cpu_seconds(pid) - cpu0
        return out

    async def block(self, kind: str) -> list[dict[str, float]]:
        other = UDP_AGENT if kind == "webrtc" else WEB_AGENT
        await self.acd.pause(other, "break")
        try:
            await self.ready(kind)
            return [await self.one_call(kind) for _ in range(self.args.calls)]
        finally:
            await self.acd.unpause(other)

    async def idle_cpu(self) -> float:
        """Asterisk's CPU over one talk window with both phones registered and no call."""
        c0 = cpu_seconds(self.inst.proc.pid)
        await asyncio.sleep(self.args.talk)
        return cpu_seconds(self.inst.proc.pid) - c0


async def start_browser(pw, base: str, pool, seat: str, keys: Path, work: Path):
    mic = work / "mic.wav"
    await asyncio.to_thread(tone, mic, 48000, 30)  # Chromium loops its fake microphone's file
    args = webrtc_args(spki_sha256(keys / "asterisk.crt"), mic)
    browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console = []
    page.on("console", lambda m: page.console.append(f"{m.type}: {m.text}"))
    await browser_login(page, base, pool, f"agent:{WEB_AGENT}", f"/agent?seat={seat}")
    await page.wait_for_selector("#phone-state")
    await page.evaluate(RING_STAMP)
    return browser, page, errors


def explain(args) -> None:
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"What is measured: {args.calls} citizen calls per seat and run, one at a time, to (a) a WebRTC"
          " seat (Debian Chromium on the desk page /agent: JsSIP over WSS to Asterisk's TLS HTTP server,"
          " DTLS-SRTP, ICE, rtcp-mux) and (b) a UDP SIP seat (baresip, G.711, auto-answer), on the same"
          f" sandbox Asterisk in this one process run, {args.runs} runs. Every call has the same shape: the"
          " same simulated citizen (Local channel, 1000 Hz tone, alaw/ulaw) enters the ACD, is offered to"
          f" the seat, answered, bridged, talks {args.talk:.0f} s (440 Hz tone from the agent's phone) and"
          " is hung up by the caller; only the agent's phone differs. Set-up time is from the call's entry"
          " into the ACD (Call.entered_at) to the page's phone turning to 'ringing' (a MutationObserver's"
          " Date.now() on the same clock). Asterisk CPU is utime+stime of its process over the talk window"
          " (1 s after the bridge, for --talk s) and over the whole call (originate to the agent free"
          " again), per call; the ratio WebRTC/UDP is the main figure. The browser's own CPU is not"
          " counted. The idle line is Asterisk's CPU over one talk window with both phones registered.")


async def run(args) -> None:
    explain(args)
    pid = os.getpid()
    dbname = f"callcenter_bench_webrtc_{pid}"
    work = Path(tempfile.mkdtemp(prefix="bench-webrtc-"))
    settings = bench_settings("webrtc", dbname, work, rtp_start=20000, webrtc_port=free_port(),
                              sip_port=free_port(socket.SOCK_DGRAM), seat_interface="PJSIP/{seat}",
                              recording_enabled=False)
    await db.fresh_database(ADMIN_DSN, dbname)
    inst = await asyncio.to_thread(start_instance, settings, roster_seat_ids(), echo=lambda *_: None)
    app = build_app(settings)
    runner = web.AppRunner(app)
    web_seat, udp_seat = roster_seat_ids()[:2]
    voice = work / "voice.wav"  # baresip's voice; its aufile does not loop: longer than any call
    await asyncio.to_thread(tone, voice, 8000, args.talk + 60)
    phone = Baresip(udp_seat, seat_password(settings.sip_secret, udp_seat), settings.sip_port,
                    source_wav=str(voice), quit_after_s=86400)  # a bench runs longer than a test
    res: dict[str, list] = {k: [] for k in ("ring_entry", "ring_orig", "web_bridged", "udp_bridged", "idle",
                                            "web_talk", "udp_talk", "talk_ratio", "web_call", "udp_call",
                                            "call_ratio", "net_ratio")}
    try:
        await start_app(runner, settings)
        ctx = app[STATE]["ctx"]
        acd = app[PLUGINS].acd.service.get()
        phone.start()
        await until(lambda: acd.endpoint_online(udp_seat), 20, f"baresip registered {udp_seat}")
        await acd.login(UDP_AGENT, udp_seat, interface=f"PJSIP/{udp_seat}", override_by="bench")
        await acd.login(WEB_AGENT, web_seat, interface=f"PJSIP/{web_seat}", override_by="bench")
        async with async_playwright() as pw:
            browser, page, errors = await start_browser(pw, f"http://127.0.0.1:{settings.http_port}", ctx.pool,
                                                        web_seat, inst.keys_dir, work)
            bench = Bench(app, inst, args, page)
            await bench.ready("webrtc")
            await bench.ready("udp")
            print(f"seats: WebRTC {web_seat}-web (agent {WEB_AGENT}), UDP {udp_seat} (agent {UDP_AGENT},"
                  f" baresip); Asterisk pid {inst.proc.pid}\n", flush=True)
            for n in range(args.runs):
                idle = await bench.idle_cpu()
                order = ("webrtc", "udp") if n % 2 == 0 else ("udp", "webrtc")
                got = {kind: await bench.block(kind) for kind in order}
                w, u = got["webrtc"], got["udp"]
                res["ring_entry"] += [c["ring_entry"] for c in w]
                res["ring_orig"] += [c["ring_orig"] for c in w]
                res["web_bridged"] += [c["bridged_entry"] for c in w]
                res["udp_bridged"] += [c["bridged_entry"] for c in u]
                wt, ut = (statistics.mean(c["talk_cpu"] for c in x) for x in (w, u))
                wc, uc = (statistics.mean(c["call_cpu"] for c in x) for x in (w, u))
                for key, value in (("idle", idle), ("web_talk", wt), ("udp_talk", ut), ("web_call", wc),
                                   ("udp_call", uc), ("talk_ratio", wt / ut if ut else float("nan")),
                                   ("call_ratio", wc / uc if uc else float("nan")),
                                   ("net_ratio", (wt - idle) / (ut - idle) if ut > idle else float("nan"))):
                    res[key].append(value)
                print(f"run {n + 1} (order {'/'.join(order)}): set-up entry->ringing median"
                      f" {statistics.median(c['ring_entry'] for c in w):.0f} ms; Asterisk CPU s/call, talk"
                      f" window: WebRTC {wt:.3f} UDP {ut:.3f} ratio {res['talk_ratio'][-1]:.2f}x; whole call:"
                      f" WebRTC {wc:.3f} UDP {uc:.3f} ratio {res['call_ratio'][-1]:.2f}x; idle per window"
                      f" {idle:.3f}", flush=True)
            if errors:
                print(f"JavaScript errors on the desk page: {errors}")
            await browser.close()
        print(f"\n{args.calls} calls per seat and run, {args.talk:.0f} s talk, {args.runs} runs")
        print(f"caller: {TRUNK_FORMATS} (Local channel); agent leg's codec (format path at the end of the talk"
              " window: talk CPU s/call median, calls):")
        for kind, paths in bench.codecs.items():
            print(f"  {kind}: " + "; ".join(f"{p}: {statistics.median(v):.3f} ({len(v)})" for p, v in paths.items()))
        print(f"set-up, entry into the ACD -> browser ringing, ms: {dist(res['ring_entry'])}")
        print(f"set-up, originate -> browser ringing, ms:          {dist(res['ring_orig'])}")
        print(f"for comparison, entry -> bridged, ms: WebRTC (bench clicks answer at ringing)"
              f" {dist(res['web_bridged'])}; UDP (baresip auto-answer) {dist(res['udp_bridged'])}")
        print(f"Asterisk CPU s/call, talk window, WebRTC:  {spread(res['web_talk'])}")
        print(f"Asterisk CPU s/call, talk window, UDP:     {spread(res['udp_talk'])}")
        print(f"ratio WebRTC/UDP, talk window (main):      {spread(res['talk_ratio'], '.2f')}")
        print(f"ratio WebRTC/UDP, talk window less idle:   {spread(res['net_ratio'], '.2f')}")
        print(f"Asterisk CPU s/call, whole call, WebRTC:   {spread(res['web_call'])}")
        print(f"Asterisk CPU s/call, whole call, UDP:      {spread(res['udp_call'])}")
        print(f"ratio WebRTC/UDP, whole call:              {spread(res['call_ratio'], '.2f')}")
        print(f"Asterisk idle CPU s per {args.talk:.0f} s window:       {spread(res['idle'])}")
    finally:
        phone.kill()
        await tear_down(runner, inst, dbname, work, phone.dir)


if __name__ == "__main__":
    bench_main(run, __doc__, calls=5, talk=10.0)
