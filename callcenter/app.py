"""Composition root: builds every part, starts it, stops it (aiohttp cleanup_ctx).

Each feature is a plugin class (`callcenter/<feature>/plugin.py`, shaped by
`callcenter.context.Plugin`). `build_plugins` constructs them in start order and hands each the
typed services of the features it reads (the board gets the ACD's view, the ticket service and
the record reads of calls, tickets and dispatch;
the IVR gets the ticket service; transcription tells dispatch's incident detector each final). A plugin adds its routes while the app is built and fills its
`Provided` services in `start()`. Nothing looks a service up by name, and no feature imports
this module.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
import redis.exceptions
from aiohttp import web

from callcenter.accounts.guard import guard
from callcenter.accounts.plugin import AccountsPlugin
from callcenter.acd.board.plugin import BoardPlugin
from callcenter.acd.board.reads import Records
from callcenter.acd.plugin import AcdPlugin
from callcenter.browserphone.plugin import WebPhonePlugin
from callcenter.calls import history as call_history
from callcenter.calls.records import CallRecords
from callcenter.calls.selftest import SelfTest
from callcenter.calls.stasis import StasisRouter
from callcenter.context import CONTEXT, SETTINGS, Context, Plugin
from callcenter.dispatch import incident_store
from callcenter.dispatch.plugin import DispatchPlugin
from callcenter.infra import db
from callcenter.infra.ari import AriClient, AriError, AriUnavailable
from callcenter.infra.errors import StartupError
from callcenter.infra.hardening import clean_input, errors_as_json, mask_access_log
from callcenter.infra.lease import ControllerLease
from callcenter.infra.logging import get_logger
from callcenter.infra.mqtt import OutboxRelay
from callcenter.infra.redis import LiveState, login_refused
from callcenter.infra.settings import Settings
from callcenter.infra.web import http_errors
from callcenter.ivr.plugin import IvrPlugin
from callcenter.knowledge.plugin import KnowledgePlugin
from callcenter.metrics.plugin import MetricsPlugin
from callcenter.quality.plugin import QualityPlugin
from callcenter.recordings.api import call_agent, call_lengths, recent_calls
from callcenter.recordings.plugin import RecordingsPlugin
from callcenter.surveys.api import call_ratings
from callcenter.surveys.plugin import SurveysPlugin
from callcenter.tickets import history as ticket_history
from callcenter.tickets.api import tickets_of_calls
from callcenter.tickets.plugin import TicketsPlugin
from callcenter.transcription.plugin import TranscriptionPlugin
from callcenter.transcription.publisher import calls_dialogue, segments
from callcenter.web.headers import harden_responses, origin_of

log = get_logger("app")


@dataclass
class Plugins:
    """The features, typed; `ordered()` is the start order."""

    accounts: AccountsPlugin
    tickets: TicketsPlugin
    dispatch: DispatchPlugin
    ivr: IvrPlugin
    transcription: TranscriptionPlugin
    recordings: RecordingsPlugin
    quality: QualityPlugin
    acd: AcdPlugin
    webphone: WebPhonePlugin
    surveys: SurveysPlugin
    knowledge: KnowledgePlugin
    board: BoardPlugin
    metrics: MetricsPlugin

    def ordered(self) -> list[Plugin]:
        # dispatch before tickets: its router (where a ticket goes) is loaded before tickets are filed
        return [self.accounts, self.dispatch, self.tickets, self.ivr, self.transcription, self.recordings,
                self.quality, self.acd, self.webphone, self.surveys, self.knowledge, self.board, self.metrics]


# what the board and the agent desk read of the record, each from the feature owning the table
BOARD_RECORDS = Records(calls_of=call_history.caller_calls, call_facts=call_history.call_facts,
                        tickets_of=ticket_history.caller_tickets, open_incidents=incident_store.open_incidents)


def build_plugins() -> Plugins:
    # the department list shows open tickets (read when asked, once both have started)
    dispatch = DispatchPlugin(open_tickets=lambda: tickets.open_counts_by_department())
    tickets = TicketsPlugin(dispatch=dispatch.router, transcripts=calls_dialogue)  # dispatch routes its tickets
    transcription = TranscriptionPlugin(tickets=tickets_of_calls,  # a department reads a call through its ticket
                                        on_final=dispatch.heard)  # live transcripts into the incident detector
    recordings = RecordingsPlugin(tickets=tickets_of_calls)  # legal hold and a department's access by ticket
    # a supervisor may listen on the board's browser phone (webphone is made below, asked at run time)
    acd = AcdPlugin(transcriber=transcription.service, recorder=recordings.service,
                    browser_phone=lambda username: webphone.supervisor_phone(username))
    webphone = WebPhonePlugin(acd=acd.view)
    surveys = SurveysPlugin(tickets=tickets.service, acd=acd.service)
    # 直接答复 files the call's ticket through the ticket service; articles name catalogue units
    knowledge = KnowledgePlugin(filing=lambda **fields: tickets.service.get().create_ticket(**fields),
                                knows_unit=dispatch.router.knows_unit,
                                gaps=lambda since: tickets.service.get().enquiry_gaps(since),
                                replies=lambda number: tickets.service.get().answered_enquiry(number))
    quality = QualityPlugin(segments=segments, lengths=call_lengths, agent_of=call_agent, recent=recent_calls,
                            tickets=tickets_of_calls, ratings=call_ratings, seat_of=call_history.call_seat)
    return Plugins(accounts=AccountsPlugin(), tickets=tickets, dispatch=dispatch,
                   ivr=IvrPlugin(tickets=tickets.service, incidents=dispatch.service), transcription=transcription,
                   recordings=recordings, acd=acd, webphone=webphone, surveys=surveys,
                   knowledge=knowledge, quality=quality,
                   board=BoardPlugin(acd=acd.view, tickets=tickets.service, surveys=surveys.service,
                                     records=BOARD_RECORDS, recording=recordings.service, quality=quality.reviews),
                   metrics=MetricsPlugin(backlogs={"acd_journal": acd.journal_backlog}, counters=recordings.metrics()))


PLUGINS = web.AppKey("plugins", Plugins)
STATE = web.AppKey("state", dict)  # name -> shared part, for tests


async def health(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    return web.json_response({
        "ari_connected": ctx.ari.connected.is_set(),
        "mqtt_connected": ctx.relay.connected.is_set(),
        "ari_errors": ctx.ari.errors,
        "ari_requests": ctx.ari.requests,
        "ari_events": ctx.ari.events,
        "active": ctx.lease.held.is_set(),
        "app": ctx.settings.ari_app,
    })


async def _services(app: web.Application):
    settings = app[SETTINGS]
    try:
        pool = await db.create_pool(settings.database_url)
    except (TimeoutError, OSError) as exc:
        where = urlsplit(settings.database_url)
        raise StartupError(f"PostgreSQL unreachable at {where.hostname}:{where.port or 5432} "
                           f"(CALLCENTER_DATABASE_URL): {exc}") from None
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(_close_pool, pool)
        async with pool.acquire() as conn:
            await db.migrate(conn)
        live = LiveState(settings.redis_url, prefix=settings.mqtt_prefix)
        stack.push_async_callback(live.close)
        try:
            await live.ping()
        except redis.exceptions.AuthenticationError as exc:
            raise StartupError(login_refused(settings.redis_url, exc)) from None
        ari = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, settings.ari_app)
        await ari.open()
        stack.push_async_callback(ari.close)
        await _check_ari(ari, settings)  # before anything else connects: fail fast, cleanly
        relay = OutboxRelay(pool, settings.mqtt_host, settings.mqtt_port, settings.mqtt_prefix,
                            **settings.mqtt_login("controller"))
        await relay.start()
        stack.push_async_callback(relay.stop)
        records = CallRecords(pool)
        router = StasisRouter()
        router.register("selftest", SelfTest(ari, records))
        ari.on_event(router.submit)
        # first thing on every (re)connect, once the plugins have registered their features
        ari.on_connect(lambda: ari.filter_events(router.event_types()))
        # released last on the way out, after the features stopped: the standby takes over then
        lease = ControllerLease(live, f"controller:{settings.ari_app}", ttl_ms=settings.lease_ttl_ms)
        ctx = Context(settings, pool, live, relay, ari, records, router, lease)
        stack.push_async_callback(lease.stop)
        app[CONTEXT] = ctx
        app[STATE].update(pool=pool, live=live, relay=relay, ari=ari, records=records, router=router,
                          ctx=ctx)
        for plugin in app[PLUGINS].ordered():
            await stack.enter_async_context(contextlib.asynccontextmanager(plugin.start)(ctx))
        lease.start(ari.start_events, ari.stop_events)

        async def stop_events() -> None:  # first on the way out: no new events during shutdown
            ari.stop_events()

        stack.push_async_callback(stop_events)
        log.info("controller_started", http=f"http://{settings.http_host}:{settings.http_port}")
        yield


async def _close_pool(pool: asyncpg.Pool) -> None:
    """Close gracefully, but never hang shutdown on a connection some stuck task still holds
    (asyncpg's close waits for every acquired connection to come back)."""
    try:
        async with asyncio.timeout(10):
            await pool.close()
    except TimeoutError:
        log.error("db_pool_close_timeout", note="terminating connections still in use")
        pool.terminate()


async def _check_ari(ari: AriClient, settings: Settings) -> None:
    """Wrong credentials stop the start; an Asterisk that is not up yet is waited for."""
    try:
        await ari.get("/asterisk/info")
    except AriUnavailable:
        log.warning("asterisk_not_reachable_yet", ari=settings.ari_url)
    except AriError as exc:
        if exc.status == 401:
            raise StartupError(f"ARI at {settings.ari_url} refused user {settings.ari_user!r}: check "
                               "CALLCENTER_ARI_USER / CALLCENTER_ARI_PASSWORD") from None
        raise


def build_app(settings: Settings) -> web.Application:
    # outermost first: every error is JSON; then HttpError; then who may call the route (the
    # accounts policy table); then the body/query checks (after the guard: anonymous gets a 401)
    app = web.Application(client_max_size=2 * 1024 * 1024,
                          middlewares=[errors_as_json, http_errors, guard, clean_input])
    # on every response, whichever middleware or handler made it; the desk's browser phone may
    # also connect to Asterisk's WSS
    harden_responses(app, connect=[origin_of(settings.webrtc_wss_url)] if settings.webrtc_port else [])
    mask_access_log()
    app[SETTINGS] = settings
    app[STATE] = {}
    app[PLUGINS] = plugins = build_plugins()
    app.router.add_get("/health", health)
    for plugin in plugins.ordered():
        plugin.routes(app)
    app.cleanup_ctx.append(_services)
    return app
