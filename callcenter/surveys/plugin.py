"""Wiring of the outbound side (回访, 漏话回拨, 坐席服务评价) into the app.

app.py builds it with the ticket service it reports results to:
    surveys=SurveysPlugin(tickets=tickets.service)        (start it after the ACD)
`start(ctx)` registers the survey and rating calls on the shared Stasis router (app-arg kinds
``survey`` and ``rating``) and runs the dialler while this controller holds the lease (only the
lease holder gets the ARI events of the calls it would originate).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from callcenter.context import Context
from callcenter.infra.logging import get_logger
from callcenter.infra.prompts import prompt_texts
from callcenter.infra.web import Provided
from callcenter.surveys import http
from callcenter.surveys.agentcalls import AgentCallbacks, AgentCallOptions
from callcenter.surveys.config import SurveySettings, load_survey_settings
from callcenter.surveys.dialler import Dialler, inbound_waiting
from callcenter.surveys.results import ResultSink, Tickets
from callcenter.surveys.scheduler import Scheduler
from callcenter.surveys.stasis import SurveyCalls
from callcenter.surveys.store import SurveyStore
from callcenter.tickets.api import default_calendar

log = get_logger("surveys")


@dataclass
class Surveys:
    """What the routes and tests get."""

    config: SurveySettings
    store: SurveyStore
    calls: SurveyCalls
    dialler: Dialler
    unsubscribe: Callable[[], None] = field(default=lambda: None)  # stops hearing the ACD's reports


Acd = Callable[[], AgentCallbacks | None]


def build(ctx: Context, config: SurveySettings, tickets: Tickets | None = None, *,
          worker: str | None = None, clock=None, acd: Acd | None = None) -> Surveys:
    """The parts, wired, without starting anything (tests build a second dialler this way).
    With `acd` (the ACD service, when it runs), agent-driven callbacks go through it."""
    store = SurveyStore(ctx.pool)
    scale, calendar = config.scale_(), default_calendar()
    clock = clock or (lambda: datetime.now(UTC))
    calls = SurveyCalls(ctx.ari, store, scale, input_timeout_s=config.input_timeout_s,
                        comment_s=config.comment_s, in_order=ctx.router.in_order, clock=clock)
    results = ResultSink(ctx.pool, scale, tickets)
    missed = config.missed_policy() if config.missed_enabled else None
    scheduler = Scheduler(store, config.survey_policy(), missed, calendar, results,
                          lookback_hours=config.missed_lookback_hours,
                          missed_by_agent=config.agent_callbacks and acd is not None)

    async def inbound_busy(now: datetime) -> bool:
        return await inbound_waiting(ctx.live, now, config.inbound_wait_s) > 0

    agent_calls = AgentCallOptions(queue=config.agent_queue, priority=config.agent_priority,
                                   wait_s=config.agent_wait_s, result_wait_s=config.result_wait_s)
    dialler = Dialler(store, ctx.ari, calls, scheduler, results, app=ctx.settings.ari_app,
                      survey=config.survey_policy(), missed=missed, calendar=calendar,
                      max_concurrent=config.max_concurrent, ring_timeout_s=config.ring_timeout_s,
                      lease_s=config.lease_s, caller_id=config.caller_id, inbound_busy=inbound_busy,
                      clock=clock, worker=worker, prompts=set(prompt_texts()), acd=acd, agent_calls=agent_calls)
    service = acd() if acd is not None else None
    if service is not None and dialler.agents is not None:
        return Surveys(config, store, calls, dialler, service.on_callback_report(dialler.agents.report))
    return Surveys(config, store, calls, dialler)


class SurveysPlugin:
    name = "surveys"

    def __init__(self, *, tickets: Provided[Tickets] | None = None,
                 config: SurveySettings | None = None, acd: Provided[AgentCallbacks] | None = None) -> None:
        self.tickets = tickets
        self.config = config
        self.acd = acd  # the ACD, for agent-driven callbacks (start this plugin after it)
        self.service: Provided[Surveys] = Provided("survey service")

    def routes(self, app: web.Application) -> None:
        http.routes(app, self.service)

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        config = self.config or load_survey_settings()
        tickets = self.tickets.maybe() if self.tickets is not None else None
        s = build(ctx, config, tickets, acd=self.acd.maybe if self.acd is not None else None)
        ctx.router.register("survey", s.calls)
        ctx.router.register("rating", s.calls)
        self.service.set(s)
        task = None
        if config.enabled:
            task = asyncio.create_task(s.dialler.run(config.poll_s, ctx.lease.held.is_set), name="survey-dialler")
        try:
            yield
        finally:
            self.service.set(None)
            s.unsubscribe()
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            s.calls.close()
