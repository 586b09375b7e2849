"""Storing a recorded part (sox): each party's file as one channel of a stereo Ogg Vorbis file,
the caller left and the agent right, with any supervisor's voice mixed into the right channel at
its time; and the stored file's checksum."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

NICE = ("nice", "-n", "10")
VORBIS_QUALITY = "0"  # sox -C for Vorbis (-1..10): about 20 kbit/s for 8 kHz stereo speech


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


async def mix_stereo(legs: list[Path], got: list[bool], out: Path,
                     voices: list[tuple[Path, float]] | None = None) -> float:
    """The caller's file (left) and the agent's (right) as one stereo Ogg Vorbis file; a party
    Asterisk has nothing of is silence; each supervisor's voice (file, seconds after the part's
    start) is mixed into the right channel at its time, at its own level. Returns the length in seconds."""
    present = [p for p, ok in zip(legs, got, strict=True) if ok]
    longest = max(present, key=lambda p: p.stat().st_size)
    for p, ok in zip(legs, got, strict=True):
        if not ok:  # silence as long as the other party
            await _run("sox", str(longest), str(p), "vol", "0")
    right = legs[1]
    if voices:
        inputs = ["-v", "1", str(right)]  # -v 1: sox -m would otherwise scale every input down
        for path, offset in voices:
            padded = path.with_name(f"{path.stem}-at.wav")
            await _run("sox", str(path), str(padded), "pad", f"{offset:.3f}")
            inputs += ["-v", "1", str(padded)]
        right = right.with_name("agent-and-voices.wav")
        await _run("sox", "-m", *inputs, str(right))
    await _run("sox", "-M", str(legs[0]), str(right), "-C", VORBIS_QUALITY, str(out))
    seconds = await _run("soxi", "-D", str(out))
    return float(seconds.strip() or 0)


async def _run(*argv: str) -> str:
    """sox, niced: storing happens after the hang-up and never competes with live calls."""
    proc = await asyncio.create_subprocess_exec(*NICE, *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise OSError(f"{argv[0]} failed: {err.decode(errors='replace').strip()[:300]}")
    return out.decode()
