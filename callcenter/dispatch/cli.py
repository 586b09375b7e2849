"""`callcenter dispatch ...`: train a new model version, list versions, roll back, evaluate."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from callcenter.infra.settings import Settings


def add_parser(sub: Any) -> None:
    d = sub.add_parser("dispatch", help="learned dispatch: train, versions, rollback, evaluate")
    cmds = d.add_subparsers(dest="dispatch_cmd", required=True)
    p = cmds.add_parser("train", help="retrain on the corpus and the hall's decisions; store and activate")
    p.add_argument("--analyzer", default="char", choices=("char", "jieba", "char+jieba"))
    p.add_argument("--c", type=float, default=None, help="inverse regularisation strength")
    p.add_argument("--no-activate", action="store_true", help="store the version without putting it in force")
    p.set_defaults(fn=cmd_train)
    cmds.add_parser("models", help="list stored model versions").set_defaults(fn=cmd_models)
    p = cmds.add_parser("rollback", help="put a stored version in force again")
    p.add_argument("version", type=int)
    p.set_defaults(fn=cmd_rollback)
    p = cmds.add_parser("propose", help="show the proposal for a request text")
    p.add_argument("text")
    p.add_argument("--kind", default=None)
    p.add_argument("--district", default=None)
    p.set_defaults(fn=cmd_propose)


async def _with_service(settings: Settings, job: Any) -> Any:
    from callcenter.dispatch.service import DispatchService
    from callcenter.infra import db

    pool = await db.create_pool(settings.database_url, max_size=2)
    try:
        async with pool.acquire() as conn:
            await db.migrate(conn)
        svc = DispatchService(pool)
        await svc.refresh()
        return await job(svc)
    finally:
        await pool.close()


def _line(v: Any) -> str:
    m = v.metrics
    return (f"v{v.version}{' *' if v.active else '  '} {v.created_at:%Y-%m-%d %H:%M} by {v.created_by}: "
            f"{m.get('train', '?')} examples ({m.get('hall_examples', 0)} from the hall), threshold {v.threshold:.3f}, "
            f"held-out: {m.get('auto_share', 0):.1%} auto at {m.get('auto_precision', 0):.1%} precision, "
            f"top-1 {m.get('top1', 0):.1%}")


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    from callcenter.dispatch.training import DEFAULT_C

    async def job(svc: Any) -> Any:
        return await svc.retrain("cli", analyzer=args.analyzer, c=args.c or DEFAULT_C, activate=not args.no_activate)

    print(_line(asyncio.run(_with_service(settings, job))))
    return 0


def cmd_models(settings: Settings, args: argparse.Namespace) -> int:
    async def job(svc: Any) -> Any:
        return await svc.versions()

    versions = asyncio.run(_with_service(settings, job))
    print("\n".join(_line(v) for v in versions) if versions else "no dispatch model stored (run `callcenter seed`)")
    return 0


def cmd_rollback(settings: Settings, args: argparse.Namespace) -> int:
    async def job(svc: Any) -> Any:
        return await svc.activate(args.version)

    print("in force: " + _line(asyncio.run(_with_service(settings, job))))
    return 0


def cmd_propose(settings: Settings, args: argparse.Namespace) -> int:
    async def job(svc: Any) -> Any:
        return svc.version, svc.propose(args.text, args.kind, args.district)

    version, d = asyncio.run(_with_service(settings, job))
    print(f"model v{version}: {d.department or 'to a dispatcher'} (by {d.decided_by}, confidence {d.confidence:.2f})")
    for c in d.candidates:
        print(f"  {c.department:22s} {c.probability:.2f}  {' '.join(c.words)}")
    return 0
