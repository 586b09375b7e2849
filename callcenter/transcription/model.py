"""The pure core of live transcription: RTP parsing, per-stream reordering with loss
accounting, voice-activity segmentation, the backpressure policy and the bounded spool
budget. No asyncio, no sockets, no Vosk: every rule here is tested in milliseconds.

Words used throughout: a *leg* is one side of a call (citizen 市民 or agent 坐席); its audio
arrives as one RTP *stream*; a *segment* (utterance) is a stretch of speech between
silences, the unit that is decoded, stored and, under load, deferred to disk.
"""

from __future__ import annotations

import sys
from array import array
from collections import deque
from dataclasses import dataclass, field
from enum import Enum, StrEnum

UNTRANSCRIBED = "未转写"
RTP_VERSION = 2
SEQ_MOD = 1 << 16


class Leg(StrEnum):
    CITIZEN = "citizen"
    AGENT = "agent"

    @property
    def label(self) -> str:
        return "市民" if self is Leg.CITIZEN else "坐席"


# ---------------------------------------------------------------------------------- RTP
class BadPacket(ValueError):
    """A datagram that is not usable RTP; `reason` is the counter it is dropped under."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    marker: bool
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes


def parse_rtp(data: bytes) -> RtpPacket:
    """RFC 3550 fixed header, CSRC list, header extension and padding. Raises `BadPacket`."""
    n = len(data)
    if n < 12:
        raise BadPacket("short")
    b0, b1 = data[0], data[1]
    if b0 >> 6 != RTP_VERSION:
        raise BadPacket("version")
    pt = b1 & 0x7F
    if 72 <= pt <= 76:  # RTCP (SR/RR/SDES/BYE/APP) multiplexed onto the RTP port
        raise BadPacket("rtcp")
    offset = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        if n < offset + 4:
            raise BadPacket("short")
        words = int.from_bytes(data[offset + 2:offset + 4], "big")
        offset += 4 + 4 * words
    end = n
    if b0 & 0x20:
        pad = data[-1]
        if pad == 0:
            raise BadPacket("padding")
        end -= pad
    if end < offset:
        raise BadPacket("short" if not b0 & 0x20 else "padding")
    return RtpPacket(pt, bool(b1 & 0x80), int.from_bytes(data[2:4], "big"),
                     int.from_bytes(data[4:8], "big"), int.from_bytes(data[8:12], "big"), data[offset:end])


def build_rtp(seq: int, timestamp: int, ssrc: int, payload: bytes, *, payload_type: int = 118,
              marker: bool = False) -> bytes:
    """A plain RTP packet (tests and the benchmark's load generator)."""
    return (bytes([0x80, (0x80 if marker else 0) | payload_type]) + (seq % SEQ_MOD).to_bytes(2, "big")
            + (timestamp % (1 << 32)).to_bytes(4, "big") + ssrc.to_bytes(4, "big") + payload)


def be16_to_native(payload: bytes) -> bytes:
    """RTP carries L16/slin big-endian (network order); Vosk and webrtcvad want native order."""
    if len(payload) % 2:
        raise BadPacket("odd_payload")
    if sys.byteorder == "big":
        return payload
    a = array("h")
    a.frombytes(payload)
    a.byteswap()
    return a.tobytes()


# ------------------------------------------------------------------------- reordering
@dataclass
class StreamStats:
    received: int = 0
    released: int = 0
    lost: int = 0
    late: int = 0
    duplicate: int = 0
    resyncs: int = 0


class Reorderer:
    """Puts one stream's packets back in sequence order. Holds at most `depth` packets: when
    a gap is still open with `depth` packets behind it, the missing ones are counted lost and
    replaced by silence of the same length (so offsets stay right), capped at `max_fill`
    packets; a jump larger than `resync_gap` is a new talk spurt/source, not loss."""

    def __init__(self, depth: int = 4, max_fill: int = 50, resync_gap: int = 1000):
        self.depth, self.max_fill, self.resync_gap = depth, max_fill, resync_gap
        self.next: int | None = None
        self.pending: dict[int, bytes] = {}
        self.stats = StreamStats()

    def push(self, seq: int, payload: bytes) -> list[bytes]:
        self.stats.received += 1
        if self.next is None:
            self.next = seq
        d = (seq - self.next) % SEQ_MOD
        if d >= SEQ_MOD // 2:  # behind the release point
            self.stats.late += 1
            return []
        if d > self.resync_gap:
            out = self.flush()
            self.stats.resyncs += 1
            self.next = seq
            self.pending[seq] = payload
            return out + self._release()
        if seq in self.pending:
            self.stats.duplicate += 1
            return []
        self.pending[seq] = payload
        out = self._release()
        while len(self.pending) > self.depth:
            out += self._skip_gap()
            out += self._release()
        return out

    def flush(self) -> list[bytes]:
        """Everything still held, in order, gaps counted (the stream ended)."""
        out: list[bytes] = []
        while self.pending:
            out += self._skip_gap()
            out += self._release()
        return out

    def _release(self) -> list[bytes]:
        out = []
        while self.next in self.pending:
            out.append(self.pending.pop(self.next))
            self.next = (self.next + 1) % SEQ_MOD
        self.stats.released += len(out)
        return out

    def _skip_gap(self) -> list[bytes]:
        assert self.next is not None
        first = min(self.pending, key=lambda s: (s - self.next) % SEQ_MOD)
        gap = (first - self.next) % SEQ_MOD
        self.stats.lost += gap
        self.next = first
        return [bytes(len(self.pending[first]))] * min(gap, self.max_fill) if gap else []


# ---------------------------------------------------------------------- segmentation
@dataclass(frozen=True, slots=True)
class SegmentStart:
    offset: float  # seconds since the stream began (first frame of the pre-roll)
    preroll: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class SegmentPause:
    """The open segment has been unvoiced for `pause_ms`: the utterance has probably ended (the
    lane sends its text as provisional now) but the segment stays open until `end_ms`."""

    offset: float


@dataclass(frozen=True, slots=True)
class SegmentEnd:
    offset: float
    forced: bool = False  # max length reached or stream ended, not a pause


class Segmenter:
    """Voice-activity segmentation over fixed frames (e.g. 20 ms). Speech starts when
    `start_frames` of the last `window` frames are voiced (the window is kept as pre-roll so
    the onset is not clipped) and ends after `end_ms` of unvoiced frames or at `max_s`. With
    `pause_ms` (0 < pause_ms < end_ms), `SegmentPause` marks each run of `pause_ms` unvoiced
    frames inside a segment: the early, provisional end of an utterance (speech may resume
    before `end_ms`, and then the segment simply goes on).
    `push` returns what to do with the frame: events and whether to feed it to the decoder."""

    def __init__(self, frame_ms: int = 20, window: int = 10, start_frames: int = 6, end_ms: int = 400,
                 max_s: float = 15.0, pause_ms: int = 0):
        self.frame_s = frame_ms / 1000
        self.window, self.start_frames = window, start_frames
        self.end_frames = max(1, end_ms // frame_ms)
        pause_frames = pause_ms // frame_ms
        self.pause_frames = pause_frames if 0 < pause_frames < self.end_frames else 0
        self.max_frames = int(max_s * 1000 // frame_ms)
        self.ring: deque[tuple[bytes, bool]] = deque(maxlen=window)
        self.frames = 0  # frames seen on the stream
        self.active = False
        self.silent_run = 0
        self.seg_frames = 0
        self.start_frame = 0

    @property
    def offset(self) -> float:
        return round(self.frames * self.frame_s, 3)

    def push(self, frame: bytes, voiced: bool) -> tuple[list[SegmentStart | SegmentPause | SegmentEnd], bool]:
        """(events, feed): `feed` says the frame belongs to the current segment."""
        self.frames += 1
        if not self.active:
            self.ring.append((frame, voiced))
            if sum(v for _, v in self.ring) >= self.start_frames:
                self.active, self.silent_run = True, 0
                self.seg_frames = len(self.ring)
                self.start_frame = self.frames - len(self.ring)
                pre = tuple(f for f, _ in self.ring)
                self.ring.clear()
                return [SegmentStart(round(self.start_frame * self.frame_s, 3), pre)], False
            return [], False
        self.seg_frames += 1
        self.silent_run = 0 if voiced else self.silent_run + 1
        if self.silent_run >= self.end_frames:
            self.active = False
            return [SegmentEnd(self.offset)], True
        if self.seg_frames >= self.max_frames:
            self.active = False
            return [SegmentEnd(self.offset, forced=True)], True
        if self.pause_frames and self.silent_run == self.pause_frames:
            return [SegmentPause(self.offset)], True
        return [], True

    def close(self) -> SegmentEnd | None:
        """The stream ended (hang-up): an open segment ends here."""
        if not self.active:
            return None
        self.active = False
        return SegmentEnd(self.offset, forced=True)


def energy_voiced(frame: bytes, threshold: float = 500.0) -> bool:
    """RMS energy gate over native 16-bit samples (the fallback when webrtcvad is absent)."""
    a = array("h")
    a.frombytes(frame[: len(frame) // 2 * 2])
    if not a:
        return False
    return (sum(x * x for x in a) / len(a)) ** 0.5 >= threshold


# ------------------------------------------------------------------------ backpressure
class Mode(int, Enum):
    NORMAL = 0
    NO_PARTIALS = 1  # behind: stop producing partials (they cost a decode pass each)
    DEFER_AGENT = 2  # further behind: citizen legs live, agent segments to disk


class LoadPolicy:
    """Chooses the mode from the live backlog (seconds of audio queued but not yet decoded,
    worst lane). Steps up at once, steps down one level at a time only once the backlog is
    below `recover_s` (hysteresis, so the mode does not flap)."""

    def __init__(self, partials_off_s: float = 0.6, defer_s: float = 1.5, recover_s: float = 0.25,
                 citizen_defer_s: float = 6.0):
        self.partials_off_s, self.defer_s, self.recover_s = partials_off_s, defer_s, recover_s
        self.citizen_defer_s = citizen_defer_s
        self.mode = Mode.NORMAL
        self.changes = 0

    def update(self, backlog_s: float) -> Mode:
        want = (Mode.DEFER_AGENT if backlog_s >= self.defer_s
                else Mode.NO_PARTIALS if backlog_s >= self.partials_off_s else Mode.NORMAL)
        if want > self.mode:
            new = want
        elif backlog_s < self.recover_s and self.mode > Mode.NORMAL:
            new = Mode(self.mode - 1)
        else:
            new = self.mode
        if new != self.mode:
            self.changes += 1
            self.mode = new
        return self.mode

    def partials(self) -> bool:
        return self.mode == Mode.NORMAL

    def live(self, leg: Leg, lane_backlog_s: float = 0.0) -> bool:
        """A new segment of this leg is decoded live (else: spooled and decoded later). A citizen
        leg is deferred only as the last resort, when its own lane is `citizen_defer_s` behind."""
        if leg is Leg.CITIZEN:
            return lane_backlog_s < self.citizen_defer_s
        return self.mode < Mode.DEFER_AGENT

    def drain_allowed(self, backlog_s: float) -> bool:
        """Deferred segments are decoded only when live decoding has nothing waiting."""
        return self.mode == Mode.NORMAL and backlog_s < self.recover_s


class SpoolBudget:
    """Bytes of deferred audio allowed on disk. A segment that does not fit is not written:
    it is marked UNTRANSCRIBED and counted, never silently lost."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.used = 0
        self.refused = 0

    def reserve(self, nbytes: int) -> bool:
        if self.used + nbytes > self.max_bytes:
            self.refused += 1
            return False
        self.used += nbytes
        return True

    def release(self, nbytes: int) -> None:
        self.used = max(0, self.used - nbytes)


# -------------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class Word:
    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class Utterance:
    """One final (or partial) piece of text of one leg."""

    call_id: str
    leg: Leg
    seq: int
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    final: bool = True
    provisional: bool = False  # not final: the text at the early end of the utterance (SegmentPause)
    deferred: bool = False
    status: str = "ok"  # or UNTRANSCRIBED
    spoken_end_at: float | None = field(default=None, compare=False)  # monotonic time speech ended

    def document(self) -> dict:
        kind = "final" if self.final else "provisional" if self.provisional else "partial"
        return {"type": kind, "call_id": self.call_id,
                "leg": self.leg.value, "speaker": self.leg.label, "seq": self.seq,
                "start": self.start, "end": self.end, "text": self.text, "deferred": self.deferred,
                "status": self.status,
                "words": [{"word": w.word, "start": w.start, "end": w.end, "conf": w.conf} for w in self.words]}


def words_from_vosk(result: dict, shift: float) -> tuple[Word, ...]:
    """Vosk's `result` list, times moved by `shift` seconds onto the stream's clock."""
    out = []
    for w in result.get("result") or ():
        try:
            out.append(Word(str(w["word"]), round(float(w["start"]) + shift, 3), round(float(w["end"]) + shift, 3),
                            round(float(w.get("conf", 1.0)), 3)))
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(out)


@dataclass
class Counters:
    """What the receiver and recognizer count (exposed by the service and the benchmark)."""

    dropped: dict[str, int] = field(default_factory=dict)
    segments_live: int = 0
    segments_deferred: int = 0
    segments_untranscribed: int = 0
    partials_skipped: int = 0
    packets_lost: int = 0  # by sequence gaps, over ended streams
    packets_late: int = 0

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
