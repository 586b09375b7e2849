"""The guard middleware: every request is checked against the policy table before its handler.

- the route's rule comes from :func:`callcenter.accounts.model.rule_for` (a route without a rule
  is refused with 403 ``no_policy``: closed by default);
- the session cookie names the user (server-side session in Redis, idle timeout);
- anonymous on a page -> 302 to ``/login``; anonymous elsewhere -> 401; wrong role -> 403;
- every state-changing request needs the session's CSRF token in ``X-CSRF-Token`` and, when the
  browser sends an ``Origin`` (or, without one, a ``Referer``), our own origin; a WebSocket
  upgrade needs a session (else 401, as every route) and our own ``Origin`` (else 403), and the
  socket is closed once its session ends (checked every ``ws_recheck_s``).

The security headers are not the guard's: every response gets them, refused or not
(:func:`callcenter.web.headers.harden_responses`).
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web

from callcenter.accounts.identity import AUDIT_TARGET, USER
from callcenter.accounts.model import SAFE_METHODS, audited, decide, rule_for
from callcenter.accounts.service import AccountsService
from callcenter.accounts.sessions import COOKIE, CSRF_HEADER, Session
from callcenter.infra.logging import get_logger
from callcenter.infra.web import Provided, json_error

log = get_logger("accounts.guard")
ACCOUNTS = web.AppKey("accounts", Provided)
SESSION = web.RequestKey("session", Session)


def own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _same_origin(request: web.Request, *, required: bool) -> bool:
    """The request comes from our own pages: its ``Origin``, or without one its ``Referer``'s
    origin, is ours. With neither (``required`` false): a client that is not a browser (scripts,
    the CLI), still held to the session's CSRF token."""
    origin = request.headers.get("Origin")
    if origin is None and (referer := request.headers.get("Referer")) is not None:
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "null"
    if origin is None:
        return not required
    return origin == own_origin(request)


def _is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


async def _end_with_session(service: AccountsService, token: str, request: web.Request) -> None:
    """Close the socket's connection once its session ends (log out, disabled user, expiry), or
    once it cannot be checked (Redis or PostgreSQL failing): closed by default, never left open."""
    while True:
        await asyncio.sleep(service.ws_recheck_s)
        try:
            ended = await service.current(token) is None
        except Exception as exc:  # noqa: BLE001 - whatever failed, the socket must not outlive its session
            log.warning("websocket_session_check_failed", path=request.path, error=repr(exc))
            ended = True
        if ended:
            log.info("websocket_session_ended", path=request.path)
            if request.transport is not None:
                request.transport.close()
            return


@web.middleware
async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
    resource = request.match_info.route.resource
    if resource is None:  # aiohttp's own 404 / 405: nothing to protect
        return await handler(request)
    rule = rule_for(request.method, resource.canonical)
    unsafe = request.method not in SAFE_METHODS
    if unsafe and not _same_origin(request, required=False):
        return json_error(403, "bad_origin", "cross-site requests are refused")
    if rule is not None and rule.roles is None:
        return await handler(request)
    service: AccountsService | None = request.app[ACCOUNTS].maybe()
    if service is None:
        return json_error(503, "starting", "the accounts service is not running yet")
    found = await service.current(request.cookies.get(COOKIE))
    user, session = found if found else (None, None)
    decision = decide(rule, user, dict(request.match_info))
    if not decision.allowed:
        if decision.status == 401 and rule is not None and rule.page:
            raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")
        return json_error(decision.status, decision.code, decision.message)
    assert session is not None and user is not None
    if _is_websocket(request) and not _same_origin(request, required=True):  # after the session: 401 first
        return json_error(403, "bad_origin", "a WebSocket must come from this site's own pages")
    if unsafe and not hmac.compare_digest(request.headers.get(CSRF_HEADER, "").encode(), session.csrf.encode()):
        return json_error(403, "csrf", f"missing or wrong {CSRF_HEADER} header")
    request[USER] = user
    request[SESSION] = session
    if _is_websocket(request):  # a socket lives only as long as its session
        watcher = asyncio.create_task(_end_with_session(service, session.token, request), name="ws-session")
        try:
            return await handler(request)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
    response = await handler(request)
    if (action := audited(rule, user)) and response.status < 400:
        await service.audit.write(user.username, action, target=request.get(AUDIT_TARGET) or request.path,
                                  address=request.remote)
    return response

