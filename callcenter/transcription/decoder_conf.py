"""Decoder settings of a Vosk model (beam, max-active, lattice-beam of its conf/model.conf)
without touching the installed model: an *overlay* directory in a cache dir whose entries are
symlinks to the model's own files, except conf/model.conf, which is the model's with our values.

`CALLCENTER_TRANSCRIPTION_DECODER` names a setting of `DECODERS`; the values are explicit here
and measured by scripts/bench/tune_vosk.py (CPU-s per speech-s and word overlap with `model`,
the model's own conf). A model without conf/model.conf (Vosk's old layout: it then uses its
built-in values and reads no conf) cannot be tuned this way: its own directory is used.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from callcenter.infra.logging import get_logger

log = get_logger("transcription")

# The small Korean model ships --min-active=200 --max-active=3000 --beam=10.0 --lattice-beam=2.0.
DECODERS: dict[str, dict[str, str]] = {
    "model": {},  # the model's own conf, unchanged
    # measured (tune_vosk.py, CPU-s per speech-s vs the model's conf; word overlap with its text,
    # two decodes with the model's own conf overlap 0.94 with each other):
    "fast": {"max-active": "1500"},  # 0.82x CPU, overlap 0.92
    "lean": {"max-active": "1000"},  # 0.70x CPU, overlap 0.86 (beam 9: 0.77x, 0.81; beam 8: 0.56x, 0.72)
}


def tuned_conf(original: str, changes: Mapping[str, str]) -> str:
    """model.conf text with `changes` applied: a key already set gets the new value in place, a
    key not set is appended; comments and other lines are kept."""
    left = dict(changes)
    lines = []
    for line in original.splitlines():
        key = line.strip().lstrip("-").split("=", 1)[0].strip()
        if line.strip().startswith("--") and key in left:
            lines.append(f"--{key}={left.pop(key)}")
        else:
            lines.append(line)
    lines += [f"--{k}={v}" for k, v in left.items()]
    return "\n".join(lines) + "\n"


def conf_values(text: str) -> dict[str, str]:
    """The `--key=value` options of a model.conf text."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("--") and "=" in line:
            key, value = line[2:].split("=", 1)
            out[key.strip()] = value.strip()
    return out


def overlay(model: Path, changes: Mapping[str, str], cache_dir: Path) -> Path:
    """The directory to load: `model` itself when there is nothing to change or it has no
    conf/model.conf, else an overlay in `cache_dir` (made once, atomically; named by the model's
    path and the conf text, so a changed setting gets a new one and concurrent starts agree)."""
    conf = model / "conf" / "model.conf"
    if not changes:
        return model
    if not conf.is_file():
        log.warning("decoder_conf_untunable", model=str(model), reason="no conf/model.conf")
        return model
    text = tuned_conf(conf.read_text(), changes)
    if text == conf.read_text():
        return model
    digest = hashlib.sha256(f"{model.resolve()}\0{text}".encode()).hexdigest()[:16]
    target = cache_dir / f"vosk-{model.name}-{digest}"
    if (target / "conf" / "model.conf").is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir))
    try:
        for item in model.resolve().iterdir():
            if item.name != "conf":
                (tmp / item.name).symlink_to(item)
        (tmp / "conf").mkdir()
        for item in (model / "conf").resolve().iterdir():
            if item.name != "model.conf":
                (tmp / "conf" / item.name).symlink_to(item)
        (tmp / "conf" / "model.conf").write_text(text)
        try:
            os.rename(tmp, target)
        except OSError:  # made meanwhile by another process: theirs is the same
            if not (target / "conf" / "model.conf").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def model_dir(model: Path | None, decoder: str, cache_dir: Path) -> Path | None:
    """The directory to load for the `decoder` setting; the model itself when no overlay can be
    made (unwritable cache: logged, transcription still works with the model's own conf)."""
    if model is None:
        return None
    try:
        return overlay(model, DECODERS[decoder], cache_dir)
    except OSError as exc:
        log.warning("decoder_conf_unavailable", model=str(model), decoder=decoder, error=str(exc))
        return model
