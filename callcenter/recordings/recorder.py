"""Recording by Asterisk over ARI: per bridged part of a call, a snoop channel on each party
(`spy: in`, what that party says) recorded by Asterisk to its own file; once the part ends the
two files are fetched over ARI (`/recordings/stored/{name}/file`), merged into one stereo Ogg
Vorbis file (caller left, agent right; sox) and put in the store.

Nothing of a recording lives only in this process. The row is written before Asterisk is asked to
record; the snoops and recordings belong to Asterisk and go on if the controller dies (kill -9):
a snoop ends with its party's channel, its recording is then complete on Asterisk's disk. Any
controller's `settle` (every few seconds) stores each part whose recordings Asterisk finished and
no process here still runs; a controller that takes over re-registers the parts of the calls still
bridged (`audit`), so the end of the call stops them as usual.

The ACD calls, never awaiting (the same shape as live transcription's):
`call_bridged(call_id, caller_channel, agent_channel, line=)` and `call_ended(call_id)`; after a
(re)connect `await audit(bridged_call_ids)`. The supervision (acd/supervise.py) calls
`supervisor_joined(call_id, phone_channel, sid=, mode=, by=, seat=)` once a whispering or barging
supervisor's phone is in, and `supervisor_left(call_id, sid)`: their voice is a third recording of
the part, mixed into the hall's channel when it is stored (model.py). A failure (Asterisk refusing, disk full) is logged,
counted and kept on the row; the call always goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from callcenter.infra.ari import AriClient, AriError, AriEvent
from callcenter.infra.logging import get_logger
from callcenter.recordings.mixing import mix_stereo, sha256_of
from callcenter.recordings.model import (
    FORMAT,
    LEGS,
    RECORD_FORMAT,
    SNOOP_ARG,
    VOICE_MODES,
    WHO_HEARS,
    Recording,
    name,
    parse_name,
    storage_key,
    voice_name,
)
from callcenter.recordings.storage import Store, StoreError
from callcenter.recordings.store import RecordingStore

log = get_logger("recordings")

SETTLE_AFTER_S = 20  # a part no process here runs, started longer ago than this, may be settled


@dataclass
class Part:
    rec: Recording
    names: tuple[str, str]  # the caller's and the agent's snoop/recording
    voices: list[str] = field(default_factory=list)  # supervisors' voice snoops/recordings in this part


class Recorder:
    EVENTS = frozenset({"RecordingFailed"})  # for the app's event filter (calls/stasis.py event_types)

    def __init__(self, ari: AriClient, store: RecordingStore, files: Store, *,
                 records: Callable[[str], bool], work_dir: Path | None = None, retention_days: int = 180,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.ari, self.store, self.files = ari, store, files
        self.records = records
        self.work_dir = work_dir
        self.retention_days = retention_days
        self.clock = clock
        self.parts: dict[str, Part] = {}  # call id -> the part this process records now
        self._busy: set[str] = set()  # calls whose start or stop is under way here
        self._chains: dict[str, asyncio.Task] = {}
        self._finishing: set[asyncio.Task] = set()
        self.started = self.stored = self.failures = 0
        self.last_failure: str | None = None
        self.failed_ids: list[tuple[str, str]] = []  # (call, why) of the last failures, for the board

    # ------------------------------------------------------------ what the ACD calls
    def call_bridged(self, call_id: str, caller_channel: str, agent_channel: str, *, line: str = "") -> None:
        if not self.records(line):
            return
        self._then(call_id, lambda: self._start(call_id, caller_channel, agent_channel, line))

    def call_ended(self, call_id: str) -> None:
        self._then(call_id, lambda: self._stop(call_id))

    def supervisor_joined(self, call_id: str, channel: str, *, sid: str, mode: str, by: str = "",
                          seat: str = "") -> None:
        """A supervisor's phone (``channel``) whispers to the agent or barges into a bridged call."""
        if mode in VOICE_MODES:
            self._then(call_id, lambda: self._voice(call_id, channel, sid, mode, by, seat))

    def supervisor_left(self, call_id: str, sid: str) -> None:
        self._then(call_id, lambda: self._voice_end(call_id, sid))

    async def audit(self, live_call_ids: list[str]) -> list[str]:
        """After a (re)connect: the parts Asterisk records for calls still bridged are this
        process's again; the snoops of any other call are stopped (their part is then stored)."""
        live = set(live_call_ids)
        found: dict[str, dict[str, str]] = {}
        for ch in await self.ari.get("/channels") or []:
            parsed = parse_name(str(ch.get("id", "")))
            if parsed is not None:
                found.setdefault(parsed[2], {})[parsed[0]] = ch["id"]
        stopped: list[str] = []
        for call_id, legs in found.items():
            if call_id in live and call_id not in self.parts:
                rows = [r for r in await self.store.for_call(call_id) if r.state.value == "recording"]
                if rows:
                    rec = rows[-1]
                    self.parts[call_id] = Part(rec, (name("caller", rec.part, call_id), name("agent", rec.part, call_id)),
                                               [v.name for v in rec.voices])
                    log.info("recording_found", call_id=call_id, part=rec.part)
                    continue
            if call_id not in live:
                await self._halt(tuple(legs.values()))
                stopped.extend(legs.values())
        return stopped

    async def on_event(self, event: AriEvent) -> None:
        """The snoops' StasisStart is ours (nothing to do); a recording Asterisk could not make
        (disk full, a format it cannot write) is logged and counted."""
        if event.type != "RecordingFailed":
            return
        rec = event.raw.get("recording") or {}
        parsed = parse_name(str(rec.get("name", "")))
        if parsed is not None:
            self._failed(parsed[2], f"Asterisk: {rec.get('cause') or 'recording failed'}")

    # ------------------------------------------------------------ start and stop
    def _then(self, call_id: str, job: Callable[[], Awaitable[None]]) -> None:
        """One call's starts and stops in the order the ACD asked, never holding up the call."""
        prev = self._chains.get(call_id)
        self._busy.add(call_id)

        async def run() -> None:
            if prev is not None:
                await asyncio.gather(prev, return_exceptions=True)
            try:
                await job()
            except Exception as exc:  # noqa: BLE001 - recording never holds up or breaks a call
                log.error("recording_error", call_id=call_id, error=repr(exc))
            finally:
                if self._chains.get(call_id) is task:
                    del self._chains[call_id]
                    self._busy.discard(call_id)

        task = asyncio.create_task(run(), name=f"recording-{call_id}")
        self._chains[call_id] = task

    async def _start(self, call_id: str, caller: str, agent: str, line: str) -> None:
        part = self.parts.get(call_id)
        if part is not None and part.rec.agent_leg == agent:
            return  # already recorded (asked again after a reconnect)
        if part is not None:
            await self._stop(call_id)  # a transfer or requeue: the next part
        try:
            rec = await self.store.open_part(call_id, caller, agent, line)
        except Exception as exc:  # noqa: BLE001 - PostgreSQL away: this part goes unrecorded, the call goes on
            self._failed(call_id, f"no row: {exc}")
            return
        names = (name("caller", rec.part, call_id), name("agent", rec.part, call_id))
        self.parts[call_id] = Part(rec, names)
        try:
            for channel, ident in zip((caller, agent), names, strict=True):
                await self._snoop(channel, ident)
            await asyncio.gather(*(self._record(ident) for ident in names))
        except AriError as exc:
            self.parts.pop(call_id, None)
            await self._halt(names)
            self._failed(call_id, f"Asterisk refused: {exc.status} {exc.message}")
            await self.store.failed(rec.id, f"Asterisk refused: {exc.status} {exc.message}")
            return
        self.started += 1
        log.info("recording_started", call_id=call_id, part=rec.part)

    async def _snoop(self, channel: str, ident: str) -> None:
        """A snoop on ``channel`` hearing what that party says (`spy: in`), into our app."""
        await self.ari.post(f"/channels/{channel}/snoop", spy="in", whisper="none", app=self.ari.app,
                            appArgs=SNOOP_ARG, snoopId=ident)

    async def _voice(self, call_id: str, channel: str, sid: str, mode: str, by: str, seat: str) -> None:
        part = self.parts.get(call_id)
        if part is None:
            return  # the call is not recorded (its line does not record, or its recording failed)
        ident = voice_name(sid, part.rec.part, call_id)
        if ident in part.voices:
            return
        try:
            voice = await self.store.add_voice(part.rec.id, ident, mode=mode, by=by, seat=seat)
        except Exception as exc:  # noqa: BLE001 - PostgreSQL away: the voice goes unrecorded, the call goes on
            self._failed(call_id, f"no row for the supervisor's voice: {exc}")
            return
        if voice is None:
            return
        part.voices.append(ident)
        try:
            await self._snoop(channel, ident)
            await self._record(ident)
        except AriError as exc:
            await self._halt((ident,))
            self._failed(call_id, f"the supervisor's voice: Asterisk refused: {exc.status} {exc.message}")
            return
        log.info("recording_voice_started", call_id=call_id, part=part.rec.part, mode=mode, offset_s=voice.offset_s)

    async def _voice_end(self, call_id: str, sid: str) -> None:
        part = self.parts.get(call_id)
        if part is None:
            return  # the part ended: its stop ended the voice too
        ident = voice_name(sid, part.rec.part, call_id)
        if ident in part.voices:
            await self._halt((ident,))  # Asterisk's file stays until the part is stored

    async def _record(self, ident: str) -> None:
        """A new snoop enters the app just after its creation returns: until then the record
        request is refused as 'not in Stasis'; retry briefly. A part started again after a
        takeover (its snoops were gone) appends to what Asterisk already has of it."""
        for attempt in range(40):
            try:
                await self.ari.post(f"/channels/{ident}/record", name=ident, format=RECORD_FORMAT,
                                    ifExists="append", beep=False, terminateOn="none", maxDurationSeconds=0,
                                    quiet=(409, 422))
                return
            except AriError as exc:
                if exc.status not in (409, 422) or attempt == 39:
                    raise
                await asyncio.sleep(0.025)

    async def _stop(self, call_id: str) -> None:
        part = self.parts.pop(call_id, None)
        if part is None:
            return
        await self._halt((*part.names, *part.voices))
        task = asyncio.create_task(self.finish(part.rec), name=f"recording-store-{call_id}")
        self._finishing.add(task)  # the next part (a transfer) starts at once, not after the storing
        task.add_done_callback(self._finishing.discard)

    async def close(self) -> None:
        """Let the starts, stops and storing under way end (the recordings themselves go on in Asterisk)."""
        await asyncio.gather(*self._chains.values(), return_exceptions=True)
        await asyncio.gather(*self._finishing, return_exceptions=True)

    async def _halt(self, names: tuple[str, ...]) -> None:
        for ident in names:
            with contextlib.suppress(AriError):
                await self.ari.safe(self.ari.post(f"/recordings/live/{ident}/stop", quiet=(404, 409)))
        for ident in names:
            with contextlib.suppress(AriError):
                await self.ari.safe(self.ari.delete(f"/channels/{ident}"))

    # ------------------------------------------------------------ storing a finished part
    async def settle(self) -> int:
        """Store every part whose recordings Asterisk has finished and no process here runs:
        parts of calls that ended while no controller listened, or whose storing failed half-way."""
        done = 0
        now = self.clock()
        for rec in await self.store.open_rows():
            if rec.call_id in self.parts or rec.call_id in self._busy:
                continue
            if now - rec.started_at < timedelta(seconds=SETTLE_AFTER_S):
                continue  # maybe being started by another process
            if await self._still_recording(rec):
                continue
            done += await self.finish(rec)
        return done

    async def _still_recording(self, rec: Recording) -> bool:
        for ident in rec.names():
            live = await self.ari.safe(self.ari.get(f"/recordings/live/{ident}"))
            if live and live.get("state") in ("queued", "recording", "paused"):
                return True
        return False

    async def finish(self, rec: Recording) -> int:
        """Fetch the part's files from Asterisk (each party's, each supervisor's voice), store them
        as one stereo file, drop Asterisk's copies. Returns 1 when stored."""
        claimed = await self.store.claim(rec.id)
        if claimed is None:
            return 0
        rec = claimed  # the row as it is now: with the voices noted while it was recorded
        work = Path(tempfile.mkdtemp(prefix=f"rec-{rec.id}-", dir=self.work_dir))
        names = list(rec.names())
        key, put = storage_key(rec.call_id, rec.part, rec.started_at), False
        try:
            await self._until_done(names)
            legs = [work / f"{leg}.wav" for leg in LEGS]
            got = [await self._fetch(n, p) for n, p in zip(names[:2], legs, strict=True)]
            if not any(got):
                raise RecordingLost("Asterisk has no audio of either party")
            voices = []
            for i, v in enumerate(rec.voices):
                path = work / f"voice-{i}.wav"
                if await self._fetch(v.name, path):  # a voice Asterisk could not record: the parties still are
                    voices.append((path, v.offset_s))
            out = work / f"mix.{FORMAT}"
            duration = await mix_stereo(legs, got, out, voices=voices)
            digest = await asyncio.to_thread(sha256_of, out)
            size = await self.files.put(key, out)
            put = True
            await self.store.stored(rec.id, ended_at=rec.started_at + timedelta(seconds=duration),
                                    duration_s=duration, size=size, sha256=digest, key=key,
                                    storage=self.files.kind, fmt=FORMAT)
        except Exception as exc:  # noqa: BLE001 - StoreError (disk full), sox, ARI, PostgreSQL: logged, counted, kept
            why = str(exc) if isinstance(exc, RecordingLost | StoreError | AriError | OSError) else repr(exc)
            self._failed(rec.call_id, why)
            if put:  # stored but not noted: no row names the file, so no retention would ever delete it
                with contextlib.suppress(Exception):
                    await self.files.delete(key)
            with contextlib.suppress(Exception):  # Asterisk's files stay: nothing is lost, storing is retried
                await self.store.failed(rec.id, why, retry=not isinstance(exc, RecordingLost))
            return 0
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for n in names:
            await self.ari.safe(self.ari.delete(f"/recordings/stored/{n}"))
        self.stored += 1
        log.info("recording_stored", call_id=rec.call_id, part=rec.part, bytes=size, duration_s=round(duration, 1))
        return 1

    async def _until_done(self, names: list[str], timeout: float = 10.0) -> None:
        """A stopped recording is written out by Asterisk a moment later."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            lives = [await self.ari.safe(self.ari.get(f"/recordings/live/{n}")) for n in names]
            if not any(v and v.get("state") in ("queued", "recording", "paused") for v in lives):
                return
            await asyncio.sleep(0.1)

    async def _fetch(self, ident: str, target: Path) -> bool:
        try:
            return await self.ari.download(f"/recordings/stored/{ident}/file", target) > 44
        except AriError as exc:
            if exc.status == 404:
                return False
            raise

    def _failed(self, call_id: str, why: str) -> None:
        self.failures += 1
        self.last_failure = why
        self.failed_ids = [(call_id, why), *self.failed_ids[:9]]
        log.error("recording_failed", call_id=call_id, error=why)

    def stats(self) -> dict[str, Any]:
        return {"live": len(self.parts), "started": self.started, "stored": self.stored,
                "failures": self.failures, "last_failure": self.last_failure,
                "recent_failures": [{"call_id": c, "reason": w} for c, w in self.failed_ids],
                # where they are and who may hear them, said on the board
                "storage": self.files.kind, "where": self.files.where, "retention_days": self.retention_days,
                "who_hears": WHO_HEARS}


class RecordingLost(Exception):
    """Asterisk has nothing to store for a part."""
