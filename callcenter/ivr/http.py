"""IVR HTTP API: flows (list, reload), caller blacklist, abandonment report.

GET    /api/ivr/flows                      flows and merged lines being served, last reload error
POST   /api/ivr/reload                     re-read settings.flows_dir; 422 + issues if broken
                                           (the last good flows keep serving)
GET    /api/ivr/blacklist[?all=1]          active entries (all=1: expired ones too)
POST   /api/ivr/blacklist                  {number, reason?, created_by?, expires_at? | ttl_hours?}
                                           (default expiry 7 days; naive times are Asia/Shanghai)
DELETE /api/ivr/blacklist/{number}
GET    /api/ivr/report/abandonment?since=&until=&flow=
                                           calls that ended in the IVR, by flow and last node
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callcenter.accounts.api import AUDIT_TARGET, actor_of
from callcenter.context import SETTINGS
from callcenter.infra.logging import get_logger
from callcenter.infra.masking import mask_phone
from callcenter.infra.web import HttpError, Provided, json_error, read_json

from .issues import FlowError
from .repository import normalize_number
from .service import IvrService

log = get_logger("ivr.http")

DEFAULT_BLOCK = timedelta(days=7)
MAX_BLOCK = timedelta(days=366)


IVR = web.AppKey("ivr", Provided)


def _service(request: web.Request) -> IvrService:
    return request.app[IVR].get()


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[SETTINGS].timezone)


def _aware(value: datetime, tz: ZoneInfo) -> datetime:
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


class BlacklistIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str
    reason: str = Field("", max_length=200)
    created_by: str = Field("", max_length=64)
    expires_at: datetime | None = None
    ttl_hours: float | None = Field(None, gt=0, le=MAX_BLOCK.total_seconds() / 3600)

    @field_validator("number", mode="before")
    @classmethod
    def _number(cls, v: Any) -> str:
        number = normalize_number(v) if isinstance(v, str) else ""
        if not (3 <= len(number) <= 20):
            raise ValueError("must be a phone number (3 to 20 digits)")
        return number

    @model_validator(mode="after")
    def _one_expiry(self) -> BlacklistIn:
        if self.expires_at is not None and self.ttl_hours is not None:
            raise ValueError("give expires_at or ttl_hours, not both")
        return self


async def flows(request: web.Request) -> web.Response:
    return web.json_response(_service(request).registry.describe())


async def reload(request: web.Request) -> web.Response:
    service = _service(request)
    try:
        await service.reload()
    except FlowError as exc:
        return json_error(422, "flows_invalid", "the flows are invalid; the last good flows keep serving",
                          issues=[str(i) for i in exc.issues],
                          serving=[f["name"] for f in service.registry.describe()["flows"]])
    return web.json_response({"reloaded": True, **service.registry.describe()})


async def list_blacklist(request: web.Request) -> web.Response:
    service = _service(request)
    now = datetime.now(UTC)
    include_expired = request.query.get("all", "") in ("1", "true", "yes")
    entries = await service.repo.list_blacklist(now, include_expired)
    return web.json_response({"entries": [e.as_json(now) for e in entries]})


async def add_blacklist(request: web.Request) -> web.Response:
    service = _service(request)
    data = await read_json(request, BlacklistIn)
    now = datetime.now(UTC)
    if data.expires_at is not None:
        expires = _aware(data.expires_at, _tz(request))
    else:
        expires = now + (timedelta(hours=data.ttl_hours) if data.ttl_hours else DEFAULT_BLOCK)
    if expires <= now:
        return json_error(422, "invalid", "invalid blacklist entry", {"expires_at": "must be in the future"})
    if expires - now > MAX_BLOCK:
        return json_error(422, "invalid", "invalid blacklist entry", {"expires_at": "at most 366 days ahead"})
    entry = await service.repo.add_blacklist(data.number, reason=data.reason, created_by=actor_of(request) or "",
                                             expires_at=expires, now=now)
    log.info("ivr_blacklist_added", number=entry.number, expires_at=entry.expires_at.isoformat(),
             created_by=entry.created_by)
    request[AUDIT_TARGET] = mask_phone(entry.number)  # audited by the guard (the policy table)
    return web.json_response(entry.as_json(now), status=201)


async def remove_blacklist(request: web.Request) -> web.Response:
    service = _service(request)
    number = request.match_info["number"]
    if not await service.repo.remove_blacklist(number):
        return json_error(404, "not_found", "number is not on the blacklist")
    log.info("ivr_blacklist_removed", number=normalize_number(number))
    request[AUDIT_TARGET] = mask_phone(normalize_number(number))
    return web.Response(status=204)


def _time_param(request: web.Request, name: str, default: datetime) -> datetime:
    raw = request.query.get(name)
    if not raw:
        return default
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise HttpError(400, "bad_request", f"{name}: not an ISO 8601 date/time",
                        {name: "not an ISO 8601 date/time"}) from None
    if not 2000 <= value.year <= 2100:  # PostgreSQL/UTC conversion of year 1 would fail
        raise HttpError(422, "invalid", f"{name}: a date between 2000 and 2100", {name: "2000..2100"})
    return _aware(value, _tz(request))


async def abandonment(request: web.Request) -> web.Response:
    service = _service(request)
    now = datetime.now(UTC)
    since = _time_param(request, "since", now - timedelta(hours=24))
    until = _time_param(request, "until", now)
    if since >= until:
        return json_error(400, "bad_request", "since must be before until", {"since": "must be before until"})
    flow = request.query.get("flow") or None
    return web.json_response(await service.repo.abandonment(since, until, flow))


def add_routes(app: web.Application, service: Provided[IvrService]) -> None:
    app[IVR] = service
    app.router.add_get("/api/ivr/flows", flows)
    app.router.add_post("/api/ivr/reload", reload)
    app.router.add_get("/api/ivr/blacklist", list_blacklist)
    app.router.add_post("/api/ivr/blacklist", add_blacklist)
    app.router.add_delete("/api/ivr/blacklist/{number}", remove_blacklist)
    app.router.add_get("/api/ivr/report/abandonment", abandonment)
