"""Vosk behind a small surface: one shared `vosk.Model` per process, one `KaldiRecognizer` per
active leg (`Lane`), everything here runs in worker threads (Vosk's C calls release the GIL:
scripts/bench/gil_vosk.py measures it). A lane gates its audio with voice-activity detection,
so silence is never decoded; a segment is decoded live or written to the spool and decoded
later (`decode_file`), as the service's `LoadPolicy` says at the segment's start.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callcenter.infra.logging import get_logger
from callcenter.transcription.model import (
    UNTRANSCRIBED,
    Leg,
    Segmenter,
    SegmentPause,
    SegmentStart,
    SpoolBudget,
    Utterance,
    Word,
    energy_voiced,
    words_from_vosk,
)
from callcenter.transcription.text import mask_sensitive, mask_words

log = get_logger("transcription")

try:  # webrtcvad-wheels; the energy gate is the fallback
    import webrtcvad
except ImportError:  # pragma: no cover - the dependency is declared
    webrtcvad = None

FRAME_MS = 20


class ModelUnavailable(RuntimeError):
    """The model could not be loaded; transcription is off, calls are not affected."""


_model_lock = threading.Lock()
_models: dict[str, Any] = {}


def load_model(path: Path | str | None) -> Any:
    """The process-wide model for `path` (loaded once; call from a worker thread: ~2 s)."""
    if path is None:
        raise ModelUnavailable("no model path configured (CALLCENTER_VOSK_MODEL)")
    p = Path(path)
    if not (p / "am" / "final.mdl").is_file() and not (p / "final.mdl").is_file():
        raise ModelUnavailable(f"no Vosk model at {p}")
    with _model_lock:
        if str(p) not in _models:
            import vosk

            vosk.SetLogLevel(-1)
            try:
                _models[str(p)] = vosk.Model(str(p))
            except Exception as exc:  # vosk raises a bare Exception on a bad model
                raise ModelUnavailable(f"cannot load the model at {p}: {exc}") from None
        return _models[str(p)]


class Decoder:
    """One KaldiRecognizer and the amount of audio fed to it (Vosk's word times run on that
    fed-audio clock, across results, so we remember it to map words onto the stream clock)."""

    def __init__(self, model: Any, rate: int):
        import vosk

        self.rec = vosk.KaldiRecognizer(model, rate)
        self.rec.SetWords(True)
        self.rate = rate
        self.fed = 0  # bytes
        self.base = 0.0  # fed seconds at the segment start
        self.parts: list[dict] = []
        self.uses = 0  # segments decoded (DecoderPool)

    def begin(self) -> None:
        self.base = self.fed / (2 * self.rate)
        self.parts = []

    def feed(self, pcm: bytes) -> None:
        self.fed += len(pcm)
        if self.rec.AcceptWaveform(pcm):
            self.parts.append(json.loads(self.rec.Result()))

    def partial(self) -> str:
        done = " ".join(p.get("text", "") for p in self.parts)
        return f"{done} {json.loads(self.rec.PartialResult()).get('partial', '')}".strip()

    def finish(self, seg_start: float) -> tuple[str, tuple[Word, ...]]:
        self.parts.append(json.loads(self.rec.FinalResult()))
        shift = seg_start - self.base
        words: tuple[Word, ...] = ()
        for p in self.parts:
            words += words_from_vosk(p, shift)
        text = " ".join(t for t in (p.get("text", "") for p in self.parts) if t)
        self.parts = []
        masked = mask_words([w.word for w in words])
        words = tuple(Word(m, w.start, w.end, w.conf) for m, w in zip(masked, words, strict=True))
        return mask_sensitive(text), words


class DecoderPool:
    """Recognizers shared by every lane and the deferred decoding, handed out one segment at a
    time. A new KaldiRecognizer's first utterance costs ~0.3 CPU-s more than a used one's (its
    lazily composed graph starts cold: scripts/bench/lane_costs.py), so they are kept warm and
    reused; one is retired after `max_uses` segments so that its caches do not grow forever."""

    def __init__(self, model: Any, rate: int, max_uses: int = 2000):
        self.model, self.rate, self.max_uses = model, rate, max_uses
        self._free: list[Decoder] = []
        self._lock = threading.Lock()
        self.created = 0

    def acquire(self) -> Decoder:
        with self._lock:
            if self._free:
                return self._free.pop()
            self.created += 1
        return Decoder(self.model, self.rate)

    def release(self, dec: Decoder) -> None:
        dec.uses += 1
        if dec.uses < self.max_uses:
            with self._lock:
                self._free.append(dec)


@dataclass
class Deferred:
    """A spooled segment waiting for CPU: raw native 16-bit PCM in `path`."""

    path: Path
    call_id: str
    leg: Leg
    seq: int
    start: float
    end: float
    nbytes: int


class Spool:
    """The directory of deferred segments and its byte budget (thread-safe)."""

    def __init__(self, directory: Path, max_bytes: int):
        self.dir = directory
        self.budget = SpoolBudget(max_bytes)
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)

    def reserve(self, nbytes: int) -> bool:
        with self._lock:
            return self.budget.reserve(nbytes)

    def release(self, nbytes: int) -> None:
        with self._lock:
            self.budget.release(nbytes)

    def path(self, call_id: str, leg: Leg, seq: int) -> Path:
        """Where a segment is written while it is open (`.part`: incomplete after a crash)."""
        return self.dir / f"{call_id}__{leg.value}__{seq}.part"

    def done_path(self, call_id: str, leg: Leg, seq: int, start: float, end: float) -> Path:
        """A closed segment: its name carries what is needed to decode it after a restart."""
        return self.dir / f"{call_id}__{leg.value}__{seq}__{int(start * 1000)}__{int(end * 1000)}.pcm"

    def leftovers(self) -> list[Deferred]:
        """Closed segments left by an earlier run (incomplete ones are deleted)."""
        out = []
        for path in sorted(self.dir.iterdir()):
            try:
                if path.suffix == ".part":
                    path.unlink()
                    continue
                call_id, leg, seq, start, end = path.stem.split("__")
                size = path.stat().st_size
                self.reserve(size)
                out.append(Deferred(path, call_id, Leg(leg), int(seq), int(start) / 1000, int(end) / 1000, size))
            except (ValueError, OSError):
                continue
        return out


class Lane:
    """One leg: VAD gate, segmentation, live decoding or spooling. `process` is called from one
    worker thread at a time; it returns the utterances (partials and finals) it produced."""

    def __init__(self, call_id: str, leg: Leg, model: Any, rate: int, spool: Spool, *,
                 max_segment_s: float = 15.0, end_ms: int = 500, partial_every_s: float = 0.4,
                 provisional_ms: int = 0, decoders: DecoderPool | None = None):
        self.call_id, self.leg, self.rate = call_id, leg, rate
        self.model, self.spool = model, spool
        self.decoders = decoders or DecoderPool(model, rate)
        self.partial_every_s = partial_every_s
        self.frame_bytes = rate * 2 * FRAME_MS // 1000
        self.vad = webrtcvad.Vad(2) if webrtcvad is not None and rate in (8000, 16000, 32000, 48000) else None
        # provisional_ms: after this much unvoiced audio the text so far goes out as "provisional"
        # (the desktop shows it as the utterance's text); the final still waits for end_ms
        self.seg = Segmenter(FRAME_MS, end_ms=end_ms, max_s=max_segment_s, pause_ms=provisional_ms)
        self.max_seg_bytes = int(max_segment_s * rate * 2) + self.frame_bytes * 20
        self.decoder: Decoder | None = None
        self.rest = b""
        self.seq = 0
        self.seg_start = 0.0
        self.mode = ""  # "live" | "spool" | "lost" while a segment is open
        self.spool_file: Any = None
        self.spool_bytes = 0
        self.last_partial = ""
        self.since_partial = 0.0
        self.spoken_end_at: float | None = None
        self.deferred: list[Deferred] = []
        self.live_audio_s = 0.0  # seconds fed to Vosk live
        self.frames_seen = 0

    def voiced(self, frame: bytes) -> bool:
        if self.vad is not None:
            return self.vad.is_speech(frame, self.rate)
        return energy_voiced(frame)

    def process(self, chunks: list[tuple[bytes, float]], *, partials: bool,
                live: Callable[[], bool]) -> list[Utterance]:
        out: list[Utterance] = []
        if self.mode == "live" and not live():
            # fallen too far behind mid-utterance: what is decoded becomes a final, the rest of
            # the utterance goes to the spool as a segment of its own
            out += self._close(self.seg.offset)
            self._open(SegmentStart(self.seg.offset, ()), False)
        for pcm, arrived in chunks:
            data = self.rest + pcm
            n = len(data) - len(data) % self.frame_bytes
            self.rest = data[n:]
            for i in range(0, n, self.frame_bytes):
                frame = data[i:i + self.frame_bytes]
                voiced = self.voiced(frame)
                if voiced:
                    self.spoken_end_at = arrived
                self.frames_seen += 1
                events, feed = self.seg.push(frame, voiced)
                for ev in events:
                    if isinstance(ev, SegmentStart):
                        self._open(ev, live())
                if feed:
                    self._write(frame)
                for ev in events:
                    if isinstance(ev, SegmentPause):
                        if partials:
                            out += self._provisional(ev.offset)
                    elif not isinstance(ev, SegmentStart):
                        out += self._close(ev.offset)
        if partials and self.mode == "live" and self.decoder and self.since_partial >= self.partial_every_s:
            self.since_partial = 0.0
            text = mask_sensitive(self.decoder.partial())
            if text and text != self.last_partial:
                self.last_partial = text
                out.append(Utterance(self.call_id, self.leg, self.seq, self.seg_start, self.seg.offset,
                                     text, final=False))
        return out

    def _provisional(self, offset: float) -> list[Utterance]:
        """The text so far, sent at the early end of the utterance (the decoder goes on: if the
        speaker resumes, partials follow; the final replaces it either way)."""
        if self.mode != "live" or self.decoder is None:
            return []
        text = mask_sensitive(self.decoder.partial())
        if not text:
            return []
        self.last_partial, self.since_partial = text, 0.0
        return [Utterance(self.call_id, self.leg, self.seq, self.seg_start, offset, text, final=False,
                          provisional=True, spoken_end_at=self.spoken_end_at)]

    def close(self) -> list[Utterance]:
        """The stream ended: the open segment (hang-up mid-utterance) becomes a final now."""
        end = self.seg.close()
        return self._close(end.offset) if end is not None else []

    # ------------------------------------------------------------------ segments
    def _open(self, ev: SegmentStart, live: bool) -> None:
        self.seq += 1
        self.seg_start = ev.offset
        self.last_partial, self.since_partial = "", 0.0
        if live:
            self.decoder = self.decoders.acquire()
            self.decoder.begin()
            self.mode = "live"
        elif self.spool.reserve(self.max_seg_bytes):
            self.mode = "spool"
            self.spool_bytes = 0
            self.spool_file = open(self.spool.path(self.call_id, self.leg, self.seq), "wb")  # noqa: SIM115
        else:
            self.mode = "lost"
        for frame in ev.preroll:
            self._write(frame)

    def _write(self, frame: bytes) -> None:
        if self.mode == "live":
            assert self.decoder is not None
            self.decoder.feed(frame)
            self.live_audio_s += FRAME_MS / 1000
            self.since_partial += FRAME_MS / 1000
        elif self.mode == "spool":
            self.spool_file.write(frame)
            self.spool_bytes += len(frame)

    def _close(self, end: float) -> list[Utterance]:
        mode, self.mode = self.mode, ""
        if mode == "live":
            assert self.decoder is not None
            text, words = self.decoder.finish(self.seg_start)
            self.decoders.release(self.decoder)
            self.decoder = None
            return [Utterance(self.call_id, self.leg, self.seq, self.seg_start, end, text, words,
                              spoken_end_at=self.spoken_end_at)]
        if mode == "spool":
            self.spool_file.close()
            self.spool_file = None
            path = self.spool.done_path(self.call_id, self.leg, self.seq, self.seg_start, end)
            os.replace(self.spool.path(self.call_id, self.leg, self.seq), path)
            self.spool.release(self.max_seg_bytes - self.spool_bytes)
            self.deferred.append(Deferred(path, self.call_id, self.leg, self.seq, self.seg_start, end,
                                          self.spool_bytes))
            return []
        if mode == "lost":
            return [Utterance(self.call_id, self.leg, self.seq, self.seg_start, end, "", status=UNTRANSCRIBED)]
        return []


def untranscribed(item: Deferred) -> Utterance:
    """What the desk gets for a deferred segment that could not be decoded (未转写)."""
    return Utterance(item.call_id, item.leg, item.seq, item.start, item.end, "", deferred=True, status=UNTRANSCRIBED)


def decode_file(decoders: DecoderPool, item: Deferred, spool: Spool) -> Utterance:
    """Decode a spooled segment (worker thread), delete it and give its bytes back. Any error
    (an unreadable file, a decoder failing) gives the segment untranscribed, never an exception."""
    try:
        dec = decoders.acquire()
        dec.begin()
        with open(item.path, "rb") as f:
            while chunk := f.read(decoders.rate * 2 // 5):
                dec.feed(chunk)
        text, words = dec.finish(item.start)
        decoders.release(dec)
        return Utterance(item.call_id, item.leg, item.seq, item.start, item.end, text, words,
                         deferred=True)
    except Exception as exc:  # noqa: BLE001 - the segment is lost, the deferred decoding goes on
        log.warning("deferred_segment_failed", call_id=item.call_id, seq=item.seq, error=repr(exc))
        return untranscribed(item)
    finally:
        try:
            os.unlink(item.path)
        except OSError:
            pass
        spool.release(item.nbytes)


def cpu_seconds() -> float:
    return time.process_time()
