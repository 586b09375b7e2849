#!/usr/bin/env python3
"""Decoder settings of the model's conf/model.conf against cost and words: the benchmark's
conversation (speech parts only, as the VAD gate passes them) decoded with each setting; CPU-s per
speech-s and word overlap with the model's own default setting.

    .venv/bin/python scripts/bench/tune_vosk.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcription import TURNS, model_path, speak  # noqa: E402

from callcenter.transcription.text import word_overlap  # noqa: E402

SETTINGS = [
    {},  # the model's own conf
    {"beam": "8.0"},
    {"beam": "6.0"},
    {"max-active": "1500"},
    {"beam": "8.0", "max-active": "1500", "lattice-beam": "1.0"},
    {"beam": "6.0", "max-active": "1000", "lattice-beam": "1.0"},
]


def variant(base: Path, changes: dict[str, str], into: Path) -> Path:
    """A model dir that shares base's files (symlinks) with a changed conf/model.conf."""
    into.mkdir()
    for item in base.iterdir():
        if item.name != "conf":
            (into / item.name).symlink_to(item)
    shutil.copytree(base / "conf", into / "conf")
    lines = []
    for line in (base / "conf" / "model.conf").read_text().splitlines():
        key = line.lstrip("-").split("=")[0]
        lines.append(f"--{key}={changes[key]}" if key in changes else line)
    (into / "conf" / "model.conf").write_text("\n".join(lines) + "\n")
    return into


def decode(model, clips: list[bytes]) -> tuple[str, float]:
    import vosk

    rec = vosk.KaldiRecognizer(model, 16000)
    texts = []
    t0 = time.process_time()
    for pcm in clips:
        for i in range(0, len(pcm), 3200):
            rec.AcceptWaveform(pcm[i:i + 3200])
        texts.append(json.loads(rec.FinalResult())["text"])
    return " ".join(texts), time.process_time() - t0


def main() -> None:
    import vosk

    vosk.SetLogLevel(-1)
    clips = [speak(text) for _, text in TURNS]
    speech_s = sum(len(c) for c in clips) / 32000
    reference = None
    with tempfile.TemporaryDirectory() as d:
        for i, changes in enumerate(SETTINGS):
            model = vosk.Model(str(variant(model_path(), changes, Path(d) / f"m{i}")))
            text, cpu = decode(model, clips)
            reference = reference or text
            print(f"{json.dumps(changes) or 'default':60s} {cpu / speech_s:.3f} CPU-s per speech-s, "
                  f"word overlap with default {word_overlap(reference, text):.2f}")


if __name__ == "__main__":
    main()
