"""What every feature gets from the composition root: the shared parts (`Context`) and the
shape of a feature's plugin (`Plugin`). A low module: it imports infra and the shared call
records/router only, never a feature and never `callcenter.app`.

A plugin is a class, built by `app.py` with the typed services of the features it reads
(e.g. the board gets the ACD's read-only view and the ticket service). It hands its own
services to its routes through `callcenter.infra.web.Provided`, filled in `start()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable

import asyncpg
from aiohttp import web

from callcenter.calls.records import CallRecords
from callcenter.calls.stasis import StasisRouter
from callcenter.infra.ari import AriClient
from callcenter.infra.lease import ControllerLease
from callcenter.infra.mqtt import OutboxRelay
from callcenter.infra.redis import LiveState
from callcenter.infra.settings import Settings


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    live: LiveState
    relay: OutboxRelay
    ari: AriClient
    records: CallRecords
    router: StasisRouter
    lease: ControllerLease


SETTINGS = web.AppKey("settings", Settings)
CONTEXT = web.AppKey("context", Context)


class Plugin(Protocol):
    name: str

    def routes(self, app: web.Application) -> None:
        """Add the feature's HTTP routes (called while the app is built, before it starts)."""

    def start(self, ctx: Context) -> AsyncIterator[None]:
        """An async generator: start the feature's services, `yield` while the app runs, stop them."""


@runtime_checkable
class Seeds(Protocol):
    """A plugin with reference data that `callcenter seed` writes to PostgreSQL (idempotently)."""

    name: str

    async def seed(self, conn: asyncpg.Connection, today: date) -> str:
        """Write the data; return one line saying what was written."""
