"""`callcenter doctor`: check every dependency, say what is wrong and how to fix it."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Awaitable, Callable

import aiohttp

from callcenter.infra.settings import Settings

FIX = {
    "postgres": "start it: pg_ctlcluster --skip-systemctl-redirect 15 main start; or `make setup`",
    "migrations": "run: .venv/bin/callcenter migrate",
    "redis": "start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379; or `make setup`; "
             "an authentication error: check the user and password in CALLCENTER_REDIS_URL",
    "mqtt": "start it: mosquitto -d; or `make setup`; 'not authorised': check CALLCENTER_MQTT_USERNAME / "
            "_PASSWORD / _WEB_USERNAME / _WEB_PASSWORD against the broker's password file",
    "ari": "start the stack (`make run`) or check CALLCENTER_ARI_URL / _USER / _PASSWORD",
    "controller": "start the controller: `make run` (or .venv/bin/callcenter run)",
    "tools": "apt-get install espeak-ng sox debootstrap baresip sip-tester (or `make setup`)",
    "sandbox": "build it: .venv/bin/callcenter sandbox (or `make setup`)",
    "flows": "fix the flow file named above; check with: .venv/bin/callcenter ivr check FILE",
    "selftest call": "see the controller log; the call did not complete through Stasis",
}


async def _postgres(s: Settings) -> str:
    import asyncpg

    conn = await asyncpg.connect(s.database_url, timeout=3)
    try:
        return await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()


async def _migrations(s: Settings) -> str:
    import asyncpg

    from callcenter.infra.db import discover

    conn = await asyncpg.connect(s.database_url, timeout=3)
    try:
        have = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
    except asyncpg.UndefinedTableError:
        have = set()
    finally:
        await conn.close()
    missing = [m.version for m in discover() if m.version not in have]
    if missing:
        raise RuntimeError(f"not applied: {missing}")
    return f"{len(have)} applied"


async def _redis(s: Settings) -> str:
    import redis.exceptions

    from callcenter.infra.redis import LiveState, login_refused

    live = LiveState(s.redis_url)
    try:
        await live.ping()
        return "PONG"
    except redis.exceptions.AuthenticationError as exc:
        raise RuntimeError(login_refused(s.redis_url, exc)) from None
    finally:
        await live.close()


async def _mqtt(s: Settings) -> str:
    import aiomqtt

    for role in ("controller", "web"):  # each user the processes log in as
        async with aiomqtt.Client(s.mqtt_host, s.mqtt_port, timeout=3, **s.mqtt_login(role)):
            pass
    who = f" as {s.mqtt_username}" + (f" and {s.mqtt_web_username}" if s.mqtt_web_username else "") \
        if s.mqtt_username else " (anonymous)"
    return f"{s.mqtt_host}:{s.mqtt_port}{who}"


async def _ari(s: Settings) -> str:
    from callcenter.infra.ari import AriClient

    async with AriClient(s.ari_url, s.ari_user, s.ari_password, s.ari_app, retries=0) as ari:
        info = await ari.get("/asterisk/info")
        return info.get("system", {}).get("version", "?")


async def _controller(s: Settings) -> str:
    url = f"http://{s.http_host}:{s.http_port}/health"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http, http.get(url) as r:
        data = await r.json()
    if not data.get("ari_connected"):
        if data.get("active") is False:
            return f"{url} standby (another controller holds the lease)"
        raise RuntimeError("controller is up but not connected to ARI")
    return f"{url} ari+mqtt connected" if data.get("mqtt_connected") else f"{url} (mqtt not connected)"


async def _tools(s: Settings) -> str:
    missing = [t for t in ("espeak-ng", "sox", "debootstrap", "baresip", "sipp") if shutil.which(t) is None]
    if missing:
        raise RuntimeError(f"missing: {', '.join(missing)}")
    return "espeak-ng sox debootstrap baresip sipp"


async def _sandbox(s: Settings) -> str:
    from callcenter.infra.sandbox import root_path

    root = root_path(s.asterisk_cache)
    if not (root / ".complete").exists():
        raise RuntimeError(f"{root} not built")
    return str(root)


async def _flows(s: Settings) -> str:
    from callcenter.ivr.loader import load_flows

    flows = load_flows(s.flows_dir)
    return ", ".join(sorted(flows))


async def _selftest_call(s: Settings) -> str:
    import asyncpg

    from callcenter.infra.ari import TRUNK_FORMATS, AriClient

    leg, other = f"doctor-{uuid.uuid4().hex[:8]}", f"doctor-{uuid.uuid4().hex[:8]}"
    async with AriClient(s.ari_url, s.ari_user, s.ari_password, s.ari_app) as ari:
        await ari.post("/channels", endpoint="Local/s@selftest", context="citizen-sim", extension="s",
                       priority=1, channelId=leg, otherChannelId=other, formats=TRUNK_FORMATS)
    conn = await asyncpg.connect(s.database_url, timeout=3)
    try:
        for _ in range(100):
            row = await conn.fetchval("SELECT disposition FROM calls WHERE call_id=$1", other)
            if row == "selftest_ok":
                return f"call {other} answered, prompt played, recorded"
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    raise RuntimeError("no completed self-test call recorded within 10 s")


async def _transcription(s: Settings) -> str:
    from callcenter.transcription.plugin import doctor_check

    return await doctor_check(s)


async def run_doctor(settings: Settings, *, call: bool = False, deploy: bool = False, echo=print) -> int:
    checks: list[tuple[str, Callable[[Settings], Awaitable[str]]]] = [
        ("postgres", _postgres), ("migrations", _migrations), ("redis", _redis), ("mqtt", _mqtt),
        ("tools", _tools), ("sandbox", _sandbox), ("flows", _flows), ("ari", _ari),
        ("controller", _controller),
    ]
    if deploy:  # a container: no developer tools, no sandbox (Asterisk is its own service)
        checks = [c for c in checks if c[0] not in ("tools", "sandbox")]
    if settings.transcription_enabled and not deploy:  # a health check must not load a model
        checks.append(("transcription", _transcription))
    if call:
        checks.append(("selftest call", _selftest_call))
    failed = 0
    for name, check in checks:
        try:
            detail = await asyncio.wait_for(check(settings), 15)
            echo(f"  ok    {name:<14} {detail}")
        except Exception as exc:  # every failure becomes one line with its fix
            failed += 1
            echo(f"  FAIL  {name:<14} {str(exc) or type(exc).__name__}\n        fix: {FIX[name]}")
    echo("all green" if not failed else f"{failed} check(s) failed")
    return 1 if failed else 0
