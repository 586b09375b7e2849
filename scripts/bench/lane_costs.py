#!/usr/bin/env python3
"""What the pipeline adds to Vosk's decoding, piece by piece, on the benchmark's citizen track
(its turns and pauses, as a lane sees them), all in this process, CPU-s per audio-s of the track:

1. raw: Vosk fed the speech clips only (what a perfect gate would pass), 100 ms chunks, a new
   recognizer per utterance, then a warm one from the DecoderPool;
2. feed size: the same speech fed in 20 / 100 / 200 / 400 ms pieces (each AcceptWaveform call
   also traces the best path back for silence weighting and endpointing);
3. partials: a PartialResult every 0.2 / 0.4 / 0.8 s of speech, or none;
4. SetWords on or off (Vosk computes the word confidences either way);
5. the VAD gate alone (webrtcvad and the energy fallback) over the whole track;
6. the lane itself (`Lane.process`: VAD, segmentation, decoding, partials) over the whole track,
   as the service feeds it (100 ms batches), with the lane's feed size and partial period.

    .venv/bin/python scripts/bench/lane_costs.py [--decoder model|fast] [--reps 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcription import RATE, TURNS, conversation, model_path, speak  # noqa: E402

from callcenter.transcription.decoder_conf import model_dir  # noqa: E402
from callcenter.transcription.model import Leg, energy_voiced  # noqa: E402
from callcenter.transcription.recognizer import FRAME_MS, DecoderPool, Lane, Spool, load_model  # noqa: E402


def best(reps: int, fn) -> float:
    out = float("inf")
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        out = min(out, time.process_time() - t0)
    return out


def feed(model, clips: list[bytes], chunk_ms: int, partial_every_s: float = 0.0, words: bool = True,
         pool: DecoderPool | None = None) -> None:
    import vosk

    step = RATE * 2 * chunk_ms // 1000
    for pcm in clips:
        dec = pool.acquire() if pool else None
        rec = dec.rec if dec else vosk.KaldiRecognizer(model, RATE)
        rec.SetWords(words)
        since = 0.0
        for i in range(0, len(pcm), step):
            rec.AcceptWaveform(pcm[i:i + step])
            since += chunk_ms / 1000
            if partial_every_s and since >= partial_every_s:
                since = 0.0
                rec.PartialResult()
        rec.FinalResult()
        if pool and dec:
            pool.release(dec)


def lane_run(model, track: bytes, spool: Spool, **kw) -> None:
    lane = Lane("bench", Leg.CITIZEN, model, RATE, spool, **kw)
    step = RATE * 2 // 10
    for i in range(0, len(track), step):
        lane.process([(track[i:i + step], 0.0)], partials=True, live=lambda: True)
    lane.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--decoder", default="model")
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        model = load_model(model_dir(model_path(), args.decoder, Path(d)))
        citizen, _agent, _speech = conversation()
        clips = [speak(t) for leg, t in TURNS if leg == "citizen"]
        audio_s = len(citizen) / (2 * RATE)
        speech_s = sum(len(c) for c in clips) / (2 * RATE)
        print(f"decoder {args.decoder}; citizen track {audio_s:.1f} s, {speech_s:.1f} s of it speech; "
              f"CPU-s per audio-s of the track, best of {args.reps}")
        raw = best(args.reps, lambda: feed(model, clips, 100))
        print(f"1. raw Vosk, speech only, 100 ms pieces, a new recognizer per utterance: {raw / audio_s:.4f}")
        pool = DecoderPool(model, RATE)
        warm = best(args.reps, lambda: feed(model, clips, 100, pool=pool))
        print(f"1. the same with a warm recognizer from the pool (as lanes and deferred decoding now do): "
              f"{warm / audio_s:.4f} ({warm / raw:.2f}x)")
        for ms in (20, 100, 200, 400):
            c = best(args.reps, lambda ms=ms: feed(model, clips, ms))
            print(f"2. feed {ms:3d} ms pieces: {c / audio_s:.4f} ({c / raw:.2f}x raw)")
        for every in (0.2, 0.4, 0.8, 0.0):
            c = best(args.reps, lambda every=every: feed(model, clips, 100, every))
            print(f"3. partial every {every or 'never'} s: {c / audio_s:.4f} ({c / raw:.2f}x raw)")
        for words in (True, False):
            c = best(args.reps, lambda words=words: feed(model, clips, 100, 0.0, words))
            print(f"4. SetWords({words}): {c / audio_s:.4f} ({c / raw:.2f}x raw)")
        import webrtcvad

        frame = RATE * 2 * FRAME_MS // 1000
        frames = [citizen[i:i + frame] for i in range(0, len(citizen) - frame + 1, frame)]
        vad = webrtcvad.Vad(2)
        c = best(args.reps, lambda: [vad.is_speech(f, RATE) for f in frames])
        print(f"5. webrtcvad alone: {c / audio_s:.4f}")
        c = best(args.reps, lambda: [energy_voiced(f) for f in frames])
        print(f"5. energy gate alone: {c / audio_s:.4f}")
        spool = Spool(Path(d) / "spool", 1 << 26)
        c = best(args.reps, lambda: lane_run(model, citizen, spool))
        print(f"6. Lane.process over the whole track (as configured): {c / audio_s:.4f} ({c / raw:.2f}x raw)")


if __name__ == "__main__":
    main()
