"""The role matrix, derived from the app's own route table and the policy table: anonymous ->
401 (pages: to /login), a role the rule does not list -> 403, a state change without the
session's CSRF token -> 403; WebSockets check the session and the Origin; logins are throttled
per account and per address; an idle session expires."""

from __future__ import annotations

import re

import aiohttp
import pytest
from accounts_support import PASSWORD, ensure_user
from helpers import until

from callcenter.accounts.model import Role, rule_for
from callcenter.accounts.sessions import COOKIE
from callcenter.app import PLUGINS

pytestmark = pytest.mark.asterisk

ACTORS = {Role.AGENT: "agent:1001", Role.SUPERVISOR: "supervisor:li", Role.DEPT: "dept:market:zhang",
          Role.ADMIN: "admin:root", Role.COLLECTOR: "collector:c07", Role.SYSTEM: "system:survey",
          Role.KB: "kb:wang", Role.QA: "qa:zhou"}
SAMPLE = {"agent_id": "1001", "callback_id": "sv-1-1", "number": "PZH-20260101-000001", "phone": "13800000001", "username": "nobody",
          "call_id": "c-none", "code": "market", "sid": "none", "version": "1", "id": "1",
          "feature": "web", "name": "common.js", "kind": "account", "key": "nobody", "appeal_id": "1"}


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: SAMPLE[m.group(1)], path)


def routes(app) -> list[tuple[str, str]]:
    return sorted({(r.method, r.resource.canonical) for r in app.router.routes()
                   if r.resource is not None and r.method != "HEAD"})


async def test_every_route_refuses_anonymous_wrong_roles_and_missing_csrf(stack, settings, logins):
    base = f"http://127.0.0.1:{settings.http_port}"
    checked = 0
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.DummyCookieJar()) as anon:
        for method, path in routes(stack):
            rule = rule_for(method, path)
            assert rule is not None, f"{method} {path} has no declared role"
            url = concrete(path)
            async with anon.request(method, url, json={} if method != "GET" else None,
                                    allow_redirects=False) as resp:
                if rule.roles is None:
                    assert resp.status not in (401, 403), f"{method} {path} is public"
                    continue
                if rule.page:
                    assert resp.status == 302 and resp.headers["Location"].startswith("/login?next="), path
                else:
                    assert resp.status == 401, f"anonymous {method} {path}: {resp.status}"
                    assert (await resp.json())["error"] == "login_required"
            for role in set(Role) - rule.roles:
                headers = await logins.headers(ACTORS[role])
                async with anon.request(method, url, headers=headers, json={} if method != "GET" else None,
                                        allow_redirects=False) as resp:
                    assert resp.status == 403, f"{role} {method} {path}: {resp.status}"
            if method not in ("GET", "HEAD"):
                allowed = ACTORS[sorted(rule.roles)[0]]
                cookie = (await logins.headers(allowed))["Cookie"]
                async with anon.request(method, url, headers={"Cookie": cookie}, json={}) as resp:
                    assert resp.status == 403 and (await resp.json())["error"] == "csrf", f"{method} {path}"
            checked += 1
    assert checked >= 40


async def test_websockets_need_a_session_the_right_agent_and_our_origin(stack, settings, logins):
    base = f"http://127.0.0.1:{settings.http_port}"
    own = {"Origin": base}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        for path in ("/ws/board", "/ws/agent/1001"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as anon:
                await http.ws_connect(f"{base}{path}", headers=own)
            assert anon.value.status == 401
        sup = await logins.headers("supervisor:li")
        with pytest.raises(aiohttp.WSServerHandshakeError) as cross:
            await http.ws_connect(f"{base}/ws/board", headers={"Cookie": sup["Cookie"], "Origin": "https://evil.example"})
        assert cross.value.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as no_origin:
            await http.ws_connect(f"{base}/ws/board", headers={"Cookie": sup["Cookie"]})
        assert no_origin.value.status == 403
        agent = await logins.headers("agent:1001")
        with pytest.raises(aiohttp.WSServerHandshakeError) as other:
            await http.ws_connect(f"{base}/ws/agent/1002", headers={"Cookie": agent["Cookie"]} | own)
        assert other.value.status == 403
        async with http.ws_connect(f"{base}/ws/board", headers={"Cookie": sup["Cookie"]} | own) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "board"
        async with http.ws_connect(f"{base}/ws/agent/1001", headers={"Cookie": agent["Cookie"]} | own) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "agent"
        market = await logins.headers("dept:market:zhang")
        with pytest.raises(aiohttp.WSServerHandshakeError) as other_dept:
            await http.ws_connect(f"{base}/ws/dept/water", headers={"Cookie": market["Cookie"]} | own)
        assert other_dept.value.status == 403
        async with http.ws_connect(f"{base}/ws/dept/market", headers={"Cookie": market["Cookie"]} | own) as ws:
            assert (await ws.receive_json(timeout=10)) == {"type": "hello", "department": "market"}
            assert (await ws.receive_json(timeout=10)) == {"type": "live", "live": True}


async def test_cross_site_posts_are_refused(stack, settings, logins):
    base = f"http://127.0.0.1:{settings.http_port}"
    cookie = (await logins.headers("admin:root"))["Cookie"]
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.DummyCookieJar()) as http:
        body = '{"number": "13800000777"}'
        form = {"Cookie": cookie, "Content-Type": "text/plain"}
        async with http.post("/api/ivr/blacklist", data=body, headers=form | {"Origin": "https://evil.example"}) as r:
            assert r.status == 403 and (await r.json())["error"] == "bad_origin"
        async with http.post("/api/ivr/blacklist", data=body, headers=form) as r:  # no Origin, no token
            assert r.status == 403 and (await r.json())["error"] == "csrf"
        async with http.post("/api/ivr/blacklist", json={"number": "13800000777"},
                             headers={"Cookie": cookie, "X-CSRF-Token": "令牌"}) as r:  # not even ASCII
            assert r.status == 403 and (await r.json())["error"] == "csrf"
        async with http.post("/api/session", data='{"username":"root","password":"x"}',
                             headers={"Content-Type": "text/plain"}) as r:  # login CSRF
            assert r.status == 415


