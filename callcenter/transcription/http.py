"""The transcription REST API: a call's stored transcript, the ticket-form prefill from it, the
transcriber's status. Who may read which call is `access.py`; the facts it needs come from the
call record, the agents' state history and the tickets filed from the call.

- ``GET /api/calls/{call_id}/transcript``      finals of both legs (agent of the call, hall,
  a department through its ticket)
- ``GET /api/calls/{call_id}/ticket-prefill``  the citizen's finals as the ticket description
  and the whole dialogue (the agent of the call, a supervisor)
- ``GET /api/transcription``                   the transcriber's figures (hall, admin)
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callcenter.accounts.api import Role, User, current_user
from callcenter.calls.api import bridged_to
from callcenter.infra.web import HttpError, Provided, reply
from callcenter.transcription.access import CallParties, prefill_refusal, refusal
from callcenter.transcription.publisher import segments, ticket_texts
from callcenter.transcription.service import TranscriptionService

DESCRIPTION_MAX = 4000  # the ticket's description field (tickets/schemas.py)


async def call_parties(pool: Any, call_id: str, user: User) -> CallParties:
    """The facts about ``call_id`` that decide whether ``user`` reads it, queried for that user
    only (each an index lookup): was the call bridged to this agent (the call record names the
    last agent; an earlier agent of a requeued call has its 'answer <call>' state change), does
    a ticket of the call belong to this department."""
    if user.role is Role.AGENT and user.agent_id:
        mine = call_id in await bridged_to(pool, user.agent_id, [call_id])
        return CallParties(agents=frozenset({user.agent_id}) if mine else frozenset())
    if user.role is Role.DEPT and user.department:
        ours = await pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM tickets WHERE call_ids @> ARRAY[$1::text]"
            " AND (lead_department = $2 OR $2 = ANY(assisting_departments)))", call_id, user.department)
        return CallParties(departments=frozenset({user.department}) if ours else frozenset())
    return CallParties()


async def _allowed(request: web.Request, pool: Any, rule: Any) -> str:
    call_id = request.match_info["call_id"]
    if not call_id or len(call_id) > 128:
        raise HttpError(422, "invalid", "call id: 1 to 128 characters", {"call_id": "a call id"})
    user = current_user(request)
    if user is None:  # the guard lets nobody anonymous through; a direct mount must not either
        raise HttpError(401, "login_required", "log in first")
    why = rule(user, await call_parties(pool, call_id, user))
    if why is not None:
        raise HttpError(403, "forbidden", why)
    return call_id


def routes(app: web.Application, service: Provided[TranscriptionService]) -> None:
    async def transcript(request: web.Request) -> web.Response:
        svc = service.get()
        call_id = await _allowed(request, svc.pool, refusal)
        return reply({"call_id": call_id, "available": svc.available,
                      "segments": await segments(svc.pool, call_id)})

    async def prefill(request: web.Request) -> web.Response:
        svc = service.get()
        call_id = await _allowed(request, svc.pool, prefill_refusal)
        description, dialogue = await ticket_texts(svc.pool, call_id)
        return reply({"call_id": call_id, "description": description[:DESCRIPTION_MAX],
                      "transcript": dialogue, "available": svc.available})

    async def status(_request: web.Request) -> web.Response:
        return reply(service.get().stats())

    app.router.add_get("/api/calls/{call_id}/transcript", transcript)
    app.router.add_get("/api/calls/{call_id}/ticket-prefill", prefill)
    app.router.add_get("/api/transcription", status)
