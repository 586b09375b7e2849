"""The accounts service: log in and out, the current session, user administration, audit."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from callcenter.accounts.model import AccountError, Role, User
from callcenter.accounts.passwords import Passwords, weak
from callcenter.accounts.repository import Audit, Users
from callcenter.accounts.sessions import Session, Sessions
from callcenter.infra.logging import get_logger

log = get_logger("accounts")


class LoginRefused(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.retry_after = status, code, retry_after


class AccountsService:
    def __init__(self, users: Users, sessions: Sessions, audit: Audit, passwords: Passwords) -> None:
        self.users, self.sessions, self.audit, self.passwords = users, sessions, audit, passwords
        self.ws_recheck_s = 5.0  # an open WebSocket re-checks its session this often

    async def login(self, username: str, password: str, address: str,
                    replacing: str | None = None) -> tuple[User, Session]:
        """Open a session; ``replacing``: the browser's session so far (another user's, or the
        same one's), which a successful login ends."""
        if wait := self.sessions.throttle.refuse_for(await self.sessions.standing(username, address)):
            await self.audit.write(username, "login_throttled", address=address, retry_after_s=wait)
            raise LoginRefused(429, "throttled", f"too many failed logins; try again in {wait} s", retry_after=wait)
        found = await self.users.get(username)
        ok = await self.passwords.verify(found[1] if found else None, password)
        if not ok or found is None or found[0].disabled:
            await self.sessions.failed(username, address)
            await self.audit.write(username if found else "-", "login_failed", target=username, address=address)
            raise LoginRefused(401, "bad_credentials", "wrong user name or password")
        user = found[0]
        await self.sessions.succeeded(username)
        if (old := await self.sessions.get(replacing)) is not None:
            await self.sessions.close(old)
            await self.audit.write(old.username, "logout", address=address, reason="replaced by a new login")
        session = await self.sessions.open(username)
        await self.audit.write(username, "login", address=address, role=user.role.value)
        log.info("login", user=username, role=user.role.value)
        return user, session

    async def current(self, token: str | None) -> tuple[User, Session] | None:
        session = await self.sessions.get(token)
        if session is None:
            return None
        user = await self.users.user(session.username)
        if user is None or user.disabled:
            await self.sessions.close(session)
            return None
        return user, session

    async def lift_lock(self, kind: str, key: str, by: str) -> bool:
        """An admin lifts the login back-off of an account or an address (audited)."""
        lifted = await self.sessions.lift(kind, key)
        if lifted:
            await self.audit.write(by, "login_lock_lifted", target=f"{kind}:{key}")
        return lifted

    async def logout(self, session: Session) -> None:
        await self.sessions.close(session)
        await self.audit.write(session.username, "logout")

    async def add(self, user: User, password: str, by: str) -> User:
        if why := weak(password):
            raise AccountError(f"password: {why}")
        await self.users.add(user, await self.passwords.hash(password))
        await self.audit.write(by, "user_added", target=user.username, role=user.role.value,
                               department=user.department, agent_id=user.agent_id)
        return user

    async def change(self, username: str, by: str, *, role: str | None = None, department: str | None = None,
                     agent_id: str | None = None, name: str | None = None, disabled: bool | None = None,
                     password: str | None = None) -> User:
        user = await self.users.user(username)
        if user is None:
            raise KeyError(username)
        changes: dict[str, Any] = {k: v for k, v in (("name", name), ("disabled", disabled)) if v is not None}
        if role is not None:
            changes |= {"role": Role(role), "department": department, "agent_id": agent_id}
        updated = replace(user, **changes)
        await self.users.update(updated)
        if password is not None:
            if why := weak(password):
                raise AccountError(f"password: {why}")
            await self.users.set_password(username, await self.passwords.hash(password))
        if updated.role is not user.role or updated.department != user.department:
            await self.audit.write(by, "role_changed", target=username, before=user.role.value,
                                   after=updated.role.value, department=updated.department)
        if updated.disabled and not user.disabled:
            await self.audit.write(by, "user_disabled", target=username)
        if password is not None:
            await self.audit.write(by, "password_changed", target=username)
        if updated.disabled or password is not None or updated.role is not user.role:
            await self.sessions.close_all(username)  # a changed account logs in again
        return updated

    async def ensure_admin(self, username: str, password: str) -> bool:
        """The bootstrap admin: created once when it does not exist; True when created now."""
        if await self.users.user(username) is not None:
            return False
        await self.add(User(username, Role.ADMIN, name="系统管理员"), password, by="bootstrap")
        return True
