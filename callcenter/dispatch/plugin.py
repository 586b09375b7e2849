"""Wiring of the dispatch feature into the app (see callcenter/context.py for the contract).

`routes(app)` adds ``/api/dispatch/...`` and the departments, topics and dispatch rules
(``/api/departments``, ``/api/topics``, ``/api/routing-rules``: :mod:`.rules_http`). `router` is
where a ticket goes (the tickets feature's ``Dispatch``, handed to it by app.py); `start(ctx)`
loads the dispatch rules into it, then (with ``learned``) the model in force, and runs one
background job: every minute it picks up topics and a model another process added, trained or
rolled back, and every `RETRAIN_EVERY` it retrains when the hall recorded new decisions; every
`FLUSH` seconds the incident detector's queued links are written. `seed()` stores the
department catalogue and the bundled dispatch rules, and trains and stores the first model when
none is stored (``callcenter seed``)."""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
from aiohttp import web

from callcenter.context import Context
from callcenter.dispatch import http, pages, rule_store, store
from callcenter.dispatch.corpus import load_corpus
from callcenter.dispatch.incidents import PROMPT_FILE, prompt_name
from callcenter.dispatch.router import Router
from callcenter.dispatch.rules_admin import OpenTickets, RulesAdmin
from callcenter.dispatch.rules_http import RulesRoutes
from callcenter.dispatch.service import Discarder, DispatchService, Renderer
from callcenter.dispatch.training import fit_corpus
from callcenter.infra.logging import get_logger
from callcenter.infra.periodic import every
from callcenter.infra.prompts import SOUNDS_SUBDIR, render_named
from callcenter.infra.sandbox import root_path
from callcenter.infra.settings import Settings
from callcenter.infra.web import Provided

log = get_logger("dispatch")
TICK = 60.0  # seconds between checks for a model changed elsewhere
FLUSH = 0.5  # seconds between writes of the incident detector's queued links
RETRAIN_EVERY = 6 * 3600.0  # seconds between retrains (only when the hall taught it something)


class DispatchPlugin:
    name = "dispatch"

    def __init__(self, open_tickets: OpenTickets | None = None, *, learned: bool = True) -> None:
        """``open_tickets``: the tickets feature's open tickets by department (the department
        list shows them); ``learned=False``: the rules alone, no classifier or incident detector
        of this plugin's own (tests of the ticket feature)."""
        self.service: Provided[DispatchService] = Provided("dispatch service")
        self.router = Router(learned=self.service.maybe)
        self.admin: Provided[RulesAdmin] = Provided("dispatch rules")
        self.open_tickets, self.learned = open_tickets, learned

    def routes(self, app: web.Application) -> None:
        http.routes(app, self.service)
        RulesRoutes(self.admin).add(app)
        pages.routes(app)  # /dispatch (派单台) and the desk's dispatch widgets

    def heard(self, call_id: str, leg: str, text: str) -> None:
        """A final of a live transcript (app.py hands this to the transcription feature): fed to the
        mass-incident detector; never blocks, nothing when the service is not running."""
        svc = self.service.maybe()
        if svc is not None:
            svc.heard(call_id, leg, text, datetime.now(UTC))

    async def seed(self, conn: asyncpg.Connection, today: date) -> str:
        return f"{await self._seed_rules(conn)}; {await self._seed_model(conn)}"

    @staticmethod
    async def _seed_rules(conn: asyncpg.Connection) -> str:
        """The department catalogue (upserted) and, when none is stored yet, the bundled dispatch
        rules as their first stored version."""
        await rule_store.sync_departments(conn)
        stored = await rule_store.stored_rules_spec(conn) is not None
        if not stored:
            await rule_store.save_rules(conn, rule_store.bundled_rules_spec(), "seed")
        rules = await rule_store.load_rules(conn)
        return (f"{len(rules.departments)} departments, dispatch rules "
                f"{'kept as stored' if stored else 'stored from the bundled file'}, {len(rules.topics)} topics")

    @staticmethod
    async def _seed_model(conn: asyncpg.Connection) -> str:
        if await store.active_version(conn) is not None:
            return "dispatch model kept as stored"
        model, metrics = await asyncio.to_thread(fit_corpus, load_corpus())
        ver = await store.save_model(conn, model, metrics, "seed")
        return (f"dispatch model v{ver.version} trained on {metrics['train']} examples "
                f"({metrics['auto_share']:.0%} auto-dispatched at {metrics['auto_precision']:.1%} on the held-out split)")

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        await self.router.load(ctx.pool)
        admin = RulesAdmin(ctx.pool, self.router, self.open_tickets)
        self.admin.set(admin)
        rules = self.router.rules
        log.info("dispatch_rules_loaded", departments=len(rules.departments), topics=len(rules.topics))
        svc = None
        if self.learned:
            svc = DispatchService(ctx.pool, renderer=prompt_renderer(ctx.settings),
                                  auto_announce=ctx.settings.incident_auto_announce,
                                  discard=prompt_discarder(ctx.settings))
            await svc.refresh()
            await svc.restore_incidents()
            self.service.set(svc)
        last_retrain = time.monotonic()

        async def tick() -> None:
            nonlocal last_retrain
            await admin.refresh_topics()
            if svc is None:
                return
            await svc.refresh()
            if time.monotonic() - last_retrain >= RETRAIN_EVERY:
                last_retrain = time.monotonic()
                await svc.retrain_if_due()

        jobs = [asyncio.create_task(every(TICK, tick, log=log, failed="dispatch_tick_failed"), name="dispatch-tick")]
        if svc is not None:
            jobs.append(asyncio.create_task(every(FLUSH, svc.flush, log=log, failed="dispatch_flush_failed"),
                                            name="dispatch-flush"))
            log.info("dispatch_started", model_version=svc.version)
        try:
            yield
        finally:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            if svc is not None:
                await svc.aclose()  # the prompts being rendered, the calls being fed
                await svc.flush()
                self.service.set(None)
            self.admin.set(None)


def prompts_target(settings: Settings) -> Path:
    """Where Asterisk finds the prompts rendered at run time: ``prompts_dir``, else the sandbox
    root's sounds (one machine, tests)."""
    return settings.prompts_dir or root_path(settings.asterisk_cache) / SOUNDS_SUBDIR


def prompt_discarder(settings: Settings) -> Discarder:
    """Deletes an incident announcement's sound file (one no open incident uses any more); only
    a name `prompt_name` makes, so no other file of the directory is ever touched."""
    target = prompts_target(settings)

    async def discard(name: str) -> None:
        if not PROMPT_FILE.fullmatch(name):
            raise ValueError(f"not an incident announcement: {name!r}")
        await asyncio.to_thread((target / f"{name}.wav").unlink, missing_ok=True)

    return discard


def prompt_renderer(settings: Settings) -> Renderer:
    """Renders an incident's IVR announcement (espeak-ng, off the loop) where Asterisk finds its
    prompts (`prompts_target`)."""
    target = prompts_target(settings)

    def render_and_measure(text: str) -> tuple[str, float]:
        name = prompt_name(text)
        render_named(text, name, target)
        with wave.open(str(target / f"{name}.wav")) as w:
            return name, w.getnframes() / w.getframerate()

    async def render(text: str) -> tuple[str, float]:
        return await asyncio.to_thread(render_and_measure, text)

    return render
