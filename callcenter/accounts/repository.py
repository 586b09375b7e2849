"""Users and the audit log in PostgreSQL (asyncpg)."""

from __future__ import annotations

from typing import Any

import asyncpg

from callcenter.accounts.model import Role, User


def _user(row: asyncpg.Record) -> User:
    return User(username=row["username"], role=Role(row["role"]), department=row["department"],
                agent_id=row["agent_id"], name=row["name"], disabled=row["disabled"])


class UserExists(Exception):
    pass


class Users:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self.pool = pool

    async def get(self, username: str) -> tuple[User, str] | None:
        row = await self.pool.fetchrow("SELECT * FROM users WHERE username = $1", username)
        return (_user(row), row["password_hash"]) if row else None

    async def user(self, username: str) -> User | None:
        found = await self.get(username)
        return found[0] if found else None

    async def all(self) -> list[User]:
        return [_user(r) for r in await self.pool.fetch("SELECT * FROM users ORDER BY role, username")]

    async def any_admin(self) -> bool:
        return bool(await self.pool.fetchval("SELECT 1 FROM users WHERE role = 'admin' AND NOT disabled"))

    async def add(self, user: User, password_hash: str) -> None:
        try:
            await self.pool.execute(
                "INSERT INTO users(username, role, department, agent_id, name, password_hash, disabled)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)", user.username, user.role.value, user.department,
                user.agent_id, user.name, password_hash, user.disabled)
        except asyncpg.UniqueViolationError:
            raise UserExists(f"user {user.username!r} or agent id {user.agent_id!r} exists") from None

    async def update(self, user: User) -> None:
        await self.pool.execute(
            "UPDATE users SET role=$2, department=$3, agent_id=$4, name=$5, disabled=$6, updated_at=now()"
            " WHERE username=$1", user.username, user.role.value, user.department, user.agent_id, user.name,
            user.disabled)

    async def set_password(self, username: str, password_hash: str) -> bool:
        done = await self.pool.execute("UPDATE users SET password_hash=$2, updated_at=now() WHERE username=$1",
                                       username, password_hash)
        return done.endswith("1")


class Audit:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def write(self, actor: str, action: str, target: str | None = None, address: str | None = None,
                    **details: Any) -> None:
        await self.pool.execute(
            "INSERT INTO audit_log(actor, action, target, address, details) VALUES ($1, $2, $3, $4, $5)",
            actor, action, target, address, details)

    async def written_within(self, seconds: float, actor: str, action: str, target: str, **details: Any) -> bool:
        """Is there a line like this (its details containing ``details``) of the last ``seconds``?"""
        return await self.pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM audit_log WHERE at > now() - make_interval(secs => $1)"
            " AND actor = $2 AND action = $3 AND target = $4 AND details @> $5)",
            seconds, actor, action, target, details)

    async def recent(self, limit: int = 100, action: str | None = None) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT * FROM audit_log WHERE ($2::text IS NULL OR action = $2) ORDER BY id DESC LIMIT $1",
            limit, action)
        return [{"id": r["id"], "at": r["at"].isoformat(), "actor": r["actor"], "action": r["action"],
                 "target": r["target"], "address": r["address"], "details": r["details"]}
                for r in rows]
