"""Every response carries the security headers, not only the ones the guard let through: the
redirect to /login, aiohttp's own 404, the guard's 401/403 and a handler's 422 are all pages a
browser may render or frame, and the JSON errors must not be cached."""

from __future__ import annotations

import aiohttp
import pytest

pytestmark = pytest.mark.asterisk


def assert_hardened(r: aiohttp.ClientResponse, what: str) -> None:
    csp = r.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, what
    assert r.headers.get("X-Frame-Options") == "DENY", what
    assert r.headers.get("X-Content-Type-Options") == "nosniff", what
    assert r.headers.get("Referrer-Policy") == "same-origin", what


async def test_redirects_and_errors_carry_the_security_headers(stack, settings, logins):
    base = f"http://127.0.0.1:{settings.http_port}"
    agent = await logins.headers("agent:1001")
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.get("/board", allow_redirects=False) as r:
            assert r.status == 302 and r.headers["Location"].startswith("/login"), r.status
            assert_hardened(r, "redirect to /login")
        async with http.get("/no/such/page") as r:
            assert r.status == 404
            assert_hardened(r, "404")
        async with http.get("/api/tickets") as r:
            assert r.status == 401
            assert_hardened(r, "401")
            assert r.headers.get("Cache-Control") == "no-store"
        async with http.get("/api/users", headers=agent) as r:
            assert r.status == 403
            assert_hardened(r, "403")
            assert r.headers.get("Cache-Control") == "no-store"
        async with http.post("/api/tickets", headers=agent, json={"category": 17}) as r:
            assert r.status == 422, await r.text()
            assert_hardened(r, "422")
            assert r.headers.get("Cache-Control") == "no-store"
        async with http.get("/api/tickets", headers=agent) as r:  # and an answered API call is not stored either
            assert r.status == 200
            assert_hardened(r, "200")
            assert r.headers.get("Cache-Control") == "no-store"
