"""REST for agents and queues: login/logout/pause from the agent desktop or a supervisor."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from callcenter.acd.agents import IllegalAgentTransition, NotOnShift
from callcenter.acd.repository import agent_doc
from callcenter.acd.service import AcdError, AcdService


class LoginBody(BaseModel):
    seat: str = Field(pattern=r"^seat\d{2}$")
    interface: str | None = Field(default=None, pattern=r"^(PJSIP|Local)/[A-Za-z0-9_@/.-]+$")
    override_by: str | None = Field(default=None, min_length=1, max_length=64)


class PauseBody(BaseModel):
    reason: str = Field(min_length=1, max_length=32)


def error(status: int, code: str, message: str, fields: dict | None = None) -> web.Response:
    return web.json_response({"error": code, "message": message, "fields": fields or {}}, status=status)


async def _body(request: web.Request, model: type[BaseModel]):
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text='{"error":"bad_json","message":"body is not JSON"}',
                                 content_type="application/json") from None
    return model.model_validate(data)


def _svc(request: web.Request) -> AcdService:
    from callcenter.app import CONTEXT

    ctx = request.app.get(CONTEXT)
    svc = ctx.services.get("acd") if ctx is not None else None
    if svc is None:
        raise web.HTTPServiceUnavailable(text='{"error":"starting"}', content_type="application/json")
    return svc


async def _guarded(fn):
    try:
        return await fn()
    except ValidationError as exc:
        fields = {".".join(str(p) for p in e["loc"]): e["msg"] for e in exc.errors()}
        return error(422, "invalid", "request body is invalid", fields)
    except NotOnShift as exc:
        return error(409, "not_on_shift", f"{exc}; a supervisor may log in with override_by")
    except IllegalAgentTransition as exc:
        return error(409, "illegal_transition", str(exc))
    except AcdError as exc:
        return error(exc.status, "refused", str(exc))
    except ValueError as exc:
        return error(400, "bad_request", str(exc))


def _agent_json(svc: AcdService, agent_id: str) -> web.Response:
    slot = svc.slot(agent_id)
    return web.json_response(agent_doc(slot.agent, slot.interface))


async def login(request: web.Request) -> web.Response:
    svc, agent_id = _svc(request), request.match_info["agent_id"]

    async def go():
        body = await _body(request, LoginBody)
        await svc.login(agent_id, body.seat, interface=body.interface, override_by=body.override_by)
        return _agent_json(svc, agent_id)

    return await _guarded(go)


def _simple(action: str):
    async def handler(request: web.Request) -> web.Response:
        svc, agent_id = _svc(request), request.match_info["agent_id"]

        async def go():
            if action == "pause":
                body = await _body(request, PauseBody)
                await svc.pause(agent_id, body.reason)
            else:
                await getattr(svc, action)(agent_id)
            return _agent_json(svc, agent_id)

        return await _guarded(go)

    return handler


async def list_agents(request: web.Request) -> web.Response:
    svc = _svc(request)
    return web.json_response([agent_doc(s.agent, s.interface) for s in svc.slots.values()])


async def list_queues(request: web.Request) -> web.Response:
    svc = _svc(request)
    out: dict[str, list] = {q.name: [] for q in svc.roster.queues}
    for qc in svc.book.ordered_all():
        out.setdefault(qc.queue, []).append({
            "call_id": qc.call_id, "position": svc.book.position_of(qc.call_id), "priority": qc.priority,
            "entered_at": qc.entered_at.isoformat(), "callback": qc.callback})
    active = [{"call_id": s.call_id, "state": s.state, "agent_id": s.agent_id, "queue": s.queue}
              for s in svc.calls.values() if s.state not in ("queued", "callback_wait")]
    return web.json_response({"queues": out, "active": active})


def routes(app: web.Application) -> None:
    app.router.add_get("/api/agents", list_agents)
    app.router.add_post("/api/agents/{agent_id}/login", login)
    for action in ("logout", "pause", "unpause"):
        app.router.add_post(f"/api/agents/{{agent_id}}/{action}", _simple(action))
    app.router.add_get("/api/queues", list_queues)
