"""HTTP of the accounts feature.

- ``GET /login``, ``GET /admin``      the login page (public) and user administration (``callcenter.accounts.pages``)
- ``POST /api/session``               log in {username, password}: sets the HttpOnly session cookie
- ``GET /api/session``                who am I, and the CSRF token the pages send on every change
- ``DELETE /api/session``             log out
- ``GET|POST /api/users``, ``PATCH /api/users/{username}``   user administration (admin)
- ``GET /api/audit``                  the audit log (admin, supervisor)
- ``GET /api/login-locks``, ``DELETE /api/login-locks/{kind}/{key}``   failed-login back-offs, lifted (admin, audited)
- ``POST /api/calls/{call_id}/show-number``  a supervisor sees a caller's full number (audited)
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from callcenter.accounts.guard import ACCOUNTS, SESSION, guard
from callcenter.accounts.identity import USER
from callcenter.accounts.model import USERNAME, AccountError, Role, User
from callcenter.accounts.repository import UserExists
from callcenter.accounts.service import AccountsService, LoginRefused
from callcenter.accounts.sessions import COOKIE
from callcenter.infra.web import HttpError, Provided, json_error, read_json, reply


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=USERNAME.pattern)
    password: str = Field(min_length=1, max_length=256)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=USERNAME.pattern)
    role: Literal["agent", "supervisor", "dept", "admin", "collector", "system", "kb", "qa"]
    password: str = Field(min_length=1, max_length=256)
    department: str | None = Field(None, max_length=64)
    agent_id: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=64)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["agent", "supervisor", "dept", "admin", "collector", "system", "kb", "qa"] | None = None
    department: str | None = Field(None, max_length=64)
    agent_id: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=64)
    disabled: bool | None = None
    password: str | None = Field(None, min_length=1, max_length=256)


def _svc(request: web.Request) -> AccountsService:
    return request.app[ACCOUNTS].get()


def _address(request: web.Request) -> str:
    return request.remote or "-"


def _me(request: web.Request, user: User, csrf: str) -> web.Response:
    return reply({"user": user.public(), "csrf": csrf})


async def login(request: web.Request) -> web.Response:
    if request.content_type != "application/json":
        return json_error(415, "unsupported_media_type", "send the login as application/json")
    body = await read_json(request, LoginIn)
    try:
        user, session = await _svc(request).login(body.username, body.password, _address(request),
                                                  replacing=request.cookies.get(COOKIE))
    except LoginRefused as exc:
        resp = json_error(exc.status, exc.code, str(exc))
        if exc.retry_after is not None:
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    resp = _me(request, user, session.csrf)
    resp.set_cookie(COOKIE, session.token, httponly=True, samesite="Strict", secure=request.secure, path="/")
    return resp


async def whoami(request: web.Request) -> web.Response:
    return _me(request, request[USER], request[SESSION].csrf)


async def logout(request: web.Request) -> web.Response:
    await _svc(request).logout(request[SESSION])
    resp = web.Response(status=204)
    resp.del_cookie(COOKIE, path="/")
    return resp


async def list_users(request: web.Request) -> web.Response:
    return reply({"users": [u.public() for u in await _svc(request).users.all()]})


async def add_user(request: web.Request) -> web.Response:
    body = await read_json(request, UserIn)
    try:
        user = User(body.username, Role(body.role), department=body.department, agent_id=body.agent_id, name=body.name)
        await _svc(request).add(user, body.password, by=request[USER].username)
    except AccountError as exc:
        field = str(exc).split(":", 1)[0] if ":" in str(exc) else "body"
        raise HttpError(422, "invalid", str(exc), {field: str(exc)}) from None
    except UserExists as exc:
        raise HttpError(409, "exists", str(exc), {"username": "taken"}) from None
    return reply(user.public(), 201)


async def change_user(request: web.Request) -> web.Response:
    body = await read_json(request, UserPatch)
    username = request.match_info["username"]
    if username == request[USER].username and (body.disabled or body.role not in (None, request[USER].role)):
        raise HttpError(422, "invalid", "an admin does not disable or demote itself", {"username": "yourself"})
    try:
        user = await _svc(request).change(username, request[USER].username, **body.model_dump(exclude_unset=True))
    except KeyError:
        raise HttpError(404, "not_found", f"no user {username!r}") from None
    except (AccountError, ValueError) as exc:
        raise HttpError(422, "invalid", str(exc)) from None
    return reply(user.public())


async def audit_log(request: web.Request) -> web.Response:
    try:
        limit = min(max(int(request.query.get("limit", "100")), 1), 1000)
    except ValueError:
        raise HttpError(422, "invalid", "limit must be a number", {"limit": "1..1000"}) from None
    return reply({"entries": await _svc(request).audit.recent(limit, request.query.get("action") or None)})


async def login_locks(request: web.Request) -> web.Response:
    return reply({"locks": await _svc(request).sessions.locks()})


async def lift_login_lock(request: web.Request) -> web.Response:
    kind, key = request.match_info["kind"], request.match_info["key"]
    if kind not in ("account", "address"):
        raise HttpError(422, "invalid", "kind: account or address", {"kind": "account | address"})
    if not await _svc(request).lift_lock(kind, key, by=request[USER].username):
        raise HttpError(404, "not_found", f"no login lock on {kind} {key!r}")
    return web.Response(status=204)


async def show_number(request: web.Request) -> web.Response:
    call_id = request.match_info["call_id"]
    svc = _svc(request)
    caller = await svc.users.pool.fetchval("SELECT caller FROM calls WHERE call_id = $1", call_id)
    if caller is None:
        raise HttpError(404, "not_found", "no such call")
    await svc.audit.write(request[USER].username, "show_number", target=call_id, address=_address(request))
    return reply({"call_id": call_id, "caller": caller})


def routes(app: web.Application, accounts: Provided[AccountsService]) -> None:
    app[ACCOUNTS] = accounts
    app.router.add_post("/api/session", login)
    app.router.add_get("/api/session", whoami)
    app.router.add_delete("/api/session", logout)
    app.router.add_get("/api/users", list_users)
    app.router.add_post("/api/users", add_user)
    app.router.add_patch("/api/users/{username}", change_user)
    app.router.add_get("/api/audit", audit_log)
    app.router.add_get("/api/login-locks", login_locks)
    app.router.add_delete("/api/login-locks/{kind}/{key}", lift_login_lock)
    app.router.add_post("/api/calls/{call_id}/show-number", show_number)


__all__ = ["guard", "routes"]
