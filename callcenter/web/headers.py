"""The security headers of every response -- a page, a redirect to /login, aiohttp's own 404, a
401/403/422 JSON error, a crash's 500 -- and nothing under ``/api/`` stored by a browser or proxy
unless its handler says otherwise.

The pages load only their own files (``/static/<feature>/…`` and ``/static/web/…``, no CDN, no
inline script, style or event handler) and talk only to this origin (fetch and the WebSockets):
a text that slipped into the DOM as markup still runs no script. No page of the hall in another
site's frame (clickjacking the supervisor's buttons).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from aiohttp import web


def csp(connect: Sequence[str] = ()) -> str:
    """The policy; `connect` adds origins fetch/WebSocket may reach besides this one (the browser
    phone's WSS at Asterisk, e.g. ``wss://127.0.0.1:8089``), nothing else."""
    sources = " ".join(("'self'", *connect))
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self';"
            f" connect-src {sources};"
            " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


CSP = csp()
SECURITY_HEADERS = {"X-Frame-Options": "DENY", "Content-Security-Policy": CSP,
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
_HEADERS = web.AppKey("security_headers", dict)
_API_CACHE = "no-store"  # API answers hold citizens' numbers and tickets: never kept on a shared desk


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in request.app.get(_HEADERS, SECURITY_HEADERS).items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", _API_CACHE)


def harden_responses(app: web.Application, *, connect: Sequence[str] = ()) -> None:
    """Just before any response is sent (aiohttp's ``on_response_prepare``, which also sees what
    the middlewares and aiohttp itself answer): the security headers; a handler's own value wins."""
    app[_HEADERS] = {**SECURITY_HEADERS, "Content-Security-Policy": csp(connect)}
    if _security_headers not in app.on_response_prepare:
        app.on_response_prepare.append(_security_headers)
