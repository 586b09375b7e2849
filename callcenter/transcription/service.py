"""Live transcription of bridged calls: tap → RTP receiver → lanes (VAD + Vosk in worker
threads) → partials and finals out through the outbox (`calls/<call_id>/transcript`), finals
stored in `transcript_segments`.

Call control never waits on any of it: `call_bridged` and `call_ended` return at once and do
their work in tasks; a failure is logged and the call goes on. Without a model the service is
*unavailable*: it publishes that once per call (the desktop shows 转写不可用) and taps nothing.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from callcenter.infra.ari import AriClient, AriEvent
from callcenter.infra.logging import get_logger
from callcenter.transcription.decoder_conf import model_dir
from callcenter.transcription.model import Counters, Leg, LoadPolicy, Utterance
from callcenter.transcription.recognizer import (
    DecoderPool,
    Deferred,
    Lane,
    ModelUnavailable,
    Spool,
    decode_file,
    load_model,
    untranscribed,
)
from callcenter.transcription.rtp import Addr, RtpReceiver
from callcenter.transcription.tap import MediaTap, parse_tap_id
from callcenter.transcription.workers import AGENT, BACKLOG, CHEAP, CITIZEN, PriorityPool

log = get_logger("transcription")


class Publisher(Protocol):
    async def utterance(self, u: Utterance) -> None: ...

    async def status(self, call_id: str, available: bool, reason: str = "") -> None: ...


def _every_line(line: str) -> bool:
    return True


@dataclass
class Config:
    model_path: Path | None
    rate: int = 16000
    rtp_host: str = "127.0.0.1"
    rtp_port: int = 0
    spool_dir: Path = Path("/var/tmp/callcenter-transcripts")
    spool_max_bytes: int = 256 * 1024 * 1024
    workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    max_backlog_s: float = 20.0  # per lane: beyond this, audio is dropped and counted ("overflow")
    policy: LoadPolicy = field(default_factory=LoadPolicy)
    transcribes: Callable[[str], bool] = _every_line  # is this line (dialled number) transcribed? Settings.transcribes
    enabled: bool = True  # False: switched off by settings (no model loaded, each call told so)
    decoder: str = "model"  # a setting of decoder_conf.DECODERS ("model": the model's own conf)
    cache_dir: Path = Path("/var/cache/callcenter/transcription")  # where decoder overlays are made
    end_ms: int = 500  # unvoiced audio that ends an utterance (its final)
    provisional_ms: int = 240  # unvoiced audio after which its text goes out as provisional (0: never)


class LaneRunner:
    """The event-loop side of one lane: a bounded queue and a task feeding the worker thread."""

    def __init__(self, service: TranscriptionService, lane: Lane):
        self.service, self.lane = service, lane
        self.queue: deque[tuple[bytes, float]] = deque()
        self.queued_bytes = 0
        self.inflight_bytes = 0
        self.max_bytes = int(service.config.max_backlog_s * service.config.rate * 2)
        self.min_bytes = service.config.rate * 2 // 10
        self.wake = asyncio.Event()
        self.closing = False
        self.task = asyncio.create_task(self._run(), name=f"lane-{lane.call_id}-{lane.leg.value}")

    @property
    def backlog_s(self) -> float:
        return (self.queued_bytes + self.inflight_bytes) / (2 * self.service.config.rate)

    def feed(self, pcm: bytes, arrived: float) -> None:
        if self.queued_bytes + len(pcm) > self.max_bytes:
            self.service.counters.drop("overflow")
            return
        self.queue.append((pcm, arrived))
        self.queued_bytes += len(pcm)
        if self.queued_bytes >= self.min_bytes:  # 100 ms a hand-over to a worker, not 20 ms
            self.wake.set()

    async def _run(self) -> None:
        svc = self.service
        limit = svc.config.rate * 2  # at most one second of audio per batch
        while True:
            if not self.queue or (self.queued_bytes < self.min_bytes and not self.closing):
                if self.closing:
                    break
                self.wake.clear()
                await self.wake.wait()
                continue
            batch, size = [], 0
            while self.queue and size < limit:
                item = self.queue.popleft()
                batch.append(item)
                size += len(item[0])
            self.queued_bytes -= size
            self.inflight_bytes = size
            policy = svc.policy
            policy.update(svc.backlog_s())
            live_now = policy.live(self.lane.leg, self.backlog_s)
            live = functools.partial(policy.live, self.lane.leg, self.backlog_s)
            job = functools.partial(self.lane.process, batch, partials=policy.partials(), live=live)
            try:
                utts = await svc.run(self._priority(live_now), job)
            except Exception:
                log.exception("lane_failed", call_id=self.lane.call_id, leg=self.lane.leg.value)
                utts = []
            finally:
                self.inflight_bytes = 0
            if not policy.partials():
                svc.counters.partials_skipped += 1
            for u in utts:
                await svc.emit(u)
        try:  # the final flush: its failure must not stop the call's other lanes from closing
            utts = await svc.run(self._priority(True), self.lane.close)
        except Exception:
            log.exception("lane_close_failed", call_id=self.lane.call_id, leg=self.lane.leg.value)
            utts = []
        for u in utts:
            await svc.emit(u)

    def _priority(self, live_now: bool) -> int:
        """Audio that will only be gated and spooled costs microseconds a frame: it goes first, so
        a deferred leg never starves behind live decoding (and never overflows its queue)."""
        if self.lane.mode in ("spool", "lost") or (self.lane.mode in ("", "live") and not live_now):
            # a live segment of a leg that is no longer live is closed at once and the rest spooled
            # (`Lane.process`): at its live priority it would starve behind the citizens' audio
            # and overflow its queue
            return CHEAP
        return CITIZEN if self.lane.leg is Leg.CITIZEN else AGENT

    async def close(self) -> None:
        self.closing = True
        self.wake.set()
        await self.task


FinalListener = Callable[[str, str, str], None]  # (call_id, leg, masked text): must return at once


class TranscriptionService:
    EVENTS = frozenset({"StasisEnd"})  # for the Stasis router's event filter

    def __init__(self, config: Config, ari: AriClient, publisher: Publisher, *, pool: Any = None,
                 on_final: FinalListener | None = None):
        self.config = config
        self.on_final = on_final  # told every stored final (e.g. the mass-incident detector, via app.py)
        self.pool = pool
        self.ari = ari
        self.publisher = publisher
        self.counters = Counters()
        self.policy = config.policy
        self.receiver = RtpReceiver(config.rtp_host, config.rtp_port, self.counters)
        self.tap: MediaTap | None = None
        self.workers = PriorityPool(config.workers)
        self.model: Any = None
        self.decoders: DecoderPool | None = None
        self.available = False
        self.reason = "not started"
        self.spool = Spool(config.spool_dir, config.spool_max_bytes)
        self.calls: dict[str, dict[Leg, tuple[Addr, LaneRunner]]] = {}
        self.deferred: deque[Deferred] = deque()
        self._deferred_wake = asyncio.Event()
        self.drained = asyncio.Event()  # set while no deferred segment waits or is being decoded
        self.drained.set()
        self._tasks: set[asyncio.Task] = set()
        self._drainer: asyncio.Task | None = None
        self.latencies: deque[tuple[Leg, float]] = deque(maxlen=10000)  # speech end → final published (s)
        # speech end → the utterance's first text after it on the desk: its provisional when one was
        # sent after the last speech (same spoken_end_at as the final's), else its final
        self.first_text: deque[tuple[Leg, float]] = deque(maxlen=10000)
        self._provisional: dict[tuple[str, Leg, int], tuple[float | None, float]] = {}
        self.finals = 0
        self.partials = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if not self.config.enabled:
            self.available, self.reason = False, "transcription is switched off (CALLCENTER_TRANSCRIPTION_ENABLED)"
            log.info("transcription_off")
            return
        try:
            path = await self.run(CITIZEN, model_dir, self.config.model_path, self.config.decoder,
                                  self.config.cache_dir)
            self.model = await self.run(CITIZEN, load_model, path)
            self.decoders = DecoderPool(self.model, self.config.rate)
        except ModelUnavailable as exc:
            self.available, self.reason = False, str(exc)
            log.warning("transcription_unavailable", reason=self.reason)
            return
        try:
            await self.receiver.start()
        except OSError as exc:  # the port is taken: no transcription, the calls go on
            self.available = False
            self.reason = f"cannot receive RTP on {self.config.rtp_host}:{self.config.rtp_port}: {exc.strerror}"
            log.warning("transcription_unavailable", reason=self.reason)
            return
        self.tap = MediaTap(self.ari, self.config.rtp_host, self.receiver.port, rate=self.config.rate)
        self.available, self.reason = True, ""
        self._requeue_spool()
        self._drainer = asyncio.create_task(self._drain(), name="transcription-drain")

    async def stop(self) -> None:
        for call_id in list(self.calls):
            await self.end(call_id)
        await self.stop_tasks()
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.gather(self._drainer, return_exceptions=True)
        self.receiver.stop()
        await asyncio.to_thread(self.workers.shutdown)

    # ------------------------------------------------------- what the ACD calls
    def call_bridged(self, call_id: str, caller_channel: str, agent_channel: str, *, line: str = "") -> None:
        """Start transcribing (returns at once; the call never waits on transcription). `line`: the
        dialled number; a line the settings do not transcribe (`Config.transcribes`) is never tapped."""
        self._spawn(self.begin(call_id, caller_channel, agent_channel, line=line))

    def call_ended(self, call_id: str) -> None:
        self._spawn(self.end(call_id))

    async def stop_tasks(self) -> None:
        """Wait for the `call_bridged` / `call_ended` work already started (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def begin(self, call_id: str, caller_channel: str, agent_channel: str, *, line: str = "") -> bool:
        try:
            if not self.config.transcribes(line):
                why = f"transcription is off for line {line}" if self.config.enabled else self.reason
                await self.publisher.status(call_id, False, why)
                return False
            if not self.available or self.tap is None:
                await self.publisher.status(call_id, False, self.reason)
                return False
            if call_id in self.calls:
                return True
            self.calls[call_id] = {}
            legs = await self.tap.start(call_id, caller_channel, agent_channel, self._on_stream)
            if call_id not in self.calls:  # ended while being tapped
                await self.tap.stop(call_id)
                return False
            await self.publisher.status(call_id, bool(legs), "" if legs else "tap failed")
            return bool(legs)
        except Exception:
            log.exception("transcription_begin_failed", call_id=call_id)
            try:  # the desk still learns that this call has no transcript
                await self.publisher.status(call_id, False, "tap failed")
            except Exception:  # noqa: BLE001 - logged above; the call goes on
                pass
            return False

    def _on_stream(self, call_id: str, leg: Leg, source: Addr) -> None:
        assert self.model is not None
        legs = self.calls.get(call_id)
        if legs is None:  # the call ended while it was being tapped: `begin` removes the tap
            return
        lane = Lane(call_id, leg, self.model, self.config.rate, self.spool, decoders=self.decoders,
                    end_ms=self.config.end_ms, provisional_ms=self.config.provisional_ms)
        runner = LaneRunner(self, lane)
        legs[leg] = (source, runner)
        self.receiver.register(source, f"{call_id}/{leg.value}", runner.feed)

    async def end(self, call_id: str) -> None:
        """Tear the taps down, flush every lane (an open utterance becomes a final)."""
        legs = self.calls.pop(call_id, None)
        try:
            if self.tap is not None:
                await self.tap.stop(call_id)
        except Exception:
            log.exception("tap_stop_failed", call_id=call_id)
        for source, runner in (legs or {}).values():
            self.receiver.unregister(source)
            await runner.close()
            if runner.lane.deferred:
                self.deferred.extend(runner.lane.deferred)
                self.drained.clear()
                self.counters.segments_deferred += len(runner.lane.deferred)
                runner.lane.deferred = []
                self._deferred_wake.set()
        for key in [k for k in self._provisional if k[0] == call_id]:  # a final that failed to publish
            del self._provisional[key]

    async def audit(self, live_call_ids: list[str]) -> list[str]:
        """After a (re)connect, with the call ids the leg audit found live: end this process's taps
        of calls that are gone, and remove every tap in Asterisk that this process does not own
        (left by a previous controller: its RTP would come to nobody). The caller then calls
        `call_bridged` again for the calls still bridged. Returns the removed ids."""
        if self.tap is None:
            return []
        live = set(live_call_ids)
        for call_id in [c for c in self.calls if c not in live]:
            await self.end(call_id)
        return await self.tap.audit(self.calls)

    async def on_event(self, event: AriEvent) -> None:
        """A tap's snoop channel went away (the tapped party hung up): end that call's taps."""
        if event.type not in ("StasisEnd", "ChannelDestroyed"):
            return
        parsed = parse_tap_id(event.channel_id or "")
        if parsed is not None and parsed[1] == "snoop" and parsed[2] in self.calls:
            self.call_ended(parsed[2])

    # ------------------------------------------------------------------ results
    async def emit(self, u: Utterance) -> None:
        try:
            await self.publisher.utterance(u)
        except Exception:
            log.exception("transcript_publish_failed", call_id=u.call_id)
            return
        if u.final:
            self.finals += 1
            if self.on_final is not None and u.status == "ok" and u.text:
                try:
                    self.on_final(u.call_id, u.leg.value, u.text)
                except Exception:
                    log.exception("transcript_listener_failed", call_id=u.call_id)
            sent = self._provisional.pop((u.call_id, u.leg, u.seq), None)
            if u.spoken_end_at is not None:
                now = time.monotonic()
                self.latencies.append((u.leg, now - u.spoken_end_at))
                first = sent[1] if sent is not None and sent[0] == u.spoken_end_at else now
                self.first_text.append((u.leg, first - u.spoken_end_at))
            if u.status != "ok":
                self.counters.segments_untranscribed += 1
            elif not u.deferred:
                self.counters.segments_live += 1
        else:
            self.partials += 1
            if u.provisional:
                self._provisional[(u.call_id, u.leg, u.seq)] = (u.spoken_end_at, time.monotonic())

    async def run(self, priority: int, fn: Any, *args: Any) -> Any:
        """`fn(*args)` on a worker thread, most urgent first (never on the event loop)."""
        return await asyncio.wrap_future(self.workers.submit(priority, fn, *args))

    def backlog_s(self) -> float:
        return max((r.backlog_s for legs in self.calls.values() for _, r in legs.values()), default=0.0)

    async def _drain(self) -> None:
        """Decode deferred segments, one at a time, only while live decoding keeps up."""
        while True:
            if not self.deferred:
                self.drained.set()
                self._deferred_wake.clear()
                await self._deferred_wake.wait()
                continue
            if not self.policy.drain_allowed(self.backlog_s()):
                await asyncio.sleep(0.2)
                self.policy.update(self.backlog_s())
                continue
            item = self.deferred.popleft()
            try:  # whatever fails, the drainer goes on (and `drained` is set once the line is empty)
                u = await self.run(BACKLOG, decode_file, self.decoders, item, self.spool)
            except Exception:
                log.exception("deferred_decode_failed", call_id=item.call_id, seq=item.seq)
                u = untranscribed(item)
            await self.emit(u)

    def _requeue_spool(self) -> None:
        """Segments spooled before a restart are still owed their text."""
        self.deferred.extend(self.spool.leftovers())
        if self.deferred:
            self.drained.clear()
            self._deferred_wake.set()

    def stats(self) -> dict:
        return {"available": self.available, "reason": self.reason, "calls": len(self.calls),
                "mode": self.policy.mode.name, "backlog_s": round(self.backlog_s(), 3),
                "deferred_waiting": len(self.deferred), "spool_bytes": self.spool.budget.used,
                "finals": self.finals, "partials": self.partials, "dropped": dict(self.counters.dropped),
                "segments_live": self.counters.segments_live,
                "segments_deferred": self.counters.segments_deferred,
                "segments_untranscribed": self.counters.segments_untranscribed}
