"""Deferred decoding never dies quietly: a segment that cannot be decoded (any error, not only
an OSError) is published untranscribed and the drainer goes on to the next, so `drained` is set
once the line is empty; a lane whose final flush fails does not stop the call's other lanes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from callcenter.transcription.model import UNTRANSCRIBED, Leg
from callcenter.transcription.recognizer import Deferred, Spool, decode_file
from callcenter.transcription.service import Config, LaneRunner, TranscriptionService


class Decoder:
    def __init__(self, fail: Exception | None) -> None:
        self.fail, self.uses = fail, 0

    def begin(self) -> None: ...

    def feed(self, chunk: bytes) -> None:
        if self.fail is not None:
            raise self.fail

    def finish(self, start: float):
        return "你好", ()


class Decoders:
    """Hands out decoders; the first `failing` of them raise on their audio."""

    rate = 16000

    def __init__(self, failing: list[Exception]) -> None:
        self.failing, self.out, self.back = list(failing), 0, 0

    def acquire(self) -> Decoder:
        self.out += 1
        return Decoder(self.failing.pop(0) if self.failing else None)

    def release(self, dec: Decoder) -> None:
        self.back += 1


class BrittleSpool(Spool):
    """A spool whose first release raises (an error from outside the decoder)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, 10**6)
        self.fail_once = True

    def release(self, nbytes: int) -> None:
        super().release(nbytes)
        if self.fail_once:
            self.fail_once = False
            raise RuntimeError("budget bookkeeping broke")


@dataclass
class Published:
    utterances: list = field(default_factory=list)

    async def utterance(self, u) -> None:
        self.utterances.append(u)

    async def status(self, call_id: str, available: bool, reason: str = "") -> None: ...


def segment(spool: Spool, seq: int) -> Deferred:
    path = spool.done_path("c1", Leg.CITIZEN, seq, 0.0, 1.0)
    path.write_bytes(b"\0" * 3200)
    spool.reserve(3200)
    return Deferred(path, "c1", Leg.CITIZEN, seq, 0.0, 1.0, 3200)


def test_a_decoder_error_of_any_kind_gives_an_untranscribed_segment(tmp_path: Path) -> None:
    spool, decoders = Spool(tmp_path, 10**6), Decoders([RuntimeError("kaldi says no")])
    item = segment(spool, 1)
    u = decode_file(decoders, item, spool)  # type: ignore[arg-type]
    assert u.status == UNTRANSCRIBED and u.deferred and u.seq == 1
    assert not item.path.exists() and spool.budget.used == 0


def service(tmp_path: Path, spool: Spool, decoders: Decoders) -> tuple[TranscriptionService, Published]:
    published = Published()
    svc = TranscriptionService(Config(model_path=None, workers=1, spool_dir=tmp_path), None,  # type: ignore[arg-type]
                               published)  # type: ignore[arg-type]
    svc.spool, svc.decoders = spool, decoders  # type: ignore[assignment]
    return svc, published


async def test_the_drainer_outlives_a_failed_segment_and_reports_drained(tmp_path: Path) -> None:
    spool = BrittleSpool(tmp_path)
    svc, published = service(tmp_path, spool, Decoders([ValueError("bad frame")]))
    drainer = asyncio.create_task(svc._drain())
    try:
        svc.deferred.extend([segment(spool, 1), segment(spool, 2), segment(spool, 3)])
        svc.drained.clear()
        svc._deferred_wake.set()
        await asyncio.wait_for(svc.drained.wait(), 30)  # a guard against a dead drainer, not timing
        assert not drainer.done()
        # seq 1: its decoder and then the spool failed; the others decoded
        assert [(u.seq, u.status, u.text) for u in published.utterances] == [
            (1, UNTRANSCRIBED, ""), (2, "ok", "你好"), (3, "ok", "你好")]
    finally:
        drainer.cancel()
        await asyncio.gather(drainer, return_exceptions=True)
        await asyncio.to_thread(svc.workers.shutdown)


@dataclass
class Lane:
    """A lane whose final flush raises."""

    call_id: str = "c1"
    leg: Leg = Leg.CITIZEN
    mode: str = "live"
    deferred: list = field(default_factory=list)

    def close(self):
        raise RuntimeError("flush failed")


async def test_a_failed_final_flush_does_not_escape_the_lane(tmp_path: Path) -> None:
    svc, _ = service(tmp_path, Spool(tmp_path, 10**6), Decoders([]))
    try:
        runner = LaneRunner(svc, Lane())  # type: ignore[arg-type]
        await asyncio.wait_for(runner.close(), 30)
    finally:
        await asyncio.to_thread(svc.workers.shutdown)
