"""`callcenter users add|passwd|disable|list` on the real database; the added user logs in."""

from __future__ import annotations

import os
import subprocess
import sys

from callcenter.accounts.passwords import Passwords
from callcenter.accounts.repository import Users


def cli(settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    base.update({f"CALLCENTER_{k.upper()}": str(v) for k, v in settings.model_dump().items() if v is not None})
    base.update(env)
    return subprocess.run([sys.executable, "-m", "callcenter.cli", "users", *args], env=base,
                          capture_output=True, text=True, timeout=60)


async def test_users_cli_adds_changes_and_disables(settings, pool):
    added = cli(settings, "add", "market.zhang", "--role", "dept", "--department", "market", "--name", "张",
                CALLCENTER_NEW_PASSWORD="a-long-password-1")
    assert added.returncode == 0 and "dept:market:zhang" in added.stdout, added.stderr
    found = await Users(pool).get("market.zhang")
    assert found is not None and await Passwords().verify(found[1], "a-long-password-1")

    again = cli(settings, "add", "market.zhang", "--role", "dept", "--department", "market",
                CALLCENTER_NEW_PASSWORD="a-long-password-1")
    assert again.returncode == 2 and "exists" in again.stderr and "Traceback" not in again.stderr
    weak = cli(settings, "add", "li", "--role", "supervisor", CALLCENTER_NEW_PASSWORD="short")
    assert weak.returncode == 2 and "password refused" in weak.stderr
    no_agent_id = cli(settings, "add", "a1", "--role", "agent", "--generate")
    assert no_agent_id.returncode == 2 and "agent id" in no_agent_id.stderr

    generated = cli(settings, "passwd", "market.zhang", "--generate")
    assert generated.returncode == 0
    new = generated.stdout.strip().rsplit(": ", 1)[1]
    assert await Passwords().verify((await Users(pool).get("market.zhang"))[1], new)

    assert cli(settings, "disable", "market.zhang").returncode == 0
    assert (await Users(pool).user("market.zhang")).disabled
    listed = cli(settings, "list")
    assert "market.zhang" in listed.stdout and "disabled" in listed.stdout
    actions = [r["action"] for r in await pool.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["user_added", "password_changed", "user_disabled"]
