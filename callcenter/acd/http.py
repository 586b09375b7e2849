"""REST for agents and queues: login/logout/pause from the agent desktop or a supervisor."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callcenter.accounts.api import USER, off_shift_approver
from callcenter.acd.agents import IllegalAgentTransition, NotOnShift
from callcenter.acd.calls import WAITING
from callcenter.acd.repository import agent_doc
from callcenter.acd.service import AcdError, AcdService
from callcenter.context import SETTINGS
from callcenter.infra.ari import AriError
from callcenter.infra.web import HttpError, Provided, json_error, read_json, validation_fields
from callcenter.infra.webrtc_conf import web_endpoint


class LoginBody(BaseModel):
    """Only the seat: the phone dialled comes from the roster (settings.seat_interface), and an
    off-shift sign-in is approved by the logged-in supervisor making it, never self-claimed."""

    model_config = ConfigDict(extra="forbid")
    seat: str = Field(pattern=r"^seat\d{2}$")


class PauseBody(BaseModel):
    reason: str = Field(min_length=1, max_length=32)


async def _guarded(fn):
    try:
        return await fn()
    except HttpError as exc:
        return exc.response()
    except ValidationError as exc:
        return json_error(422, "invalid", "request body is invalid", validation_fields(exc))
    except IllegalAgentTransition as exc:
        return json_error(409, "illegal_transition", str(exc))
    except AcdError as exc:
        return json_error(exc.status, "refused", str(exc))
    except ValueError as exc:
        return json_error(400, "bad_request", str(exc))


def _agent_json(svc: AcdService, agent_id: str) -> web.Response:
    slot = svc.slot(agent_id)
    return web.json_response(agent_doc(slot.agent, slot.interface))


class AcdRoutes:
    def __init__(self, acd: Provided[AcdService]) -> None:
        self.acd = acd

    async def login(self, request: web.Request) -> web.Response:
        agent_id = request.match_info["agent_id"]

        async def go():
            svc = self.acd.get()
            body = await read_json(request, LoginBody)
            try:
                await svc.login(agent_id, body.seat, override_by=off_shift_approver(request[USER]),
                                interface=request.app[SETTINGS].seat_interface.format(seat=body.seat))
            except NotOnShift as exc:  # the desk says it in Chinese from these keys, at Beijing time
                return json_error(409, "not_on_shift", f"{exc}; a supervisor must sign the agent in",
                                  agent_id=exc.agent_id, team=exc.team, at=exc.at.isoformat(),
                                  on_shift_teams=sorted(svc.roster.on_shift_teams(exc.at)))
            return _agent_json(svc, agent_id)

        return await _guarded(go)

    def simple(self, action: str):
        async def handler(request: web.Request) -> web.Response:
            agent_id = request.match_info["agent_id"]

            async def go():
                svc = self.acd.get()
                if action == "pause":
                    body = await read_json(request, PauseBody)
                    await svc.pause(agent_id, body.reason)
                else:
                    await getattr(svc, action)(agent_id)
                return _agent_json(svc, agent_id)

            return await _guarded(go)

        return handler

    async def list_agents(self, request: web.Request) -> web.Response:
        async def go():
            svc = self.acd.get()
            return web.json_response([agent_doc(s.agent, s.interface) for s in svc.slots.values()])

        return await _guarded(go)

    async def list_seats(self, request: web.Request) -> web.Response:
        """The roster's seats, whether their softphone is registered, and who sits there."""
        async def go():
            svc = self.acd.get()
            try:
                online = {e["resource"] for e in await svc.ari.get("/endpoints/PJSIP") if e.get("state") == "online"}
            except AriError:
                online = set()
            taken = {s.agent.seat_id: s.agent.agent_id for s in svc.slots.values() if s.agent.logged_in}
            return web.json_response([{"seat_id": seat.id, "team": seat.team,
                                       "registered": seat.id in online or web_endpoint(seat.id) in online,
                                       "agent_id": taken.get(seat.id)} for seat in svc.roster.seats])

        return await _guarded(go)

    async def list_queues(self, request: web.Request) -> web.Response:
        async def go():
            svc = self.acd.get()
            out: dict[str, list] = {q.name: [] for q in svc.roster.queues}
            for qc in svc.book.ordered_all():
                out.setdefault(qc.queue, []).append({
                    "call_id": qc.call_id, "position": svc.book.position_of(qc.call_id),
                    "priority": qc.priority, "entered_at": qc.entered_at.isoformat(), "callback": qc.callback})
            active = [{"call_id": s.call_id, "state": s.state, "agent_id": s.agent_id, "queue": s.queue}
                      for s in svc.calls.values() if s.state not in WAITING]
            return web.json_response({"queues": out, "active": active})

        return await _guarded(go)


def routes(app: web.Application, acd: Provided[AcdService]) -> None:
    r = AcdRoutes(acd)
    app.router.add_get("/api/agents", r.list_agents)
    app.router.add_post("/api/agents/{agent_id}/login", r.login)
    for action in ("logout", "pause", "unpause"):
        app.router.add_post(f"/api/agents/{{agent_id}}/{action}", r.simple(action))
    app.router.add_get("/api/queues", r.list_queues)
    app.router.add_get("/api/seats", r.list_seats)
