"""The tickets API handlers (registered in :data:`callcenter.tickets.http.ENDPOINTS`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callcenter.tickets import responses as out
from callcenter.tickets import schemas as s
from callcenter.tickets.actors import Role, check_roles, check_view
from callcenter.tickets.catalog import topic_doc
from callcenter.tickets.core import routing_doc, utcnow
from callcenter.tickets.http import HttpError, actor, body, endpoint, page, query, reply, service
from callcenter.tickets.model import Action
from callcenter.tickets.queries import SearchFilter
from callcenter.tickets.views import event_doc, ticket_doc

T = "tickets"


def _created(request: web.Request, result: Any, viewer: Any) -> web.Response:
    doc = ticket_doc(result.stored, viewer) | {"created": result.created}
    doc["routing"] = routing_doc(result.routing) if result.routing else result.stored["routing"]
    return reply(doc, 201 if result.created else 200)


def _idempotency(request: web.Request) -> dict[str, Any]:
    key = request.headers.get("Idempotency-Key")
    return {"idempotency_key": key} if key else {}


@endpoint("POST", "/api/tickets", "Create a ticket (agent); routed, deadlines set, duplicates merged", T,
          body=s.TicketCreate, response=out.CreatedOut, status=201)
async def create_ticket(request: web.Request) -> web.Response:
    who = actor(request)
    data = await body(request, s.TicketCreate, extra=_idempotency(request))
    return _created(request, await service(request).create(str(who), data), who)


@endpoint("GET", "/api/tickets", "Search by number, phone, text, status, department, date, ...", T,
          query=s.SearchQuery, response=out.TicketPage)
async def search_tickets(request: web.Request) -> web.Response:
    who, svc = actor(request), service(request)
    check_roles(who, "searching tickets", Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.DEPT)
    q = query(request, s.SearchQuery)
    if who.role is Role.DEPT:  # a department searches its own tickets
        q.department = who.ident
    number = svc.normalise_number(q.number) if q.number else None
    if q.number and number is None:
        raise HttpError(422, "invalid", "malformed ticket number", {"number": "e.g. PZH-20261127-000123"})
    f = SearchFilter(
        number=number, phone=q.phone, tokens=svc.tokens_of_text(q.q) if q.q else [],
        statuses=[x.value for x in q.status], department=q.department, kind=q.kind and q.kind.value,
        channel=q.channel and q.channel.value, category=q.category, district=q.district and q.district.value,
        topic=q.topic, created_from=q.created_from, created_to=q.created_to,
        overdue_at=utcnow() if q.overdue else None, escalated=q.escalated)
    if q.q and not f.tokens:
        raise HttpError(422, "invalid", "no searchable words in q", {"q": "no searchable words"})
    result = await svc.search(f, limit=q.limit, cursor=q.cursor, sort=q.sort)
    return reply(page([ticket_doc(x, who) for x in result.items], result.next_cursor))


@endpoint("GET", "/api/tickets/stats", "Board figures: open tickets by status and department, overdue", T,
          response=out.BoardStats)
async def stats(request: web.Request) -> web.Response:
    check_roles(actor(request), "board figures", Role.SUPERVISOR, Role.AGENT, Role.ADMIN)
    return reply(await service(request).board())


@endpoint("GET", "/api/tickets/{number}", "One ticket with attachments", T, response=out.TicketDetail)
async def get_ticket(request: web.Request) -> web.Response:
    who, svc = actor(request), service(request)
    st = await svc.get(request.match_info["number"])
    check_view(who, st.ticket.lead_department, st.ticket.assisting_departments, st["created_by"])
    files = [a | {"created_at": a["created_at"].isoformat()} for a in await svc.attachments(st.ticket.number)]
    return reply(ticket_doc(st, who) | {"attachments": files, "routing": st["routing"]})


@endpoint("PATCH", "/api/tickets/{number}", "Correct a ticket still in the hall (agent, supervisor)", T,
          body=s.TicketUpdate, response=out.TicketOut)
async def update_ticket(request: web.Request) -> web.Response:
    who = actor(request)
    patch = await body(request, s.TicketUpdate)
    st = await service(request).update(request.match_info["number"], patch, actor=str(who))
    return reply(ticket_doc(st, who))


@endpoint("GET", "/api/tickets/{number}/events", "Audit trail of a ticket, oldest first", T,
          query=s.PageQuery, response=out.EventPage)
async def ticket_events(request: web.Request) -> web.Response:
    who, svc = actor(request), service(request)
    q = query(request, s.PageQuery)
    st = await svc.get(request.match_info["number"])
    check_view(who, st.ticket.lead_department, st.ticket.assisting_departments, st["created_by"])
    items, nxt = await svc.events(st.ticket.number, limit=q.limit, cursor=q.cursor)
    return reply(page([event_doc(e) for e in items], nxt))


#: POST /api/tickets/{number}/<name>: (action, body model, summary)
ACTIONS: dict[str, tuple[Action, type[s.ActionBody], str]] = {
    "dispatch": (Action.DISPATCH, s.DispatchBody, "派单: dispatch to a lead department (supervisor)"),
    "redispatch": (Action.REDISPATCH, s.DispatchBody, "改派: re-dispatch a returned ticket (supervisor)"),
    "acknowledge": (Action.ACKNOWLEDGE, s.ActionBody, "签收: the lead department takes the ticket"),
    "start": (Action.START, s.ActionBody, "办理: the department starts working"),
    "reply": (Action.RESOLVE, s.ReplyBody, "办结: the department replies; the ticket is resolved"),
    "resolve": (Action.RESOLVE, s.ReplyBody, "办结 (same as reply)"),
    "return": (Action.RETURN, s.ReasonBody, "退单: back to the hall (wrong department)"),
    "object": (Action.OBJECT, s.ObjectBody, "派单异议: objection to the dispatch"),
    "extension-request": (Action.REQUEST_EXTENSION, s.ExtensionRequestBody, "延期: ask for more working days"),
    "extension-approve": (Action.APPROVE_EXTENSION, s.ExtensionApproveBody, "approve an extension (supervisor)"),
    "extension-deny": (Action.DENY_EXTENSION, s.ActionBody, "deny an extension (supervisor)"),
    "escalate": (Action.ESCALATE, s.ActionBody, "督办: escalate (supervisor)"),
    "survey": (Action.SURVEY, s.SurveyBody, "回访: record the satisfaction rating (bad -> 重办)"),
    "reopen": (Action.REOPEN, s.ReasonBody, "重办: reopen a surveyed or closed ticket"),
    "close": (Action.CLOSE, s.ActionBody, "归档: close (reason needed when not surveyed)"),
    "merge": (Action.MERGE, s.MergeBody, "并单: merge into another open ticket"),
    "answer": (Action.ANSWER_ON_SPOT, s.ReplyBody, "answered on the spot by the hall"),
}


def _action_handler(name: str, action: Action, model: type[s.ActionBody], summary: str) -> None:
    async def handle(request: web.Request) -> web.Response:
        who = actor(request)
        data = await body(request, model, optional=True)
        if who.role is Role.DEPT:  # another department's ticket is a 404, as when reading it
            st = await service(request).get(request.match_info["number"])
            check_view(who, st.ticket.lead_department, st.ticket.assisting_departments, st["created_by"])
        st = await service(request).act(request.match_info["number"], action, actor=str(who), reason=data.reason,
                                         version=data.version, **data.data())
        return reply(ticket_doc(st, who))

    endpoint("POST", f"/api/tickets/{{number}}/{name}", summary, T, body=model, response=out.TicketOut)(handle)


for _name, (_action, _model, _summary) in ACTIONS.items():
    _action_handler(_name, _action, _model, _summary)


# --------------------------------------------------------------------------- departments

@endpoint("GET", "/api/departments", "Handling departments (承办单位) with open ticket counts", "departments",
          response=out.DepartmentPage)
async def departments(request: web.Request) -> web.Response:
    actor(request)
    return reply(page(await service(request).departments(), None))


@endpoint("GET", "/api/departments/{code}/queue", "A department's open tickets, earliest deadline first",
          "departments", query=s.QueueQuery, response=out.TicketPage)
async def department_queue(request: web.Request) -> web.Response:
    who = actor(request)
    q = query(request, s.QueueQuery)
    result = await service(request).queue(request.match_info["code"], actor=str(who), role=q.role,
                                          statuses=[x.value for x in q.status], limit=q.limit, cursor=q.cursor)
    return reply(page([ticket_doc(x, who) for x in result.items], result.next_cursor))


# --------------------------------------------------------------------------- field reports (城管通)

@endpoint("POST", "/api/field-reports", "城管通: a collector reports a problem (event/component, location, photo)",
          "field-reports", body=s.FieldReportCreate, response=out.CreatedOut, status=201)
async def file_field_report(request: web.Request) -> web.Response:
    who = actor(request)
    data = await body(request, s.FieldReportCreate, extra=_idempotency(request))
    return _created(request, await service(request).create(str(who), data), who)


@endpoint("GET", "/api/field-reports", "Field reports waiting for verification (立案)", "field-reports",
          query=s.PageQuery, response=out.TicketPage)
async def unverified_reports(request: web.Request) -> web.Response:
    who = actor(request)
    check_roles(who, "listing field reports", Role.SUPERVISOR, Role.AGENT)
    q = query(request, s.PageQuery)
    result = await service(request).unverified_field_reports(limit=q.limit, cursor=q.cursor)
    return reply(page([ticket_doc(x, who) for x in result.items], result.next_cursor))


@endpoint("POST", "/api/field-reports/{number}/verify", "立案: verify a report, then dispatch it", "field-reports",
          body=s.VerifyBody, response=out.TicketOut)
async def verify_report(request: web.Request) -> web.Response:
    who = actor(request)
    data = await body(request, s.VerifyBody, optional=True)
    st = await service(request).verify_field_report(request.match_info["number"], actor=str(who), lead=data.lead,
                                                    assisting=data.assisting, version=data.version)
    return reply(ticket_doc(st, who))


# --------------------------------------------------------------------------- topics and rules

@endpoint("GET", "/api/topics", "Topic problem libraries (专题问题库)", "topics", response=out.TopicPage)
async def list_topics(request: web.Request) -> web.Response:
    actor(request)
    return reply(page([topic_doc(t) for t in await service(request).topics()], None))


@endpoint("POST", "/api/topics", "Add a topic with its own routing (admin, supervisor)", "topics",
          body=s.TopicCreate, response=out.TopicOut, status=201)
async def add_topic(request: web.Request) -> web.Response:
    who = actor(request)
    data = await body(request, s.TopicCreate)
    return reply(topic_doc(await service(request).add_topic(data, actor=str(who))), 201)


@endpoint("GET", "/api/routing-rules", "The dispatch rules document in force", "topics")
async def get_rules(request: web.Request) -> web.Response:
    actor(request)
    return reply(await service(request).routing_rules())


@endpoint("PUT", "/api/routing-rules", "Replace the dispatch rules (validated; admin, supervisor)", "topics")
async def put_rules(request: web.Request) -> web.Response:
    who = actor(request)
    try:
        spec = await request.json()
    except ValueError:
        raise HttpError(400, "bad_json", "the body is not valid JSON", {"body": "not JSON"}) from None
    await service(request).replace_routing_rules(spec, actor=str(who))
    return reply(await service(request).routing_rules())
