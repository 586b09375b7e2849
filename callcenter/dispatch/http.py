"""REST API of the dispatch feature: proposals for the dispatcher, the hall's decisions as
training examples, model versions (retrain, roll back) and mass incidents."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from callcenter.accounts.api import actor_of
from callcenter.dispatch.model import KINDS
from callcenter.dispatch.service import DispatchError, DispatchService
from callcenter.infra.bounds import INT32_MAX, path_id
from callcenter.infra.web import HttpError, Provided, read_json, reply


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProposeBody(_Body):
    text: str = Field(min_length=1, max_length=20000)
    kind: str | None = Field(default=None, pattern="^(" + "|".join(KINDS) + ")$")
    district: str | None = None


class ExampleBody(ProposeBody):
    department: str
    source: str = "human_dispatch"
    ticket_number: str | None = None
    actor: str = "api"


class RetrainBody(_Body):
    actor: str = "api"


class AnnounceBody(_Body):
    on: bool = True
    text: str | None = Field(default=None, min_length=1, max_length=200)


class LinkBody(_Body):
    ref: str = Field(min_length=1)
    via: str = Field(default="agent", pattern="^(agent|ivr)$")


def routes(app: web.Application, service: Provided[DispatchService]) -> None:
    async def propose(request: web.Request) -> web.Response:
        body = await read_json(request, ProposeBody)
        svc = service.get()
        return reply({"model_version": svc.version, **svc.propose(body.text, body.kind, body.district).doc()})

    async def add_example(request: web.Request) -> web.Response:
        body = await read_json(request, ExampleBody)
        try:
            await service.get().record_decision(text=body.text, department=body.department, source=body.source,
                                                actor=actor_of(request) or body.actor, kind=body.kind,
                                                district=body.district,
                                                ticket_number=body.ticket_number)
        except DispatchError as exc:
            raise HttpError(422, "invalid", str(exc)) from None
        return reply({"recorded": True}, status=201)

    async def models(request: web.Request) -> web.Response:
        svc = service.get()
        return reply({"active": svc.version, "training": svc.training_job,
                      "versions": [v.doc() for v in await svc.versions()]})

    async def retrain(request: web.Request) -> web.Response:
        body = await read_json(request, RetrainBody, optional=True)
        job, started = service.get().start_retrain(actor_of(request) or body.actor)
        return reply({"training": job, "started": started}, status=202)  # GET .../models follows it

    async def activate(request: web.Request) -> web.Response:
        try:
            ver = await service.get().activate(path_id(request, "version", INT32_MAX))
        except (DispatchError, ValueError) as exc:
            raise HttpError(404, "not_found", str(exc)) from None
        return reply(ver.doc())

    async def incidents(request: web.Request) -> web.Response:
        rows = await service.get().incidents(open_only=request.query.get("all") != "1")
        return reply({"incidents": rows})

    async def link(request: web.Request) -> web.Response:
        body = await read_json(request, LinkBody)
        try:
            await service.get().confirm_link(path_id(request, "id"), body.ref, body.via)
        except DispatchError as exc:
            raise HttpError(404, "not_found", str(exc)) from None
        return reply({"linked": True})

    async def announce(request: web.Request) -> web.Response:
        body = await read_json(request, AnnounceBody)
        try:
            doc = await service.get().announce(path_id(request, "id"), on=body.on, text=body.text)
        except DispatchError as exc:
            raise HttpError(422 if "announcement" in str(exc) else 404,
                            "invalid" if "announcement" in str(exc) else "not_found", str(exc)) from None
        return reply(doc)

    async def proposal(request: web.Request) -> web.Response:
        return reply({"incident": await service.get().proposal(request.match_info["number"])})

    app.router.add_post("/api/dispatch/propose", propose)
    app.router.add_post("/api/dispatch/examples", add_example)
    app.router.add_get("/api/dispatch/models", models)
    app.router.add_post("/api/dispatch/models", retrain)
    app.router.add_post(r"/api/dispatch/models/{version:\d+}/activate", activate)
    app.router.add_get("/api/dispatch/incidents", incidents)
    app.router.add_post(r"/api/dispatch/incidents/{id:\d+}/links", link)
    app.router.add_post(r"/api/dispatch/incidents/{id:\d+}/announce", announce)
    app.router.add_get("/api/dispatch/incidents/for/{number}", proposal)
