#!/usr/bin/env python3
"""Decoder settings of the model's conf/model.conf against cost and words: the benchmark's
conversation (speech parts only, as the VAD gate passes them) decoded with each setting, through
the same overlay directory the service builds (callcenter/transcription/decoder_conf.py).
Prints CPU-s per speech-s (best of --reps), its ratio to the model's own conf, the word overlap
with the model-conf text (share of its words found, and the reverse), and the overlap with the
syllables of the script that espeak-ng spoke (the small model's words are
pieces of the script's; with espeak-ng's voice it finds few of them: the text is poor anyway, what
is measured is how much a setting changes it).

    .venv/bin/python scripts/bench/tune_vosk.py [--reps 2] [--only fast,model] [--extra JSON]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcription import TURNS, model_path, speak  # noqa: E402

from callcenter.transcription.decoder_conf import DECODERS, overlay  # noqa: E402
from callcenter.transcription.text import word_overlap  # noqa: E402

# named settings of the service first, then single knobs and combinations around them
EXTRA: list[dict[str, str]] = [
    {"beam": "9.0"},
    {"beam": "8.0"},
    {"beam": "7.0"},
    {"max-active": "2000"},
    {"max-active": "1500"},
    {"max-active": "1000"},
    {"lattice-beam": "1.0"},
    {"lattice-beam": "0.5"},
    {"frames-per-chunk": "51"},
    {"beam": "9.0", "max-active": "2000", "lattice-beam": "1.0"},
    {"beam": "8.0", "max-active": "1500", "lattice-beam": "1.0"},
    {"beam": "7.0", "max-active": "1000", "lattice-beam": "1.0"},
]


def syllables(text: str) -> str:
    """Hangul syllables as words: the model's words are short pieces, rarely the script's words."""
    return " ".join(c for c in text if not c.isspace())


def decode(model, clips: list[bytes]) -> tuple[str, float]:
    import vosk

    rec = vosk.KaldiRecognizer(model, 16000)
    rec.SetWords(True)
    texts = []
    t0 = time.process_time()
    for pcm in clips:
        for i in range(0, len(pcm), 3200):
            rec.AcceptWaveform(pcm[i:i + 3200])
        texts.append(json.loads(rec.FinalResult())["text"])
    return " ".join(texts), time.process_time() - t0


def main() -> None:
    import vosk

    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated names of DECODERS (no extra settings)")
    ap.add_argument("--extra", default="", help='JSON list of settings to try instead of the built-in ones, '
                    'e.g. [{"max-active": "1200"}]')
    args = ap.parse_args()
    extra = json.loads(args.extra) if args.extra else EXTRA
    vosk.SetLogLevel(-1)
    clips = [speak(text) for _, text in TURNS]
    speech_s = sum(len(c) for c in clips) / 32000
    script = " ".join(re.sub(r"[^\w\s]", " ", t) for _, t in TURNS)
    named = [(n, DECODERS[n]) for n in (args.only.split(",") if args.only else DECODERS)]
    runs = [(n, c) for n, c in named] + ([] if args.only else [(json.dumps(c), c) for c in extra])
    print(f"{speech_s:.1f} s of speech, {len(script.split())} script words, best of {args.reps} runs")
    reference, base = None, None
    with tempfile.TemporaryDirectory() as d:
        for name, changes in runs:
            model = vosk.Model(str(overlay(model_path(), changes, Path(d))))
            best, texts = float("inf"), []
            for _ in range(args.reps):
                text, cpu = decode(model, clips)
                best = min(best, cpu)
                texts.append(text)
            del model
            reference = reference if reference is not None else texts[0]
            base = base or best
            again = min(word_overlap(texts[0], t) for t in texts)
            print(f"{name:62s} {best / speech_s:.3f} CPU-s/speech-s ({best / base:.2f}x)  overlap with "
                  f"model conf {word_overlap(reference, text):.2f} / reverse {word_overlap(text, reference):.2f}"
                  f"  run-to-run {again:.2f}"
                  f"  script syllables found {word_overlap(syllables(script), syllables(text)):.2f}", flush=True)


if __name__ == "__main__":
    main()
