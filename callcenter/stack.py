"""`callcenter run`: start the Asterisk sandbox (optional), the controller and the web server,
print where to look, and stop everything on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
from urllib.parse import urlsplit

from aiohttp import web

from callcenter.accounts.plugin import BOOTSTRAP_ADMIN, bootstrap_password
from callcenter.acd.shifts import Roster
from callcenter.app import build_app
from callcenter.infra.asterisk_conf import seat_credentials
from callcenter.infra.logging import get_logger
from callcenter.infra.settings import Settings

log = get_logger("run")


def roster_seat_ids() -> list[str]:
    """The seat ids of the ACD roster: what Asterisk's PJSIP config is rendered for."""
    return [seat.id for seat in Roster.default().seats]


def _mqtt_users(settings: Settings) -> str:
    if not settings.mqtt_username:
        return "anonymous (set CALLCENTER_MQTT_USERNAME/_PASSWORD, see docker/README.md)"
    web = settings.mqtt_web_username or settings.mqtt_username
    return f"users {settings.mqtt_username} (publishes), {web} (the pages read)"


def _redis_where(settings: Settings) -> str:
    url = urlsplit(settings.redis_url)
    who = f"user {url.username}" if url.username else "with a password" if url.password else "no password"
    return f"{url.hostname}:{url.port or 6379}  {who}"


def _cli_env() -> str:
    """How a shell's CLI reaches this stack's brokers (make run loads their settings from a file)."""
    path = os.environ.get("CALLCENTER_LOCAL_ENV_FILE")
    return f"\n   (CLI commands on this stack, first: set -a; . {path}; set +a)" if path else ""


def banner(settings: Settings) -> str:
    web_url = f"http://{settings.http_host}:{settings.http_port}"
    creds = seat_credentials(settings, roster_seat_ids())
    seats = "  ".join(f"{c.seat_id}:{c.password}" for c in creds[:4])
    password = bootstrap_password(settings)
    admin = (f"user {BOOTSTRAP_ADMIN}  password {password}   (from CALLCENTER_"
             f"{'ADMIN' if settings.admin_secret else 'SESSION'}_SECRET)") if password else \
        "none: set CALLCENTER_SESSION_SECRET or run `callcenter seed` / `callcenter users add`"
    return f"""
================ 12345 contact center is up ================
 log in             {web_url}/login   bootstrap admin: {admin}
 add hall users     .venv/bin/callcenter users add li --role supervisor   (agent: --agent-id 1001,
                    department handler: --role dept --department market)
 supervisor board   {web_url}/board
 agent desktop      {web_url}/agent?seat=seat01
 department desk    {web_url}/dept
 dispatch desk      {web_url}/dispatch   (派单台: tickets the classifier left to the hall)
 REST API (OpenAPI) {web_url}/api/openapi.json
 health             {web_url}/health
 Asterisk ARI       {settings.ari_url}/ari  (user {settings.ari_user})
 MQTT               {settings.mqtt_host}:{settings.mqtt_port}  {_mqtt_users(settings)}
 Redis              {_redis_where(settings)}
 FastAGI IVR        agi://{settings.agi_host}:{settings.agi_port}/ivr
 SIP registrar      udp 127.0.0.1:{settings.sip_port}  seats seat01..seat{len(creds):02d}
   e.g. {seats} ...   (all: .venv/bin/callcenter seats)
 a softphone:  baresip with an accounts line
   <sip:seat01@127.0.0.1:{settings.sip_port}>;auth_pass={creds[0].password};answermode=auto
 a test call:  .venv/bin/callcenter call 12345 --dtmf 0     (a simulated citizen pressing 0, 转人工: to an agent at once)
 health check: .venv/bin/callcenter doctor --call{_cli_env()}
 Ctrl-C stops everything this command started.
=============================================================
"""


async def run_stack(settings: Settings, *, sandbox: bool) -> int:
    inst = None
    if sandbox:
        from callcenter.infra.sandbox import start_instance

        inst = await asyncio.to_thread(start_instance, settings, roster_seat_ids())
    runner = web.AppRunner(build_app(settings), handle_signals=False)
    try:
        await runner.setup()
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        print(banner(settings), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()
        if inst is not None:
            await asyncio.to_thread(inst.stop)
    return 0
