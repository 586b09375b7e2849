#!/usr/bin/env python3
"""Experiment (issue 21): could recording share live transcription's taps instead of its own snoops?

With transcription's Asterisk side on every call (per leg a snoop `spy: in` in a mixing bridge with
an externalMedia RTP channel, as `transcription/tap.py` makes it; the RTP goes to a UDP socket here
nobody reads, no Vosk), Asterisk's CPU per call while `n` calls talk, for:
off (no taps), tx (the taps), tx+snoops (today's recorder beside them: two more snoops, recorded),
tx+bridgerec (recording the taps' bridges instead: a Recorder channel per leg, no extra snoop; needs
chan_bridge_media, loaded here over the CLI). Median and spread over the runs, ratio to tx.

    .venv/bin/python scripts/bench/recording_shapes.py CALLS TALK_S RUNS   (e.g. 8 15 2)
"""
# ruff: noqa: E402, E701, E702, E501
import asyncio
import os
import shutil
import socket
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_recording as b
from aiohttp import web

from callcenter.app import PLUGINS, STATE, build_app
from callcenter.infra import db
from callcenter.infra.sandbox import start_instance
from callcenter.stack import roster_seat_ids


async def talk(app, inst, n, secs, shape, sink):
    ari = app[STATE]["ctx"].ari; acd = app[PLUGINS].acd.service.get()
    calls = []
    for _ in range(n):
        cid = f"b-{uuid.uuid4().hex[:10]}"; calls.append(cid)
        await ari.post("/channels", endpoint="Local/12345@queue-direct/n", context="citizen-sim", extension="s", priority=1,
                       formats="alaw,ulaw", channelId=f"x-{cid}", otherChannelId=cid, callerId="13800000001",
                       body={"variables": {"__IVR_QUEUE": "general", "WAIT_BEFORE": "0.1", "HOLD_FOR": "600", "TONE": "1000"}})
    await b.until(lambda: all((c := acd.calls.get(i)) is not None and c.state == "bridged" for i in calls), 60, "bridged")
    made_ch, made_br, recs = [], [], []
    for c in calls:
        for leg, ch in (("c", c), ("a", acd.calls[c].agent_leg)):
            if shape == "off":
                continue
            br = f"xb-{leg}-{c}"; rtp = f"xr-{leg}-{c}"; sn = f"xs-{leg}-{c}"
            await ari.post("/bridges", type="mixing", bridgeId=br); made_br.append(br)
            await ari.post("/channels/externalMedia", app=ari.app, channelId=rtp, external_host=f"127.0.0.1:{sink}",
                           format="slin16", encapsulation="rtp", transport="udp", direction="both"); made_ch.append(rtp)
            await ari.post(f"/channels/{ch}/snoop", spy="in", whisper="none", app=ari.app, appArgs="transcription-tap", snoopId=sn); made_ch.append(sn)
            for _ in range(40):
                try:
                    await ari.post(f"/bridges/{br}/addChannel", channel=f"{sn},{rtp}"); break
                except Exception:
                    await asyncio.sleep(0.025)
            if shape == "tx+snoops":
                rs = f"xq-{leg}-{c}"
                await ari.post(f"/channels/{ch}/snoop", spy="in", whisper="none", app=ari.app, appArgs="recording-snoop", snoopId=rs); made_ch.append(rs)
                for _ in range(40):
                    try:
                        await ari.post(f"/channels/{rs}/record", name=rs, format="wav", ifExists="overwrite", beep=False, terminateOn="none"); recs.append(rs); break
                    except Exception:
                        await asyncio.sleep(0.025)
            if shape == "tx+bridgerec":
                rn = f"xq-{leg}-{c}"
                await ari.post(f"/bridges/{br}/record", name=rn, format="wav", ifExists="overwrite", beep=False, terminateOn="none"); recs.append(rn)
    await asyncio.sleep(1.0)
    c0 = b.cpu_seconds(inst.proc.pid); await asyncio.sleep(secs); c1 = b.cpu_seconds(inst.proc.pid)
    for r in recs:
        await ari.safe(ari.post(f"/recordings/live/{r}/stop", quiet=(404, 409)))
    for ch in made_ch:
        await ari.safe(ari.delete(f"/channels/{ch}"))
    for br in made_br:
        await ari.safe(ari.delete(f"/bridges/{br}"))
    for c in calls:
        await ari.safe(ari.delete(f"/channels/{c}"))
    await b.until(lambda: not any(c in acd.calls for c in calls), 60, "ended")
    for r in recs:
        await ari.safe(ari.delete(f"/recordings/stored/{r}"))
    return (c1 - c0) / n

async def main(n, secs, reps):
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sink.bind(("127.0.0.1", 0)); port = sink.getsockname()[1]
    pid = os.getpid(); dbname = f"callcenter_bench_sh_{pid}"; work = Path(tempfile.mkdtemp())
    s = b.bench_settings("sh", dbname, work, rtp_start=33000, recording_enabled=False)
    await db.fresh_database(b.ADMIN_DSN, dbname)
    inst = await asyncio.to_thread(start_instance, s, roster_seat_ids(), echo=lambda *_: None)
    app = build_app(s); runner = web.AppRunner(app)
    try:
        print(inst.cli("module load chan_bridge_media.so"))
        await runner.setup(); await web.TCPSite(runner, "127.0.0.1", s.http_port).start()
        await asyncio.wait_for(app[STATE]["ari"].connected.wait(), 20)
        ctx = app[STATE]["ctx"]; acd = app[PLUGINS].acd.service.get()
        for i in range(n):
            seat = f"seat{i+1:02d}"
            for k, v in ((f"AGENT_MODE_{seat}", "answer"), (f"AGENT_RING_{seat}", "0"), (f"AGENT_TALK_{seat}", "3600"), (f"AGENT_TONE_{seat}", "440")):
                await ctx.ari.post("/asterisk/variable", variable=k, value=v)
            await acd.login(str(9100 + i), seat, interface=f"Local/{seat}@agent-sim/n", override_by="bench")
        shapes = ["off", "tx", "tx+snoops", "tx+bridgerec"]
        res = {k: [] for k in shapes}
        for r in range(reps):
            for sh in shapes:
                res[sh].append(await talk(app, inst, n, secs, sh, port)); print(r, sh, round(res[sh][-1], 3), flush=True)
        tx = statistics.median(res["tx"])
        for sh in shapes:
            xs = res[sh]
            print(f"{sh:14s} median {statistics.median(xs):.3f} spread {max(xs)-min(xs):.3f} ratio to tx {statistics.median(xs)/tx:.2f}")
    finally:
        await runner.cleanup(); await asyncio.to_thread(inst.stop); shutil.rmtree(inst.host_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True); await db.drop_database(b.ADMIN_DSN, dbname)

asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])))
