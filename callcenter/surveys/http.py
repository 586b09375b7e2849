"""Survey HTTP API.

GET  /api/surveys/figures?since=&until=&by=department|district|team|agent|day
     满意率 (and strict), 回访率, 解决率, agent rating, 漏话回拨率 for the period (default: today,
     Asia/Shanghai), in total and per group
GET  /api/surveys/jobs/{id}          one callback with its attempts
POST /api/surveys/optouts            {"phone": "...", "reason": "..."}: never call this number back
POST /api/surveys/person-callbacks   {"ticket": "...", "reason": "..."}: a person makes this ticket's 回访
GET  /api/agents/{agent_id}/callbacks   the agent's ticket callbacks (today) with the ticket's facts
POST /api/agents/{agent_id}/callbacks/{callback_id}/result
     {"resolved": true|false, "satisfaction": 1..5, "comment": "..."}: the result of a ticket
     callback the agent talked in (only theirs), stored like an automated survey's
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from callcenter.accounts.api import USER
from callcenter.infra.bounds import moment, path_id
from callcenter.infra.masking import mask_phone
from callcenter.infra.phones import canonical_phone, is_phone
from callcenter.infra.web import HttpError, Provided, read_json, reply
from callcenter.surveys.model import SHANGHAI
from callcenter.surveys.rates import GROUPS, figures, grouped

if TYPE_CHECKING:
    from callcenter.surveys.plugin import Surveys

KEY = web.AppKey("surveys", Provided)


def _moment(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise HttpError(422, "invalid", "since/until must be ISO dates or times", {name: "ISO date"}) from None
    return moment(name, value if value.tzinfo else value.replace(tzinfo=SHANGHAI))


def _period(request: web.Request) -> tuple[datetime, datetime]:
    start = _moment(request, "since") or datetime.combine(datetime.now(SHANGHAI).date(), time(0), tzinfo=SHANGHAI)
    return start, _moment(request, "until") or start + timedelta(days=1)


async def get_figures(request: web.Request) -> web.Response:
    s: Surveys = request.app[KEY].get()
    since, until = _period(request)
    by = request.query.get("by")
    if by is not None and by not in GROUPS:
        raise HttpError(422, "invalid", f"by must be one of {sorted(GROUPS)}", {"by": "unknown group"})
    records = await s.store.records(since, until)
    scale = s.config.scale_()
    body = {"since": since.isoformat(), "until": until.isoformat(), "scale": scale.name,
            "total": figures(records, scale)}
    if by:
        body["by"] = by
        body["groups"] = grouped(records, by, scale)
    return reply(body)


async def get_job(request: web.Request) -> web.Response:
    s: Surveys = request.app[KEY].get()
    job_id = path_id(request, "id")
    job = await s.store.job(job_id)
    if job is None:
        raise HttpError(404, "not_found", "no such survey job")
    attempts = await s.store.attempts(job_id)
    doc = {k: v for k, v in dict(job).items() if k != "phone"}
    return reply({**doc, "attempts": [dict(a) for a in attempts]})


class OptOut(BaseModel):
    phone: str = Field(max_length=32, description="any form: +86 138 1234 5678, 0812-3334444, ...")
    reason: str = Field("", max_length=200)
    by: str = Field("", max_length=64)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        if not is_phone(v):
            raise ValueError("must be a phone number (3 to 15 digits; spaces, +, -, brackets allowed)")
        return canonical_phone(v)


async def post_optout(request: web.Request) -> web.Response:
    s: Surveys = request.app[KEY].get()
    body = await read_json(request, OptOut)
    await s.store.opt_out(body.phone, body.reason, body.by)
    return reply({"phone": body.phone, "opted_out": True}, status=201)


class PersonCallback(BaseModel):
    ticket: str = Field(min_length=1, max_length=64)
    reason: str = Field("", max_length=200)


async def post_person_callback(request: web.Request) -> web.Response:
    s: Surveys = request.app[KEY].get()
    body = await read_json(request, PersonCallback)
    if not await s.store.flag_for_person(body.ticket, body.reason, request[USER].actor):
        raise HttpError(404, "not_found", "no such ticket", {"ticket": "unknown"})
    return reply({"ticket": body.ticket, "by_person": True}, status=201)


async def get_agent_callbacks(request: web.Request) -> web.Response:
    s: Surveys = request.app[KEY].get()
    since = datetime.combine(datetime.now(SHANGHAI).date(), time(0), tzinfo=SHANGHAI)
    rows = await s.store.agent_callbacks(request.match_info["agent_id"], since)
    out = []
    for r in rows:
        doc = {k: v for k, v in dict(r).items() if k != "caller_phone"}
        doc["caller_masked"] = mask_phone(r["caller_phone"])
        doc["callback_id"] = doc.pop("channel_id")
        doc["result_open"] = r["answers"] is None and r["state"] == "dialling"
        out.append(doc)
    return reply({"callbacks": out, "scale": [lv.label for lv in s.config.scale_().levels]})


class DeskResult(BaseModel):
    # strict: "no", 0 or true are not a yes/no or a digit (coerced, they stored a verdict nobody gave)
    model_config = ConfigDict(strict=True, extra="forbid")

    resolved: bool
    satisfaction: int = Field(ge=1, le=9)
    comment: str = Field("", max_length=1000)


async def post_desk_result(request: web.Request) -> web.Response:
    s: Surveys = request.app[KEY].get()
    body = await read_json(request, DeskResult)
    level = s.config.scale_().by_digit(str(body.satisfaction))
    if level is None:
        n = len(s.config.scale_().levels)
        raise HttpError(422, "invalid", f"satisfaction must be 1..{n}", {"satisfaction": f"1..{n}"})
    agent_id, channel = request.match_info["agent_id"], request.match_info["callback_id"]
    answers = {"resolved": body.resolved, "rating": level.label, "digit": level.digit,
               "comment": body.comment.strip() or None, "by_agent": agent_id}
    why = await s.store.desk_result(channel, agent_id, answers)
    if why == "not_found":
        raise HttpError(404, "not_found", "no callback of this agent with this id")
    if why is not None:
        raise HttpError(409, why, "this callback takes no result now")
    if s.dialler.agents is not None:
        await s.dialler.agents.result_entered(channel)
    return reply({"callback_id": channel, "resolved": body.resolved, "rating": level.label}, status=201)


def routes(app: web.Application, service: Provided[Surveys]) -> None:
    app[KEY] = service
    app.router.add_get("/api/surveys/figures", get_figures)
    app.router.add_get("/api/surveys/jobs/{id}", get_job)
    app.router.add_post("/api/surveys/optouts", post_optout)
    app.router.add_post("/api/surveys/person-callbacks", post_person_callback)
    app.router.add_get("/api/agents/{agent_id}/callbacks", get_agent_callbacks)
    app.router.add_post("/api/agents/{agent_id}/callbacks/{callback_id}/result", post_desk_result)
