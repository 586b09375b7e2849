"""The quality reviews' REST API (translation only; the rules are in model.py, the use cases in
reviews.py):

- ``GET  /api/qa/queue``                          the week's sample for the inspectors (qa, supervisor)
- ``GET  /api/qa/appeals``                        appeals waiting for a supervisor's decision
- ``GET  /api/qa/figures?weeks=8``                per agent / team / hall and week: reviewed, average
  score, calls with a fatal hit, appeals filed / upheld / rejected / pending; the fatal items' hits;
  the appeals in total (qa, supervisor)
- ``POST /api/calls/{call_id}/qa-reviews``        an inspector submits a review (a later one is a
  new revision and needs its `reason`)
- ``GET  /api/calls/{call_id}/qa-reviews``        its revisions and appeal (qa, supervisor, the call's agent)
- ``POST /api/calls/{call_id}/qa-appeal``         the call's agent appeals (申诉), once
- ``POST /api/qa-appeals/{appeal_id}/decision``   a supervisor decides: upheld / rejected
- ``GET  /api/agents/{agent_id}/qa-reviews``      an agent's results (the agent, the hall, inspectors)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from callcenter.accounts.api import Role, current_user
from callcenter.infra.web import HttpError, Provided, read_json, reply
from callcenter.quality.reviews import Refused, Reviews


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReviewBody(_Body):
    marks: dict[str, bool] = {}
    comment: str = Field("", max_length=2000)
    reason: str | None = Field(None, max_length=500)


class AppealBody(_Body):
    reason: str = Field(min_length=1, max_length=1000)


class DecisionBody(_Body):
    decision: Literal["upheld", "rejected"]
    note: str = Field("", max_length=1000)


def _call_id(request: web.Request) -> str:
    call_id = request.match_info["call_id"]
    if not call_id or len(call_id) > 128:
        raise HttpError(422, "invalid", "call id: 1 to 128 characters", {"call_id": "a call id"})
    return call_id


def _user(request: web.Request):
    user = current_user(request)
    if user is None:
        raise HttpError(401, "login_required", "log in first")
    return user


def routes(app: web.Application, service: Provided[Reviews]) -> None:
    async def run(coro):
        try:
            return await coro
        except Refused as exc:
            raise HttpError(exc.status, "refused", str(exc)) from None

    async def queue(_request: web.Request) -> web.Response:
        return reply({"calls": await service.get().queue(datetime.now(UTC))})

    async def submit(request: web.Request) -> web.Response:
        call_id, user = _call_id(request), _user(request)
        body = await read_json(request, ReviewBody)
        doc = await run(service.get().submit(call_id, user.actor, body.marks, body.comment, body.reason))
        return reply(doc, status=201)

    async def of_call(request: web.Request) -> web.Response:
        call_id, user = _call_id(request), _user(request)
        svc = service.get()
        if user.role is Role.AGENT and await svc.agent_of(svc.pool, call_id) != user.agent_id:
            raise HttpError(403, "forbidden", "an agent sees the reviews of their own calls only")
        return reply(await svc.of_call(call_id))

    async def appeal(request: web.Request) -> web.Response:
        call_id, user = _call_id(request), _user(request)
        body = await read_json(request, AppealBody)
        return reply(await run(service.get().appeal(call_id, user.agent_id or "", body.reason)), status=201)

    async def decide(request: web.Request) -> web.Response:
        raw = request.match_info["appeal_id"]
        if not re.fullmatch(r"[0-9]{1,18}", raw):  # not str.isdigit: "²" is a digit to it
            raise HttpError(422, "invalid", "appeal id: a number", {"appeal_id": "a number"})
        body = await read_json(request, DecisionBody)
        return reply(await run(service.get().decide(int(raw), _user(request).actor, body.decision, body.note)))

    async def of_agent(request: web.Request) -> web.Response:
        return reply({"agent_id": request.match_info["agent_id"],
                      "reviews": await service.get().of_agent(request.match_info["agent_id"])})

    async def figures(request: web.Request) -> web.Response:
        raw = request.query.get("weeks", "8")
        if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= 104:
            raise HttpError(422, "invalid", "weeks: 1 to 104", {"weeks": "1 to 104"})
        since = datetime.now(UTC) - timedelta(weeks=int(raw))
        figs = await service.get().figures(since)
        return reply({"figures": figs["agents"], **figs})

    async def appeals(_request: web.Request) -> web.Response:
        return reply({"appeals": await service.get().open_appeals()})

    app.router.add_get("/api/qa/queue", queue)
    app.router.add_get("/api/qa/appeals", appeals)
    app.router.add_get("/api/qa/figures", figures)
    app.router.add_post("/api/calls/{call_id}/qa-reviews", submit)
    app.router.add_get("/api/calls/{call_id}/qa-reviews", of_call)
    app.router.add_post("/api/calls/{call_id}/qa-appeal", appeal)
    app.router.add_post("/api/qa-appeals/{appeal_id}/decision", decide)
    app.router.add_get("/api/agents/{agent_id}/qa-reviews", of_agent)
