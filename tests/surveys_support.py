"""Helpers for the survey tests: the surveys feature on the running test stack, simulated
citizens that answer with chosen keys (or not at all), and resolved tickets."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

from helpers import until

from callcenter.app import PLUGINS, STATE
from callcenter.infra.ari import TRUNK_FORMATS
from callcenter.surveys.config import SurveySettings
from callcenter.surveys.plugin import Surveys, build

# calling hours that always include "now", for tests that are not about calling hours
ALWAYS = "00:00-23:59:59"
SUPERVISOR = "supervisor:li"


def survey_config(**kw: Any) -> SurveySettings:
    base = {"enabled": True, "hours": ALWAYS, "rest_days": True, "missed_hours": ALWAYS, "retry_minutes": 0, "missed_retry_minutes": 0,
            "ring_timeout_s": 4, "input_timeout_s": 2.0, "poll_s": 0.2, "lease_s": 30,
            "missed_short_abandon_s": 1.0, "inbound_wait_s": 600, "comment_s": 0, "agent_callbacks": False,
            "person_kinds": "", "person_after_reopens": 0}  # the tests' tickets are complaints: automated unless asked
    return SurveySettings(**(base | kw))


async def distinct_job_ids(pool) -> None:
    """Tests empty the tables with RESTART IDENTITY, so job 1 of one test would reuse the channel id
    sv-1-1 of the last test's call that may still be up in the session's Asterisk: start each
    test's job ids somewhere else."""
    await pool.execute("SELECT setval('survey_jobs_id_seq', $1)", random.randrange(10**6, 10**9))


async def surveys_on(app, config: SurveySettings | None = None, *, worker: str | None = None,
                     tickets: bool = True, acd: bool = False) -> Surveys:
    """Build the surveys feature on the stack's shared parts (as the plugin does in `start`) and
    let the ARI event filter include its events; `acd`: agent-driven callbacks go through the
    stack's ACD (call `s.unsubscribe()` at the end)."""
    ctx = app[STATE]["ctx"]
    running = [t for t in asyncio.all_tasks() if t.get_name() == "survey-dialler" and not t.done()]
    assert not running, "the stack's own survey dialler runs and would race this test's (see conftest)"
    await distinct_job_ids(ctx.pool)
    svc = app[PLUGINS].tickets.service.get() if tickets else None
    s = build(ctx, config or survey_config(), svc, worker=worker,
              acd=app[PLUGINS].acd.service.maybe if acd else None)
    ctx.router.register("survey", s.calls)
    ctx.router.register("rating", s.calls)
    await ctx.ari.filter_events(ctx.router.event_types())
    return s


async def citizen(app, number: str, mode: str = "answer", dtmf: str = "", wait: float = 1.0,
                  hold: float = 60) -> None:
    """How the citizen at `number` behaves when called: answer (and press `dtmf`), noanswer,
    busy, or hangup (answers, then hangs up after `wait` seconds)."""
    ari = app[STATE]["ari"]
    for name, value in ((f"CITIZEN_{number}", mode), (f"CITIZEN_DTMF_{number}", dtmf),
                        (f"CITIZEN_WAIT_{number}", str(wait)), (f"CITIZEN_HOLD_{number}", str(hold))):
        await ari.post("/asterisk/variable", variable=name, value=value)


def ticket_service(app):
    return app[PLUGINS].tickets.service.get()


async def resolved_ticket(app, phone: str, lead: str = "market") -> str:
    """A ticket filed, dispatched to `lead`, acknowledged and resolved (办结); returns its number."""
    svc = ticket_service(app)
    create = getattr(svc, "intake", svc).create_ticket
    created = await create(actor="agent:1001", kind="complaint", description="商家卖假冒伪劣商品，要求退货",
                           caller_phone=phone, lead=lead)
    number = created.number
    who = f"dept:{lead}:zhang"
    await svc.act(number, "acknowledge", actor=who)
    await svc.act(number, "resolve", actor=who, reply="已责令商家退货")
    return number


async def rating_call(app, number: str, *, call_id: str, agent: str = "1001", seat: str = "seat01",
                      team: str = "A") -> str:
    """A caller whose agent hung up first, entering the post-call rating; the citizen side
    behaves as `citizen(app, number, ...)` set. Returns the channel in Stasis."""
    ari = app[STATE]["ari"]
    chan = f"rt-{uuid.uuid4().hex[:8]}"
    await ari.post("/channels", endpoint=f"Local/{number}@rating-direct/n", context="citizen-callee",
                   extension=number, priority=1, formats=TRUNK_FORMATS, channelId=f"x-{chan}",
                   otherChannelId=chan, callerId=number,
                   body={"variables": {"__RATING_CALL": call_id, "__RATING_AGENT": agent,
                                       "__RATING_SEAT": seat, "__RATING_TEAM": team}})
    return chan


async def job_of_ticket(pool, number: str):
    return await until(lambda: pool.fetchrow("SELECT * FROM survey_jobs WHERE ticket_number = $1", number),
                       what=f"a survey job for {number}")


async def job_state(pool, job_id: int, *states: str, timeout: float = 30):
    async def check():
        row = await pool.fetchrow("SELECT * FROM survey_jobs WHERE id = $1", job_id)
        return row if row and row["state"] in states else None
    return await until(check, timeout=timeout, what=f"job {job_id} in {states}")


class FlakyTickets:
    """A ticket service that records every action; `fail` maps an action to what it raises the first time."""

    def __init__(self, fail: dict[str, Exception]) -> None:
        self.fail, self.done = dict(fail), []

    async def record_survey(self, number, rating, actor, at=None, comment=None):
        await self._do(number, "survey")

    async def act(self, number, action, *, actor, at=None, reason=None, **data):
        await self._do(number, action)

    async def _do(self, number: str, action: str) -> None:
        if action in self.fail:
            raise self.fail.pop(action)
        self.done.append((number, action))