async def test_login_is_throttled_per_account_and_sessions_expire(stack, settings, pool, logins):
    base = f"http://127.0.0.1:{settings.http_port}"
    user = await ensure_user(pool, "supervisor:wang")
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.DummyCookieJar()) as http:
        for _ in range(4):  # three failures are free, the fourth starts the account's back-off
            async with http.post("/api/session", json={"username": user.username, "password": "wrong"}) as r:
                assert r.status == 401
        async with http.post("/api/session", json={"username": user.username, "password": PASSWORD}) as r:
            assert r.status == 429 and (await r.json())["error"] == "throttled"
            assert int(r.headers["Retry-After"]) >= 1
        audit = await pool.fetch("SELECT action FROM audit_log WHERE target = $1 OR actor = $1", user.username)
        assert [a["action"] for a in audit].count("login_failed") == 4
        assert "login_throttled" in [a["action"] for a in audit]

        # a session lives session_idle_s after its last use, in Redis; when that runs out: 401
        headers = await logins.headers("supervisor:li")
        async with http.get("/api/session", headers=headers) as r:
            assert r.status == 200
        sessions = stack[PLUGINS].accounts.service.get().sessions
        token = headers["Cookie"].split("=", 1)[1]
        key = sessions._key("s", token)
        assert 0 < await sessions.redis.ttl(key) <= settings.session_idle_s
        await sessions.redis.pexpire(key, 1)  # the idle timeout, brought forward
        await until(lambda: _gone(sessions.redis, key), what="the session key to expire")
        async with http.get("/api/board/snapshot", headers=headers) as r:
            assert r.status == 401
    assert COOKIE == "cc_session"


async def _gone(redis, key) -> bool:
    return not await redis.exists(key)


async def test_session_cookie_is_httponly_and_strict(stack, settings, pool):
    base = f"http://127.0.0.1:{settings.http_port}"
    user = await ensure_user(pool, "supervisor:zhao")
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.post("/api/session", json={"username": user.username, "password": PASSWORD}) as r:
            cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie


async def test_an_open_socket_closes_when_its_session_ends(stack, settings, logins):
    base = f"http://127.0.0.1:{settings.http_port}"
    stack[PLUGINS].accounts.service.get().ws_recheck_s = 0.2
    headers = await logins.headers("supervisor:li")
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.ws_connect("/ws/board", headers={"Cookie": headers["Cookie"], "Origin": base}) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "board"
            async with http.delete("/api/session", headers=headers) as r:  # log out elsewhere
                assert r.status == 204

            async def closed() -> bool:
                msg = await ws.receive(timeout=10)
                return msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING,
                                    aiohttp.WSMsgType.ERROR)

            await until(closed, what="the socket closed with its session")


async def test_pages_refuse_to_be_framed(stack, settings):
    async with aiohttp.ClientSession(f"http://127.0.0.1:{settings.http_port}") as http:
        async with http.get("/login") as r:
            assert r.headers["X-Frame-Options"] == "DENY"
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


async def test_pages_run_only_their_own_scripts(stack, settings, logins):
    """A strict policy on every page: own script files only, no inline script or handler."""
    pages = {"/login": None, "/agent": "agent:1001", "/board": "supervisor:li", "/dept": "dept:market:zhang",
             "/admin": "admin:root", "/dispatch": "supervisor:li"}
    async with aiohttp.ClientSession(f"http://127.0.0.1:{settings.http_port}",
                                     cookie_jar=aiohttp.DummyCookieJar()) as http:
        for path, actor in pages.items():
            headers = await logins.headers(actor) if actor else {}
            async with http.get(path, headers=headers, allow_redirects=False) as r:
                assert r.status == 200, path
                csp = r.headers["Content-Security-Policy"]
                policy = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
                assert policy["script-src"] == ["'self'"], path
                assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"], path
                assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp, path
