"""How long each prompt plays: rendered audio measured with soxi (what Asterisk will play).

Texts are rendered once into a content-addressed cache (the file name is a hash of the voice
settings and the text), so measuring again is instant and two checkouts never collide. A
directory of recorded prompts (``<name>.wav``, as a hall may install) is measured instead of
the rendered text wherever it holds a file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from callcenter.infra.prompts import render_prompt

RENDERER = "espeak-ng cmn -s 165, sox 8000 Hz mono 16 bit"  # must match prompts.render_prompt


class AudioError(RuntimeError):
    """A prompt could not be rendered or measured; one line saying which and why."""


def audio_seconds(path: Path) -> float:
    """Duration of an audio file, by soxi."""
    try:
        out = subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True)
        return float(out.stdout.strip())
    except FileNotFoundError:
        raise AudioError("soxi is missing: apt-get install sox") from None
    except (subprocess.CalledProcessError, ValueError) as exc:
        raise AudioError(f"cannot measure {path}: {getattr(exc, 'stderr', '') or exc}".strip()) from None


def rendered(text: str, cache: Path) -> Path:
    """The rendered audio of ``text`` in ``cache`` (rendered now if it is not there yet)."""
    digest = hashlib.sha256(f"{RENDERER}\n{text}".encode()).hexdigest()[:20]
    out = cache / f"{digest}.wav"
    if not out.is_file():
        if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
            raise AudioError("espeak-ng and sox are needed to render prompts: apt-get install espeak-ng sox")
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f".{digest}.{os.getpid()}.wav"
        with tempfile.TemporaryFile() as noise:  # sox's clipping warnings: not for the operator
            saved = os.dup(2)
            os.dup2(noise.fileno(), 2)
            try:
                render_prompt(text, tmp)
            except (OSError, subprocess.CalledProcessError) as exc:
                tmp.unlink(missing_ok=True)
                noise.seek(0)
                said = noise.read().decode(errors="replace").strip().splitlines()[-1:]
                raise AudioError(f"cannot render {text[:20]!r}: {exc} {' '.join(said)}".strip()) from None
            finally:
                os.dup2(saved, 2)
                os.close(saved)
        tmp.replace(out)  # atomic: a concurrent reader sees the whole file or none
    return out


def prompt_seconds(texts: Mapping[str, str], cache: Path, sounds: Path | None = None) -> dict[str, float]:
    """Seconds per prompt name: the recorded ``sounds/<name>.wav`` if there is one, else the
    rendered text."""
    out: dict[str, float] = {}
    for name, text in texts.items():
        recorded = sounds / f"{name}.wav" if sounds is not None else None
        path = recorded if recorded is not None and recorded.is_file() else rendered(text, cache)
        out[name] = audio_seconds(path)
    return out
