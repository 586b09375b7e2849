"""Real accounts for tests: a user per actor string (``agent:1001``, ``dept:market:zhang``,
``supervisor:li``, ``admin:root``, ``system:survey``), logged in through ``POST /api/session``
for a real server-side session; requests then carry the session cookie and its CSRF token."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from callcenter.accounts.model import Role, User
from callcenter.accounts.passwords import FAST, Passwords
from callcenter.accounts.repository import Users

PASSWORD = "test-password-123"
_HASH: list[str] = []


def user_of(actor: str) -> User:
    role, _, rest = actor.partition(":")
    if role == "agent":
        return User(f"agent{rest}", Role.AGENT, agent_id=rest)
    if role == "dept":
        department, _, name = rest.partition(":")
        return User(f"{department}.{name or 'handler'}", Role.DEPT, department=department)
    return User(rest, Role(role))


async def ensure_user(pool: Any, actor: str) -> User:
    user = user_of(actor)
    users = Users(pool)
    if await users.user(user.username) is None:
        if not _HASH:
            _HASH.append(await Passwords(FAST).hash(PASSWORD))
        await pool.execute("INSERT INTO users(username, role, department, agent_id, name, password_hash)"
                           " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING", user.username, user.role.value,
                           user.department, user.agent_id, user.name, _HASH[0])
    return user


async def login_headers(http: aiohttp.ClientSession, url: str, username: str,
                        password: str = PASSWORD) -> dict[str, str]:
    """Log in at ``url`` (…/api/session); the headers that carry the session afterwards."""
    async with http.post(url, json={"username": username, "password": password}) as resp:
        assert resp.status == 200, await resp.text()
        token = resp.cookies["cc_session"].value
        csrf = (await resp.json())["csrf"]
    return {"Cookie": f"cc_session={token}", "X-CSRF-Token": csrf}


class Sessions:
    """Logged-in header sets per actor, against one base URL (logs in on first use)."""

    def __init__(self, pool: Any, base: str) -> None:
        self.pool, self.base = pool, base
        self._headers: dict[str, dict[str, str]] = {}

    async def headers(self, actor: str) -> dict[str, str]:
        if actor not in self._headers:
            user = await ensure_user(self.pool, actor)
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
                self._headers[actor] = await login_headers(http, f"{self.base}/api/session", user.username)
        return self._headers[actor]

    async def client(self, actor: str) -> aiohttp.ClientSession:
        """A session whose every request is made as ``actor`` (close it after use)."""
        return aiohttp.ClientSession(self.base, headers=await self.headers(actor),
                                     cookie_jar=aiohttp.DummyCookieJar())


async def browser_login(page: Any, base: str, pool: Any, actor: str, then: str) -> None:
    """Log in through the real login page as the user of ``actor`` and land on ``then``."""
    user = await ensure_user(pool, actor)
    await page.goto(f"{base}{then}")  # no session: the page sends the browser to /login
    await page.wait_for_url(re.compile(r"/login\?next="))
    await page.fill("#username", user.username)
    await page.fill("#password", PASSWORD)
    await page.click("#btn-login")
    await page.wait_for_url(f"{base}{then}")
