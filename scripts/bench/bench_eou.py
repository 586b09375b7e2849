#!/usr/bin/env python3
"""End of utterance -> citizen final, in this process (no Asterisk, no sockets): the benchmark's
turns spoken by espeak-ng at three speeds, each followed by a pause, fed to a `Lane` as the service
does (20 ms frames handed over in 100 ms batches), on a *virtual* real-time clock: a batch is
handed over when its last frame has "arrived" and the worker is free, and it takes as long as
`Lane.process` really took. So the latency (last voiced frame -> final) is the hangover plus the
batching plus the real decode time, without the sandbox's or the machine's other noise, except the
decode time itself (also given as thread CPU time, which other processes do not inflate).

Word overlap: the finals of a leg against the same clips decoded directly by Vosk (one
recognizer, each clip fed whole, FinalResult), the measure of tests/integration/test_transcription_*.

    .venv/bin/python scripts/bench/bench_eou.py [--decoder fast] [--reps 3] [--configs JSON]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcription import RATE, TURNS, model_path  # noqa: E402

from callcenter.transcription.decoder_conf import model_dir  # noqa: E402
from callcenter.transcription.model import Leg  # noqa: E402
from callcenter.transcription.recognizer import DecoderPool, Lane, Spool, load_model  # noqa: E402
from callcenter.transcription.text import word_overlap  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "bench-transcription-cache"
FRAME = RATE * 2 // 50  # 20 ms
BATCH = 5  # frames per hand-over (LaneRunner.min_bytes: 100 ms)


def speak(text: str, speed: int) -> bytes:
    import subprocess
    import wave

    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["espeak-ng", "-v", "ko", "-s", str(speed), "-w", f"{d}/r.wav", text], check=True)
        subprocess.run(["sox", f"{d}/r.wav", "-r", str(RATE), "-c", "1", "-b", "16", f"{d}/s.wav"], check=True)
        with wave.open(f"{d}/s.wav") as w:
            return w.readframes(w.getnframes())


def clips() -> list[bytes]:
    return [speak(text, speed) for speed in (130, 150, 175) for _, text in TURNS]


def direct(model, pcs: list[bytes]) -> str:
    import vosk

    rec = vosk.KaldiRecognizer(model, RATE)
    out = []
    for pcm in pcs:
        for i in range(0, len(pcm), 3200):
            rec.AcceptWaveform(pcm[i:i + 3200])
        out.append(json.loads(rec.FinalResult())["text"])
    return " ".join(t for t in out if t)


def run_lane(model, decoders, track: bytes, spool: Spool, cfg: dict) -> dict:
    lane = Lane("eou", Leg.CITIZEN, model, RATE, spool, decoders=decoders, **cfg)
    frames = [track[i:i + FRAME] for i in range(0, len(track) - FRAME + 1, FRAME)]
    free_at = 0.0  # virtual time the worker is free
    lat, lat_cpu, finals, seen, prov = [], [], {}, [], {}
    same = []  # provisional text == final text
    for b in range(0, len(frames), BATCH):
        chunk = [(f, (b + k + 1) * 0.02) for k, f in enumerate(frames[b:b + BATCH])]
        start = max(chunk[-1][1], free_at)
        w0, c0 = time.perf_counter(), time.thread_time()
        utts = lane.process(chunk, partials=True, live=lambda: True)
        wall, cpu = time.perf_counter() - w0, time.thread_time() - c0
        free_at = start + wall
        for u in utts:
            if u.provisional:
                prov[u.seq] = (u.spoken_end_at, free_at, start + cpu, u.text)
            elif u.final:
                if u.spoken_end_at is not None and u.seq not in finals:
                    lat.append(free_at - u.spoken_end_at)
                    lat_cpu.append(start + cpu - u.spoken_end_at)
                    p = prov.get(u.seq)
                    if p is not None and p[0] == u.spoken_end_at:  # sent after the last speech
                        seen.append(p[1] - u.spoken_end_at)
                        same.append(word_overlap(u.text, p[3]))
                    else:
                        seen.append(lat[-1])
                finals[u.seq] = u.text
    for u in lane.close():
        finals[u.seq] = u.text
    return {"lat": lat, "lat_cpu": lat_cpu, "text": " ".join(t for _, t in sorted(finals.items()) if t),
            "finals": len(finals), "seen": seen,
            "same": sum(same) / len(same) if same else float("nan"), "provisionals": len(same)}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--decoder", default="fast")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--pause", type=float, default=2.0, help="seconds of silence after each turn")
    ap.add_argument("--configs", default='[{"end_ms": 500}, {"end_ms": 400}, {"end_ms": 300}]',
                    help="JSON list of Lane keyword arguments; the first is the baseline")
    args = ap.parse_args()
    model = load_model(model_dir(model_path(), args.decoder, CACHE))
    pcs = clips()
    pause = bytes(int(args.pause * RATE) * 2)
    track = b"".join(c + pause for c in pcs)
    ref = direct(model, pcs)
    decoders = DecoderPool(model, RATE)
    print(f"{len(pcs)} utterances, {len(track) / 2 / RATE:.0f} s of track, decoder {args.decoder}, "
          f"load average {os.getloadavg()[0]:.2f}")
    base_text = None
    with tempfile.TemporaryDirectory() as d:
        spool = Spool(Path(d), 1 << 26)
        run_lane(model, decoders, track, spool, json.loads(args.configs)[0])  # warm the decoders
        for cfg in json.loads(args.configs):
            p50s, p99s, p99c, s50, s99, ov, ovb, same = [], [], [], [], [], [], [], []
            for _ in range(args.reps):
                r = run_lane(model, decoders, track, spool, cfg)
                p50s.append(pct(r["lat"], 0.5) * 1000)
                p99s.append(pct(r["lat"], 0.99) * 1000)
                p99c.append(pct(r["lat_cpu"], 0.99) * 1000)
                s50.append(pct(r["seen"], 0.5) * 1000)
                s99.append(pct(r["seen"], 0.99) * 1000)
                ov.append(word_overlap(ref, r["text"]))
                base_text = base_text or r["text"]
                ovb.append(word_overlap(base_text, r["text"]))
                same.append(r["same"])

            def span(v: list[float], f: str = ".0f") -> str:
                return f"{min(v):{f}}..{max(v):{f}}"
            print(f"{json.dumps(cfg)}: {r['finals']} finals; final p50 {span(p50s)} p99 {span(p99s)} ms "
                  f"(cpu-clocked p99 {span(p99c)}); first text of the utterance on the desk (provisional or "
                  f"final) p50 {span(s50)} p99 {span(s99)} ms ({r['provisionals']} provisionals after the last "
                  f"speech, share of the final's words in them {span(same, '.2f')}); word overlap with direct "
                  f"Vosk {span(ov, '.3f')}, with the baseline's first text {span(ovb, '.3f')} | load "
                  f"{os.getloadavg()[0]:.2f}", flush=True)

if __name__ == "__main__":
    os.environ.setdefault("CALLCENTER_LOG_LEVEL", "WARNING")
    main()
