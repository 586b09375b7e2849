"""`callcenter` command line: run, migrate, seed, doctor, sandbox, prompts, seats, users, ivr check,
dispatch, report."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys

from callcenter.infra.settings import Settings, SettingsError, load_settings


class Fatal(Exception):
    """A start-up problem reported as one clear line, never a traceback."""


def _explain(exc: BaseException, settings: Settings | None) -> str:
    import asyncpg
    import redis.exceptions

    from callcenter.infra.ari import AriError
    from callcenter.infra.errors import StartupError
    from callcenter.infra.sandbox import SandboxError

    if isinstance(exc, SettingsError | SandboxError | Fatal | StartupError):
        return str(exc)
    if isinstance(exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
        return f"PostgreSQL refused the credentials in CALLCENTER_DATABASE_URL: {exc}"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"PostgreSQL database missing ({exc}); run `make setup` or `callcenter migrate`"
    if isinstance(exc, ConnectionRefusedError | OSError) and "5432" in str(exc):
        return f"PostgreSQL unreachable: {exc} (CALLCENTER_DATABASE_URL)"
    if isinstance(exc, redis.exceptions.ConnectionError):
        return f"Redis unreachable at {settings.redis_url if settings else '?'}: {exc}"
    if isinstance(exc, AriError) and exc.status == 401:
        return "ARI refused the user/password (CALLCENTER_ARI_USER / CALLCENTER_ARI_PASSWORD)"
    if isinstance(exc, OSError) and "already in use" in str(exc).lower():
        return _port_taken(exc, settings)
    if isinstance(exc, OSError | asyncio.TimeoutError):
        return f"cannot connect: {exc} (is PostgreSQL/Redis/Mosquitto running? try `callcenter doctor`)"
    return f"{type(exc).__name__}: {exc}"


def _port_taken(exc: OSError, settings: Settings | None) -> str:
    """Name the setting of the port that is taken (asyncio's message carries the address)."""
    m = re.search(r"\(\s*'[^']*',\s*(\d+)\s*\)|:(\d+)\b", str(exc))
    port = int(m.group(1) or m.group(2)) if m else None
    names = {settings.http_port: "CALLCENTER_HTTP_PORT (the web server)",
             settings.agi_port: "CALLCENTER_AGI_PORT (the FastAGI IVR)"} if settings else {}
    what = names.get(port) if port is not None else None
    where = f"port {port}" if port is not None else "a port"
    fix = f"set {what}" if what else "choose another port"
    return f"{where} is taken by another process (another `callcenter run`?): stop it or {fix}"


async def _migrate(settings: Settings) -> list[int]:
    import asyncpg

    from callcenter.infra import db

    conn = await asyncpg.connect(settings.database_url, timeout=5)
    try:
        return await db.migrate(conn)
    finally:
        await conn.close()


def cmd_migrate(settings: Settings, args) -> int:
    applied = asyncio.run(_migrate(settings))
    print(f"migrations applied: {applied or 'none (up to date)'}")
    return 0


def cmd_seed(settings: Settings, args) -> int:
    from callcenter.seed import seed

    print(asyncio.run(seed(settings)))
    return 0


def cmd_seats(settings: Settings, args) -> int:
    from callcenter.infra.asterisk_conf import seat_credentials
    from callcenter.stack import roster_seat_ids

    host = settings.sip_external_address or ("<this host>" if settings.sip_bind == "0.0.0.0" else settings.sip_bind)
    tls = f", TLS {host}:{settings.sip_tls_port}" if settings.sip_tls_port else ""
    print(f"SIP registrar {host}:{settings.sip_port} (UDP{tls}); user = seat id, password below")
    for c in seat_credentials(settings, roster_seat_ids()):
        print(f"  {c.seat_id}  {c.password}")
    return 0


def cmd_sandbox(settings: Settings, args) -> int:
    from callcenter.infra.prompts import install_prompts
    from callcenter.infra.sandbox import build_root

    root = build_root(settings.asterisk_cache)
    n = install_prompts(root)
    print(f"sandbox ready at {root} ({n} prompts rendered)")
    return 0


def cmd_asterisk_config(settings: Settings, args) -> int:
    """Render the Asterisk config and prompts for a container (compose's asterisk-config job)."""
    from pathlib import Path

    from callcenter.infra.asterisk_conf import render_all
    from callcenter.infra.prompts import render_prompts
    from callcenter.stack import roster_seat_ids

    out = Path(args.dir)
    if not out.is_absolute():
        raise Fatal(f"{args.dir}: give the absolute path Asterisk sees (e.g. /srv/callcenter/docker)")
    for sub in ("etc", "run", "spool", "spool/recording", "log", "db", "sounds"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    files = render_all(settings, out / "etc", str(out), roster_seat_ids())
    n = render_prompts(out / "sounds")
    print(f"asterisk config: {len(files)} files in {out}/etc, {n} prompts rendered into {out}/sounds")
    return 0


def cmd_doctor(settings: Settings, args) -> int:
    from callcenter.doctor import run_doctor

    return asyncio.run(run_doctor(settings, call=args.call, deploy=args.deploy))


def cmd_ivr_check(settings: Settings, args) -> int:
    """Flows by the flow validator plus the prompt-length limits, the line map by its schema."""
    from pathlib import Path

    from callcenter.ivr.cli import check_files

    return check_files(args.files, settings, measure=not args.no_audio,
                       sounds=Path(args.sounds) if args.sounds else None,
                       complain=lambda line: print(line, file=sys.stderr))


def cmd_call(settings: Settings, args) -> int:
    """Place a simulated citizen call (a Local channel into from-trunk) on the running stack."""
    import uuid

    from callcenter.infra.ari import TRUNK_FORMATS, AriClient

    async def place() -> str:
        cid = f"cli-{uuid.uuid4().hex[:10]}"
        async with AriClient(settings.ari_url, settings.ari_user, settings.ari_password, settings.ari_app) as ari:
            await ari.post("/channels", endpoint=f"Local/{args.dnis}@from-trunk", context="citizen-sim",
                           extension="s", priority=1, formats=TRUNK_FORMATS, channelId=cid, callerId=args.caller,
                           body={"variables": {"DTMF": args.dtmf, "WAIT_BEFORE": str(args.wait),
                                               "HOLD_FOR": str(args.hold)}})
        return cid

    cid = asyncio.run(place())
    print(f"placed citizen call {cid} to {args.dnis} (DTMF {args.dtmf or '-'}); watch the board and the log")
    return 0


def cmd_users(settings: Settings, args) -> int:
    from callcenter.accounts.cli import UsersCliError, run

    try:
        print(asyncio.run(run(settings, args)))
    except UsersCliError as exc:
        raise Fatal(str(exc)) from None
    return 0


def cmd_report(settings: Settings, args) -> int:
    """The daily report (日报): figures, trend and per-department bars as one PNG/PDF."""
    from datetime import date, datetime, timedelta
    from pathlib import Path

    from callcenter.surveys.config import load_survey_settings
    from callcenter.surveys.model import SHANGHAI
    from callcenter.surveys.report import daily_report

    day = date.fromisoformat(args.day) if args.day else datetime.now(SHANGHAI).date() - timedelta(days=1)
    out = Path(args.out or f"12345-日报-{day:%Y-%m-%d}.png")
    scale = load_survey_settings().scale_()
    print(f"daily report written to {asyncio.run(daily_report(settings.database_url, day, out, scale, args.days))}")
    return 0


def cmd_run(settings: Settings, args) -> int:
    from callcenter.stack import run_stack

    return asyncio.run(run_stack(settings, sandbox=args.sandbox))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="callcenter", description="12345 hotline contact-center backend")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run", help="start the controller, IVR and web server")
    p.add_argument("--sandbox", action="store_true", help="also start the Asterisk sandbox instance")
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("call", help="place a simulated citizen call on the running stack")
    p.add_argument("dnis", help="dialled number, e.g. 12345 or 12315")
    p.add_argument("--dtmf", default="", help="digits the citizen presses (w = 0.5 s pause)")
    p.add_argument("--caller", default="13800000001")
    p.add_argument("--wait", type=float, default=2.0, help="seconds before pressing")
    p.add_argument("--hold", type=float, default=60.0, help="seconds the citizen stays on the line")
    p.set_defaults(fn=cmd_call)
    sub.add_parser("migrate", help="apply database migrations (idempotent)").set_defaults(fn=cmd_migrate)
    sub.add_parser("seed", help="load departments, seats and agents").set_defaults(fn=cmd_seed)
    sub.add_parser("seats", help="print seat SIP credentials").set_defaults(fn=cmd_seats)
    sub.add_parser("sandbox", help="build the Asterisk sandbox and render prompts").set_defaults(fn=cmd_sandbox)
    p = sub.add_parser("doctor", help="check every dependency and say how to fix what is wrong")
    p.add_argument("--call", action="store_true", help="also place a self-test call through Stasis")
    p.add_argument("--deploy", action="store_true",
                   help="a deployed service (container health check): skip the developer tools and sandbox")
    p.set_defaults(fn=cmd_doctor)
    p = sub.add_parser("asterisk-config", help="render Asterisk's config and prompts into DIR (containers)")
    p.add_argument("dir", help="absolute directory Asterisk uses, e.g. /srv/callcenter/docker")
    p.set_defaults(fn=cmd_asterisk_config)

    from callcenter.accounts.cli import add_parser as add_users_parser

    add_users_parser(sub).set_defaults(fn=cmd_users)
    p = sub.add_parser("report", help="the daily report (日报) of callbacks and satisfaction as PNG/PDF")
    p.add_argument("--day", help="local date, default yesterday")
    p.add_argument("--days", type=int, default=14, help="days in the trend plot")
    p.add_argument("--out", help="file (.png or .pdf), default 12345-日报-<day>.png")
    p.set_defaults(fn=cmd_report)
    ivr = sub.add_parser("ivr", help="IVR tools").add_subparsers(dest="ivr_cmd", required=True)
    p = ivr.add_parser("check", help="validate IVR flows (and their prompt lengths) and the merged-line map")
    p.add_argument("files", nargs="+", help="flow files and merged_lines.yaml, e.g. ivr_flows/*.yaml")
    p.add_argument("--sounds", help="directory of recorded prompts (<name>.wav) to measure instead of the texts")
    p.add_argument("--no-audio", action="store_true", help="skip rendering and measuring the prompts")
    p.set_defaults(fn=cmd_ivr_check)
    from callcenter.dispatch.cli import add_parser as add_dispatch

    add_dispatch(sub)
    args = parser.parse_args(argv)

    from callcenter.infra.logging import configure_logging

    settings = None
    try:
        settings = load_settings()
        configure_logging(settings.log_format, settings.log_level)
        return args.fn(settings, args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear line for the operator, not a traceback
        print(f"callcenter {args.cmd}: error: {_explain(exc, settings)}", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        # everything was closed by the async context managers; skip interpreter teardown, where
        # third-party finalizers (paho's socket close) print noise about the closed event loop
        os._exit(2)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
