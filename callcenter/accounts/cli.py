"""`callcenter users add|passwd|disable|list`: user administration from the shell (audited as
``cli``). Passwords come from ``--password`` or, better, a prompt / ``CALLCENTER_NEW_PASSWORD``."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets

from callcenter.accounts.model import AccountError, Role, User
from callcenter.accounts.passwords import Passwords, weak
from callcenter.accounts.repository import Audit, UserExists, Users
from callcenter.infra import db
from callcenter.infra.settings import Settings


class UsersCliError(Exception):
    """One clear line for the operator."""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    users = sub.add_parser("users", help="hall user accounts (agents, supervisors, departments, admins)")
    cmd = users.add_subparsers(dest="users_cmd", required=True)
    p = cmd.add_parser("add", help="add a user")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--department", help="department code (role dept)")
    p.add_argument("--agent-id", help="ACD agent id / 工号 (role agent)")
    p.add_argument("--name", help="display name")
    p.add_argument("--password", help="else CALLCENTER_NEW_PASSWORD, a prompt, or --generate")
    p.add_argument("--generate", action="store_true", help="generate a password and print it once")
    p = cmd.add_parser("passwd", help="set a user's password (logs the user out everywhere on next use)")
    p.add_argument("username")
    p.add_argument("--password")
    p.add_argument("--generate", action="store_true")
    p = cmd.add_parser("disable", help="disable a user (no login, sessions refused)")
    p.add_argument("username")
    cmd.add_parser("list", help="list users")
    return users


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    if args.generate:
        return secrets.token_urlsafe(12), True
    password = args.password or os.environ.get("CALLCENTER_NEW_PASSWORD") or getpass.getpass("password: ")
    if why := weak(password):
        raise UsersCliError(f"password refused: {why}")
    return password, False


async def run(settings: Settings, args: argparse.Namespace) -> str:
    pool = await db.create_pool(settings.database_url, max_size=2)
    try:
        async with pool.acquire() as conn:
            await db.migrate(conn)
        users, audit = Users(pool), Audit(pool)
        if args.users_cmd == "list":
            return "\n".join(f"{u.username:24} {u.role.value:10} {u.department or u.agent_id or '':12} "
                             f"{'disabled' if u.disabled else ''}" for u in await users.all()) or "no users"
        if args.users_cmd == "add":
            try:
                user = User(args.username, Role(args.role), department=args.department, agent_id=args.agent_id,
                            name=args.name)
            except AccountError as exc:
                raise UsersCliError(str(exc)) from None
            password, shown = _password(args)
            try:
                await users.add(user, await Passwords().hash(password))
            except UserExists as exc:
                raise UsersCliError(str(exc)) from None
            await audit.write("cli", "user_added", target=user.username, role=user.role.value)
            return f"added {user.username} ({user.actor})" + (f", password {password}" if shown else "")
        found = await users.user(args.username)
        if found is None:
            raise UsersCliError(f"no user {args.username!r}")
        if args.users_cmd == "passwd":
            password, shown = _password(args)
            await users.set_password(found.username, await Passwords().hash(password))
            await audit.write("cli", "password_changed", target=found.username)
            return f"password of {found.username} changed" + (f": {password}" if shown else "")
        await users.update(User(found.username, found.role, found.department, found.agent_id, found.name, True))
        await audit.write("cli", "user_disabled", target=found.username)
        return f"{found.username} disabled"
    finally:
        await pool.close()
