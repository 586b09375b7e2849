"""The transcription REST API: a call's stored transcript, the ticket-form prefill from it, the
transcriber's status. Who may read which call is `access.py`; the facts it needs come from the
call record and the tickets of the call (calls' api `call_parties`, the same lookup as the
recordings').

- ``GET /api/calls/{call_id}/transcript``      finals of both legs (agent of the call, hall,
  a department through its ticket)
- ``GET /api/calls/{call_id}/ticket-prefill``  the citizen's finals as the ticket description
  and the whole dialogue (the agent of the call, a supervisor)
- ``GET /api/transcription``                   the transcriber's figures (hall, admin)
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callcenter.accounts.api import current_user
from callcenter.calls.api import CallTickets, call_parties
from callcenter.infra.web import HttpError, Provided, reply
from callcenter.transcription.access import prefill_refusal, refusal
from callcenter.transcription.publisher import segments, ticket_texts
from callcenter.transcription.service import TranscriptionService

DESCRIPTION_MAX = 4000  # the ticket's description field (tickets/schemas.py)


async def _allowed(request: web.Request, pool: Any, tickets: CallTickets, rule: Any) -> str:
    call_id = request.match_info["call_id"]
    if not call_id or len(call_id) > 128:
        raise HttpError(422, "invalid", "call id: 1 to 128 characters", {"call_id": "a call id"})
    user = current_user(request)
    if user is None:  # the guard lets nobody anonymous through; a direct mount must not either
        raise HttpError(401, "login_required", "log in first")
    why = rule(user, await call_parties(pool, call_id, user, tickets))
    if why is not None:
        raise HttpError(403, "forbidden", why)
    return call_id


def routes(app: web.Application, service: Provided[TranscriptionService], tickets: CallTickets) -> None:
    async def transcript(request: web.Request) -> web.Response:
        svc = service.get()
        call_id = await _allowed(request, svc.pool, tickets, refusal)
        return reply({"call_id": call_id, "available": svc.available,
                      "segments": await segments(svc.pool, call_id)})

    async def prefill(request: web.Request) -> web.Response:
        svc = service.get()
        call_id = await _allowed(request, svc.pool, tickets, prefill_refusal)
        description, dialogue = await ticket_texts(svc.pool, call_id)
        return reply({"call_id": call_id, "description": description[:DESCRIPTION_MAX],
                      "transcript": dialogue, "available": svc.available})

    async def status(_request: web.Request) -> web.Response:
        return reply(service.get().stats())

    app.router.add_get("/api/calls/{call_id}/transcript", transcript)
    app.router.add_get("/api/calls/{call_id}/ticket-prefill", prefill)
    app.router.add_get("/api/transcription", status)
