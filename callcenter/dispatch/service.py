"""The dispatch service: proposes a unit for a request, learns from the hall's decisions,
retrains (off the event loop) and rolls back model versions, and watches for mass incidents."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from callcenter.dispatch import incident_store, store
from callcenter.dispatch.catalogue import Catalogue, default_catalogue
from callcenter.dispatch.corpus import Corpus, load_corpus
from callcenter.dispatch.incidents import (
    IncidentDetector,
    Joined,
    Opened,
    Signal,
    announcement,
    check_announcement,
    topic,
)
from callcenter.dispatch.live import TranscriptFeed, district_named
from callcenter.dispatch.model import LinearModel, Prediction
from callcenter.dispatch.policy import Decision, RuleOutcome, decide
from callcenter.dispatch.store import ModelVersion
from callcenter.dispatch.trainer import Trainer
from callcenter.dispatch.training import DEFAULT_C
from callcenter.infra.logging import get_logger

log = get_logger("dispatch")
Renderer = Callable[[str], Awaitable[tuple[str, float]]]  # announcement -> (rendered prompt, seconds)
Discarder = Callable[[str], Awaitable[None]]  # deletes a rendered prompt's sound file (by name)


class DispatchError(ValueError):
    """A request the service refuses (unknown unit, unknown version, bad source)."""


class DispatchService:
    def __init__(self, pool: asyncpg.Pool, *, catalogue: Catalogue | None = None, corpus: Corpus | None = None,
                 detector: IncidentDetector | None = None, renderer: Renderer | None = None,
                 feed: TranscriptFeed | None = None, auto_announce: bool = False,
                 discard: Discarder | None = None) -> None:
        self.pool = pool
        self.renderer = renderer  # renders an incident's IVR announcement when it opens
        self.discard = discard  # deletes a rendered announcement no open incident uses any more
        # the IVR speaks it at once (on), or once a supervisor confirmed it (off: an automatic
        # detection, perhaps a false alarm, never speaks to citizens unconfirmed)
        self.auto_announce = auto_announce
        self._renders: set[asyncio.Task] = set()
        self.catalogue = catalogue or default_catalogue()
        self._corpus = corpus
        self.detector = detector or IncidentDetector()
        self.model: LinearModel | None = None
        self.version: int | None = None
        self._incident_ids: dict[int, asyncio.Future[int]] = {}  # detector id -> stored id
        self._pending_links: list[tuple[int, str]] = []
        self._pending_renames: list[tuple[int, str, str]] = []  # (incident, call, ticket filed from it)
        self.feed = feed or TranscriptFeed()
        self._heard: set[asyncio.Task] = set()
        self._train_lock = asyncio.Lock()
        self.trainer = Trainer()  # a child process: training never holds the controller's GIL
        self._training: asyncio.Task | None = None  # a retraining asked for over HTTP
        self.training_job: dict[str, Any] | None = None  # its state, for GET /api/dispatch/models

    @property
    def corpus(self) -> Corpus:
        if self._corpus is None:
            self._corpus = load_corpus(catalogue=self.catalogue)
        return self._corpus

    async def refresh(self) -> bool:
        """Load the model in force if it changed (another process may have trained or rolled back)."""
        async with self.pool.acquire() as conn:
            if await store.active_version(conn) == self.version:
                return False
            found = await store.active_model(conn)
        self.version, self.model = found if found else (None, None)
        log.info("dispatch_model_loaded", version=self.version)
        return True

    # ---- proposing ----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """A model is in force (until then the dispatch rules decide alone, :mod:`.router`)."""
        return self.model is not None

    def predict(self, text: str, kind: str | None = None, district: str | None = None) -> Prediction | None:
        return self.model.predict(text, kind, district) if self.model and text.strip() else None

    def propose(self, text: str, kind: str | None = None, district: str | None = None,
                rules: RuleOutcome | None = None) -> Decision:
        return decide(rules, self.predict(text, kind, district))

    # ---- learning -----------------------------------------------------------------------

    async def record_decision(self, *, text: str, department: str, source: str, actor: str,
                              kind: str | None = None, district: str | None = None,
                              ticket_number: str | None = None) -> None:
        """A human dispatch, a 派单异议 that moved the ticket, or a reassignment: a training example."""
        if department not in self.catalogue or department == "hall":
            raise DispatchError(f"unknown unit {department!r}")
        if source not in store.SOURCES:
            raise DispatchError(f"source must be one of {', '.join(store.SOURCES)}")
        if not text.strip():
            raise DispatchError("an example needs the request's text")
        async with self.pool.acquire() as conn:
            await store.record_example(conn, text=text.strip(), department=department, source=source, actor=actor,
                                       kind=kind, district=district, ticket_number=ticket_number)

    async def retrain(self, actor: str, *, analyzer: str = "char", c: float = DEFAULT_C,
                      activate: bool = True) -> ModelVersion:
        """Corpus + every hall example; threshold by cross-validation of them (the held-out split is
        only measured); stored as a new version."""
        async with self._train_lock:
            async with self.pool.acquire() as conn:
                hall = await store.hall_examples(conn)
            model, metrics = await self.trainer.fit(self.corpus, hall, analyzer=analyzer, c=c)
            metrics["hall_examples"] = len(hall)
            async with self.pool.acquire() as conn:
                ver = await store.save_model(conn, model, metrics, actor, activate=activate)
            if activate:
                self.model, self.version = model, ver.version
            log.info("dispatch_model_trained", version=ver.version, examples=metrics["train"],
                     auto_share=metrics["auto_share"], precision=metrics["auto_precision"])
            return ver

    def start_retrain(self, actor: str) -> tuple[dict[str, Any], bool]:
        """Retrain in the background (a training takes seconds to a minute, longer than an HTTP
        client or proxy waits): (the job, whether it started now). While one runs, asking again
        returns that one instead of queueing a second."""
        if self._training is not None and not self._training.done():
            return self.training_job or {}, False
        self.training_job = {"state": "training", "actor": actor, "started_at": datetime.now(UTC).isoformat()}
        self._training = asyncio.create_task(self._retrain_job(actor))
        return self.training_job, True

    async def _retrain_job(self, actor: str) -> None:
        job = self.training_job or {}
        try:
            ver = await self.retrain(actor)
        except Exception as exc:  # kept for the admin to read; the model in force stays
            log.exception("dispatch_retrain_failed", actor=actor)
            self.training_job = {**job, "state": "failed", "error": str(exc) or type(exc).__name__,
                                 "finished_at": datetime.now(UTC).isoformat()}
        else:
            self.training_job = {**job, "state": "done", "version": ver.version,
                                 "finished_at": datetime.now(UTC).isoformat()}

    async def retrain_if_due(self, actor: str = "system:periodic") -> ModelVersion | None:
        async with self.pool.acquire() as conn:
            fresh = await store.examples_since_active(conn)
            has_model = await store.active_version(conn) is not None
        return await self.retrain(actor) if fresh or not has_model else None

    async def activate(self, version: int) -> ModelVersion:
        """Put a stored version in force: roll back (or forward)."""
        async with self.pool.acquire() as conn:
            try:
                ver = await store.activate_version(conn, version)
            except store.UnknownVersion as exc:
                raise DispatchError(str(exc)) from None
        await self.refresh()
        return ver

    async def versions(self) -> list[ModelVersion]:
        async with self.pool.acquire() as conn:
            return await store.list_versions(conn)

    # ---- mass incidents -----------------------------------------------------------------

    async def restore_incidents(self) -> int:
        """At start: the incidents still open go back into the detector, so that requests after a
        restart join them instead of opening a second one."""
        async with self.pool.acquire() as conn:
            rows = await store.open_incidents(conn)
        loop = asyncio.get_running_loop()
        for r in rows:
            inc = self.detector.restore(district=r["district"], department=r["department"], master=r["master_ref"],
                                        refs=list(r["refs"]), opened_at=r["opened_at"],
                                        last_at=max(r["last_at"], r["opened_at"]), signature=r["signature"])
            stored: asyncio.Future[int] = loop.create_future()
            stored.set_result(r["id"])
            self._incident_ids[inc.id] = stored
        return len(rows)

    async def observe(self, ref: str, at: datetime, district: str | None, text: str,
                      department: str | None = None, source: str = "ticket",
                      supersedes: tuple[str, ...] | list[str] = ()) -> dict[str, Any] | None:
        """Feed a new ticket or a live transcript to the detector (`supersedes`: the calls a ticket
        was filed from, counted once). An opened incident is stored at once; a request joining one
        is queued and written in batches (`flush`, every half second from the plugin), so a burst
        of tickets for one incident costs no round trip each."""
        event = self.detector.observe(Signal(ref, at, district, text, department, source, tuple(supersedes)))
        if event is None:
            return None
        inc = event.incident
        if isinstance(event, Opened):
            stored: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._incident_ids[inc.id] = stored
            try:
                async with self.pool.acquire() as conn:
                    iid = await store.open_incident(conn, district=inc.district, department=inc.department,
                                                    title=inc.title, keywords=list(inc.keywords),
                                                    master_ref=inc.master, opened_at=inc.opened_at, refs=inc.refs,
                                                    signature=inc.signature())
            except BaseException as exc:
                stored.set_exception(exc)
                self.detector.close(inc.id)
                raise
            stored.set_result(iid)
            log.info("dispatch_incident_opened", incident=iid, title=inc.title)
            if self.renderer is not None:  # pre-rendered now, so the IVR never waits for speech
                on = True if self.auto_announce else None  # None: as a supervisor set it meanwhile (off)
                task = asyncio.create_task(self._announce(iid, announcement(inc.district, inc.keywords), on),
                                           name=f"incident-{iid}-prompt")
                self._renders.add(task)
                task.add_done_callback(self._renders.discard)
            return {"event": "opened", "incident": iid, "title": inc.title, "master": inc.master}
        assert isinstance(event, Joined)
        iid = await asyncio.shield(self._incident_ids[inc.id])
        if event.replaces is not None:
            self._pending_renames.append((iid, event.replaces, event.ref))
        else:
            self._pending_links.append((iid, event.ref))
        if len(self._pending_links) >= 500:
            await self.flush()
        return {"event": "joined", "incident": iid, "master": inc.master, "ref": event.ref}

    async def flush(self) -> int:
        """Write the queued detector links; returns how many."""
        batch, self._pending_links = self._pending_links, []
        renames, self._pending_renames = self._pending_renames, []
        if batch or renames:
            async with self.pool.acquire() as conn:
                if batch:
                    await store.add_links(conn, batch)
                if renames:  # after the links: a call's link may be in this batch
                    await incident_store.replace_links(conn, renames)
        return len(batch) + len(renames)

    # ---- live transcripts ---------------------------------------------------------------

    def heard(self, call_id: str, leg: str, text: str, at: datetime) -> None:
        """A final of a call's live transcript (the transcription feature's hook, through app.py;
        returns at once). Once the citizen said enough, the call is fed to the detector."""
        said = self.feed.heard(call_id, leg, text, at)
        if said is not None:
            task = asyncio.create_task(self._observe_call(call_id, said, at), name=f"incident-heard-{call_id}")
            self._heard.add(task)
            task.add_done_callback(self._heard.discard)

    async def _observe_call(self, call_id: str, said: str, at: datetime) -> None:
        try:
            district = district_named(said)
            if district is None:
                async with self.pool.acquire() as conn:
                    district = await incident_store.caller_district(conn, call_id)
            if district is None:  # its ticket (which has one) counts for it later
                log.info("dispatch_transcript_without_district", call_id=call_id)
                return
            event = await self.observe(call_id, at, district, said, None, "transcript")
            if event is not None:
                log.info("dispatch_transcript_incident", call_id=call_id, incident=event["incident"],
                         what=event["event"])
        except Exception:
            log.warning("dispatch_transcript_observe_failed", call_id=call_id, exc_info=True)

    async def confirm_link(self, incident_id: int, ref: str, via: str = "agent") -> None:
        """并单: an agent (or the IVR for its caller) confirms a request belongs to the incident."""
        async with self.pool.acquire() as conn:
            try:
                await store.link(conn, incident_id, ref, via, confirmed=True)
            except asyncpg.ForeignKeyViolationError:
                raise DispatchError(f"no incident {incident_id}") from None

    async def close_incident(self, incident_id: int) -> list[str]:
        """The master ticket was resolved: close; the returned requests each get the callback.
        Its announcement's sound file is deleted (unless another open incident says the same)."""
        await self.flush()
        for det_id, stored in list(self._incident_ids.items()):
            if stored.done() and not stored.exception() and stored.result() == incident_id:
                self.detector.close(det_id)
                del self._incident_ids[det_id]
        async with self.pool.acquire() as conn:
            row = await incident_store.get(conn, incident_id)
            refs = await store.close_incident(conn, incident_id)
        await self._forget_prompts([row["prompt"]] if row else [])
        return refs

    async def _forget_prompts(self, prompts: list[str | None]) -> None:
        """Delete the rendered announcements among `prompts` that no open incident uses (a
        failure is logged: a file left behind is wasted space, never a wrong announcement)."""
        names = sorted({p for p in prompts if p})
        if not names or self.discard is None:
            return
        async with self.pool.acquire() as conn:
            unused = await incident_store.unused_prompts(conn, names)
        for name in unused:
            try:
                await self.discard(name)
            except Exception:
                log.warning("dispatch_incident_prompt_delete_failed", prompt=name, exc_info=True)
            else:
                log.info("dispatch_incident_prompt_deleted", prompt=name)

    async def master_resolved(self, master_ref: str) -> list[str]:
        """The ticket `master_ref` was resolved: close the open incidents it is the master of;
        returns every request linked to them (each citizen is owed the callback)."""
        async with self.pool.acquire() as conn:
            ids = await store.open_incidents_of(conn, master_ref)
        refs: list[str] = []
        for iid in ids:
            refs += await self.close_incident(iid)
        return refs

    async def incidents(self, open_only: bool = True) -> list[dict[str, Any]]:
        await self.flush()
        async with self.pool.acquire() as conn:
            return await store.list_incidents(conn, open_only=open_only)

    # ---- the incident at the desk and in the IVR ----------------------------------------

    async def _announce(self, incident_id: int, text: str, on: bool | None = True) -> bool:
        try:
            prompt, seconds = await self.renderer(text) if self.renderer is not None else (None, None)
        except Exception:
            log.warning("dispatch_incident_prompt_failed", incident=incident_id, exc_info=True)
            prompt = seconds = None
        async with self.pool.acquire() as conn:
            done, before = await incident_store.set_prompt(conn, incident_id, text, prompt, seconds,
                                                           announce=on if prompt is not None else False)
        log.info("dispatch_incident_announcement", incident=incident_id, prompt=prompt, announce=bool(done and on))
        # the text it replaced; or, the incident having closed meanwhile, the one just rendered
        await self._forget_prompts([before] if done else [prompt])
        return done

    async def announce(self, incident_id: int, *, on: bool, text: str | None = None) -> dict[str, Any]:
        """A supervisor switches the IVR announcement on (confirms it) or off, or corrects its text
        (rendered again)."""
        async with self.pool.acquire() as conn:
            row = await incident_store.get(conn, incident_id)
        if row is None or row["status"] != "open":
            raise DispatchError(f"no open incident {incident_id}")
        if text is not None or row["prompt"] is None:
            try:
                words = check_announcement(text) if text is not None else (
                    row["prompt_text"] or announcement(row["district"], row["keywords"]))
            except ValueError as exc:
                raise DispatchError(str(exc)) from None
            if not await self._announce(incident_id, words, on):
                raise DispatchError(f"no open incident {incident_id}")
        else:
            async with self.pool.acquire() as conn:
                await incident_store.set_prompt(conn, incident_id, row["prompt_text"], row["prompt"], row["prompt_s"],
                                                announce=on)
        async with self.pool.acquire() as conn:
            row = await incident_store.get(conn, incident_id)
        assert row is not None
        return {k: row[k] for k in ("id", "district", "title", "announce", "prompt", "prompt_s", "prompt_text")}

    async def announced_for(self, phone: str) -> dict[str, Any] | None:
        """The incident the IVR offers this caller (None: nothing to announce)."""
        async with self.pool.acquire() as conn:
            row = await incident_store.announced_for(conn, phone)
        return dict(row) if row else None

    async def attach_call(self, incident_id: int, call_id: str, phone: str) -> bool:
        """The IVR caller pressed the key: the call joins the master ticket, no agent needed."""
        async with self.pool.acquire() as conn:
            return await incident_store.attach_call(conn, incident_id, call_id, phone)

    async def merged(self, ref: str, master_ref: str) -> list[int]:
        """An agent merged ticket `ref` into `master_ref` (并单): confirmed links to its incidents."""
        await self.flush()
        async with self.pool.acquire() as conn:
            return await incident_store.merged(conn, ref, master_ref)

    async def proposal(self, ref: str) -> dict[str, Any] | None:
        """The open incident a new ticket matched, for the desk to propose 并单."""
        await self.flush()
        async with self.pool.acquire() as conn:
            row = await incident_store.proposal(conn, ref)
        return {**row, "topic": topic(row["keywords"])} if row else None

    async def aclose(self) -> None:
        """Wait for the announcements being rendered (at stop); a retraining is abandoned."""
        if self._training is not None and not self._training.done():
            self._training.cancel()
            await asyncio.gather(self._training, return_exceptions=True)
        self.trainer.close()
        if self._renders or self._heard:
            await asyncio.gather(*self._renders, *self._heard, return_exceptions=True)
