"""The tickets REST API: every endpoint, listed in :meth:`TicketRoutes.endpoints`, and the
translation of the feature's errors into the API's one JSON error.

Handlers translate HTTP to the ticket service and back, nothing more; the service comes from
the plugin as a `Provided` (503 until it has started). The endpoint table's machinery and the
app's OpenAPI document (``/api/openapi.json``, served from here) are :mod:`callcenter.infra.web`.

The acting user is the logged-in user of the session (``agent:1001``, ``dept:market:zhang``,
``supervisor:li``, ``collector:c07``, ``admin:root``; see callcenter/accounts). Errors are JSON
``{"error", "message", "fields"}`` (:func:`callcenter.infra.web.json_error`): 400 bad
JSON/cursor, 401 not logged in, 403 role, 404 unknown (or another department's ticket), 409
illegal transition or concurrent change, 422 invalid input.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from aiohttp import web

from callcenter.accounts.api import actor_of, with_roles
from callcenter.calls.api import live_calls_of
from callcenter.infra.web import (
    Endpoint,
    HttpError,
    Provided,
    add_endpoints,
    json_error,
    page,
    query,
    read_json,
    reply,
    serve_openapi,
)
from callcenter.infra.words import search_words
from callcenter.tickets import responses as out
from callcenter.tickets import schemas as s
from callcenter.tickets.actors import Actor, Role, check_view
from callcenter.tickets.errors import (
    BadCursor,
    ConcurrentUpdate,
    FieldError,
    IdempotencyConflict,
    TicketError,
    status_of,
)
from callcenter.tickets.lists import SearchFilter
from callcenter.tickets.model import Action
from callcenter.tickets.service import Created, TicketService, utcnow

T, DEPARTMENTS, FIELD, HALL_DESK = "tickets", "departments", "field-reports", "hall"
INFO = {"title": "Panzhihua 12345 tickets (工单) API", "version": "1.0.0",
        "description": "Tickets, department queues, field reports (城管通) and topics. Times are "
                       "ISO-8601 (UTC); lists are paged with `limit` and `next_cursor`."}
#: POST /api/tickets and /api/field-reports: (header, description, min length, max length)
IDEMPOTENCY = (("Idempotency-Key", "a retried request with the same key returns the same ticket", 8, 128),)

#: POST /api/tickets/{number}/<name>: (action, body model, summary)
ACTIONS: dict[str, tuple[Action, type[s.ActionBody], str]] = {
    "dispatch": (Action.DISPATCH, s.DispatchBody, "派单: dispatch to a lead department"),
    "redispatch": (Action.REDISPATCH, s.DispatchBody, "改派: re-dispatch a returned ticket"),
    "acknowledge": (Action.ACKNOWLEDGE, s.ActionBody, "签收: the lead department takes the ticket"),
    "start": (Action.START, s.ActionBody, "办理: the department starts working"),
    "reply": (Action.RESOLVE, s.ReplyBody, "办结: the department replies; the ticket is resolved"),
    "resolve": (Action.RESOLVE, s.ReplyBody, "办结 (same as reply)"),
    "return": (Action.RETURN, s.ReasonBody, "退单: back to the hall (wrong department)"),
    "object": (Action.OBJECT, s.ObjectBody, "派单异议: objection to the dispatch"),
    "extension-request": (Action.REQUEST_EXTENSION, s.ExtensionRequestBody, "延期: ask for more working days"),
    "extension-approve": (Action.APPROVE_EXTENSION, s.ExtensionApproveBody, "approve an extension"),
    "extension-deny": (Action.DENY_EXTENSION, s.ActionBody, "deny an extension"),
    "escalate": (Action.ESCALATE, s.ActionBody, "督办: escalate"),
    "survey": (Action.SURVEY, s.SurveyBody, "回访: record the satisfaction rating (bad -> 重办)"),
    "reopen": (Action.REOPEN, s.ReasonBody, "重办: reopen a surveyed or closed ticket"),
    "close": (Action.CLOSE, s.ActionBody, "归档: close (reason needed when not surveyed)"),
    "merge": (Action.MERGE, s.MergeBody, "并单: merge into another open ticket"),
    "answer": (Action.ANSWER_ON_SPOT, s.ReplyBody, "answered on the spot by the hall"),
}


# --------------------------------------------------------------------------- errors

_FIELD_HINTS = [(re.compile(r"data '(\w+)'"), None), (re.compile(r"reason is required"), "reason"),
                (re.compile(r"maximum extension|days"), "days"), (re.compile(r"rating"), "rating"),
                (re.compile(r"merged into itself"), "into")]


def _field_of(message: str) -> dict[str, str]:
    for pattern, field in _FIELD_HINTS:
        if m := pattern.search(message):
            return {field or m.group(1): message}
    return {}


def error_response(exc: Exception) -> web.Response:
    """The feature's exception as the API's JSON error (most specific first); re-raise others
    (HTTP and validation errors are :mod:`callcenter.infra.web`'s)."""
    match exc:
        case BadCursor():
            return json_error(400, "bad_cursor", str(exc), {"cursor": str(exc)})
        case ConcurrentUpdate() | asyncpg.DeadlockDetectedError() | asyncpg.SerializationError():
            return json_error(409, "conflict", str(exc))
        case TicketError():
            status, code = status_of(exc)
            fields = ({exc.field: str(exc)} if isinstance(exc, FieldError)
                      else {"idempotency_key": str(exc)} if isinstance(exc, IdempotencyConflict)
                      else _field_of(str(exc)) if code == "rejected" else {})
            return json_error(status, code, str(exc), fields)
    raise exc


def actor(request: web.Request) -> Actor:
    """The logged-in user (the accounts guard authenticated the session); no header decides it."""
    try:
        return Actor.parse(actor_of(request))
    except TicketError:
        raise HttpError(401, "login_required", "log in first") from None


def _created(result: Created, viewer: Actor) -> web.Response:
    routing = result.routing.doc() if result.routing else result.stored["routing"]
    doc = out.CreatedOut.of(result.stored, viewer, created=result.created, routing=routing).doc()
    return reply(doc, 201 if result.created else 200)


async def seen_by(svc: TicketService, who: Actor) -> Actor:
    """The viewer a document is rendered for: an agent with the call they are on (the full number)."""
    return who.on_calls(await live_calls_of(svc.pool, who.ident)) if who.role is Role.AGENT else who


def _idempotency(request: web.Request) -> dict[str, Any]:
    key = request.headers.get("Idempotency-Key")
    return {"idempotency_key": key} if key else {}


def _tickets(items: list[Any], next_cursor: str | None, viewer: Actor) -> web.Response:
    return reply(page([out.TicketOut.of(x, viewer).doc() for x in items], next_cursor))


class TicketRoutes:
    def __init__(self, tickets: Provided[TicketService]) -> None:
        self.tickets = tickets

    def add(self, app: web.Application) -> None:
        """Add the endpoints and the app's OpenAPI document (+ every other route, with its roles)."""
        add_endpoints(app, self.endpoints(), error_response)
        serve_openapi(app, INFO, with_roles)

    def endpoints(self) -> list[Endpoint]:
        e = Endpoint
        return [
            e("POST", "/api/tickets", self.create_ticket, "Create a ticket; routed, deadlines set, "
              "duplicates merged", T, body=s.TicketCreate, response=out.CreatedOut, status=201, headers=IDEMPOTENCY),
            e("GET", "/api/tickets", self.search_tickets, "Search by number, phone, text, status, department, "
              "date, ...", T, query=s.SearchQuery, response=out.TicketPage),
            e("GET", "/api/tickets/stats", self.stats, "Board figures: open tickets by status and department, "
              "overdue", T, response=out.BoardStats),
            e("GET", "/api/tickets/{number}", self.get_ticket, "One ticket with attachments", T,
              response=out.TicketDetail),
            e("PATCH", "/api/tickets/{number}", self.update_ticket, "Correct a ticket still in the hall", T, body=s.TicketUpdate, response=out.TicketOut),
            e("GET", "/api/tickets/{number}/events", self.ticket_events, "Audit trail of a ticket, oldest first",
              T, query=s.PageQuery, response=out.EventPage),
            *(e("POST", f"/api/tickets/{{number}}/{name}", self._action(action, model), summary, T, body=model,
                response=out.TicketOut) for name, (action, model, summary) in ACTIONS.items()),
            e("GET", "/api/departments/{code}/queue", self.department_queue, "A department's open tickets, "
              "earliest deadline first", DEPARTMENTS, query=s.QueueQuery, response=out.TicketPage),
            e("GET", "/api/hall/queue", self.hall_queue, "派单台: tickets waiting for the hall's dispatcher "
              "(uncertain routing, 退单, 派单异议), nearest deadline first, with their candidates", HALL_DESK,
              query=s.HallQuery, response=out.HallQueueOut),
            e("POST", "/api/field-reports", self.file_field_report, "城管通: a collector reports a problem "
              "(event/component, location, photo)", FIELD, body=s.FieldReportCreate, response=out.CreatedOut,
              status=201, headers=IDEMPOTENCY),
            e("GET", "/api/field-reports", self.unverified_reports, "Field reports waiting for verification (立案)",
              FIELD, query=s.PageQuery, response=out.TicketPage),
            e("POST", "/api/field-reports/{number}/verify", self.verify_report, "立案: verify a report, then "
              "dispatch it", FIELD, body=s.VerifyBody, response=out.TicketOut),
        ]

    # ------------------------------------------------------------------ tickets

    async def create_ticket(self, request: web.Request) -> web.Response:
        who = actor(request)
        data = await read_json(request, s.TicketCreate, extra=_idempotency(request))
        svc = self.tickets.get()
        return _created(await svc.create(str(who), data), await seen_by(svc, who))

    async def search_tickets(self, request: web.Request) -> web.Response:
        who, svc = actor(request), self.tickets.get()
        q = query(request, s.SearchQuery)
        if who.role is Role.DEPT:  # a department searches its own tickets
            q.department = who.ident
        number = svc.config.normalise_number(q.number) if q.number else None
        if q.number and number is None:
            raise HttpError(422, "invalid", "malformed ticket number", {"number": "e.g. PZH-20261127-000123"})
        f = SearchFilter(
            number=number, phone=q.phone, tokens=search_words(q.q) if q.q else [],
            statuses=[x.value for x in q.status], department=q.department, kind=q.kind and q.kind.value,
            channel=q.channel and q.channel.value, category=q.category, district=q.district and q.district.value,
            topic=q.topic, created_from=q.created_from, created_to=q.created_to,
            overdue_at=utcnow() if q.overdue else None, escalated=q.escalated)
        if q.q and not f.tokens:
            raise HttpError(422, "invalid", "no searchable words in q", {"q": "no searchable words"})
        result = await svc.search(f, limit=q.limit, cursor=q.cursor, sort=q.sort)
        return _tickets(result.items, result.next_cursor, await seen_by(self.tickets.get(), who))

    async def stats(self, request: web.Request) -> web.Response:
        return reply(await self.tickets.get().board())

    async def get_ticket(self, request: web.Request) -> web.Response:
        who, svc = actor(request), self.tickets.get()
        st = await svc.get(request.match_info["number"])
        check_view(who, st.ticket.lead_department, st.ticket.assisting_departments, st["created_by"])
        files = await svc.attachments(st.ticket.number)
        return reply(out.TicketDetail.of(st, await seen_by(svc, who), attachments=files, routing=st["routing"]).doc())

    async def update_ticket(self, request: web.Request) -> web.Response:
        who = actor(request)
        patch = await read_json(request, s.TicketUpdate)
        st = await self.tickets.get().update(request.match_info["number"], patch, actor=str(who))
        return reply(out.TicketOut.of(st, await seen_by(self.tickets.get(), who)).doc())

    async def ticket_events(self, request: web.Request) -> web.Response:
        who, svc = actor(request), self.tickets.get()
        q = query(request, s.PageQuery)
        st = await svc.get(request.match_info["number"])
        check_view(who, st.ticket.lead_department, st.ticket.assisting_departments, st["created_by"])
        items, nxt = await svc.events(st.ticket.number, limit=q.limit, cursor=q.cursor)
        return reply(page([out.EventOut.model_validate(e).doc() for e in items], nxt))

    def _action(self, action: Action, model: type[s.ActionBody]) -> Any:
        async def handle(request: web.Request) -> web.Response:
            who = actor(request)
            data = await read_json(request, model, optional=True)
            if who.role is Role.DEPT:  # another department's ticket is a 404, as when reading it
                seen = await self.tickets.get().get(request.match_info["number"])
                check_view(who, seen.ticket.lead_department, seen.ticket.assisting_departments, seen["created_by"])
            st = await self.tickets.get().act(request.match_info["number"], action, actor=str(who),
                                              reason=data.reason, version=data.version, **data.data())
            return reply(out.TicketOut.of(st, await seen_by(self.tickets.get(), who)).doc())

        return handle

    # ------------------------------------------------------------------ departments

    async def department_queue(self, request: web.Request) -> web.Response:
        who = actor(request)
        q = query(request, s.QueueQuery)
        result = await self.tickets.get().queue(request.match_info["code"], actor=str(who), role=q.role,
                                                statuses=[x.value for x in q.status], limit=q.limit,
                                                cursor=q.cursor)
        return _tickets(result.items, result.next_cursor, await seen_by(self.tickets.get(), who))

    async def hall_queue(self, request: web.Request) -> web.Response:
        who, now = actor(request), utcnow()
        q = query(request, s.HallQuery)
        items, total = await self.tickets.get().hall_queue(actor=str(who), limit=q.limit)
        return reply({"items": [out.HallTicketOut.of(st, e, now).doc() for st, e in items], "total": total,
                      "at": now.isoformat()})

    # ------------------------------------------------------------------ field reports (城管通)

    async def file_field_report(self, request: web.Request) -> web.Response:
        who = actor(request)
        data = await read_json(request, s.FieldReportCreate, extra=_idempotency(request))
        svc = self.tickets.get()
        return _created(await svc.create(str(who), data), await seen_by(svc, who))

    async def unverified_reports(self, request: web.Request) -> web.Response:
        who = actor(request)
        q = query(request, s.PageQuery)
        result = await self.tickets.get().unverified_field_reports(limit=q.limit, cursor=q.cursor)
        return _tickets(result.items, result.next_cursor, await seen_by(self.tickets.get(), who))

    async def verify_report(self, request: web.Request) -> web.Response:
        who = actor(request)
        data = await read_json(request, s.VerifyBody, optional=True)
        st = await self.tickets.get().verify_field_report(request.match_info["number"], actor=str(who),
                                                          lead=data.lead, assisting=data.assisting,
                                                          version=data.version)
        return reply(out.TicketOut.of(st, await seen_by(self.tickets.get(), who)).doc())
