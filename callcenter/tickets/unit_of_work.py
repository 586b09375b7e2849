"""The unit of work of a ticket use case (cosmicpython's pattern): one connection from the pool,
its transaction, the repository of ticket rows on it, and the dispatch feature's checks.

``async with uow_factory() as uow:`` commits on success and rolls back on an error. Filing a
ticket takes a unit without a transaction (``atomic=False``): its number is taken by a statement
of its own (the day counter row stays locked for that statement only) and the ticket is written by
one statement; :meth:`UnitOfWork.transaction` makes the steps that must commit together atomic.
Reads take one without a transaction as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

import asyncpg
from asyncpg.transaction import Transaction

from callcenter.tickets.config import TicketConfig
from callcenter.tickets.errors import FieldError
from callcenter.tickets.ports import Dispatch
from callcenter.tickets.repository import TicketRepository


class UnitOfWork:
    def __init__(self, pool: asyncpg.Pool, dispatch: Dispatch, config: TicketConfig, *, atomic: bool = True) -> None:
        self.pool, self.dispatch, self.config, self.atomic = pool, dispatch, config, atomic
        self._conn: asyncpg.Connection | None = None
        self._tx: Transaction | None = None

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self.pool.acquire()
        try:
            if self.atomic:
                self._tx = self._conn.transaction()
                await self._tx.start()
        except BaseException:
            await self.pool.release(self._conn)
            raise
        self.tickets = TicketRepository(self._conn, self.config)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if self._tx is not None:
                if exc is None:
                    await self._tx.commit()
                else:
                    await self._tx.rollback()
        finally:
            conn, self._conn, self._tx = self._conn, None, None
            await self.pool.release(conn)

    @property
    def conn(self) -> asyncpg.Connection:
        """The unit's connection (for the reads of :mod:`.lists` and the other features' reads)."""
        assert self._conn is not None, "use the unit of work inside `async with`"
        return self._conn

    def transaction(self) -> Transaction:
        """An atomic step inside a unit taken with ``atomic=False``."""
        return self.conn.transaction()

    # ------------------------------------------------------------------ checks (422 naming the field)

    def check_department(self, field: str, code: str | None) -> None:
        if code is not None and not self.dispatch.knows_unit(code):
            raise FieldError(field, f"unknown department {code!r}")

    def check_departments(self, lead: str | None, assisting: Iterable[str] | None = ()) -> None:
        self.check_department("lead", lead)
        for code in assisting or ():
            self.check_department("assisting", code)

    def check_refs(self, body: Any) -> None:
        """Topics and departments named in a request must exist."""
        for code in getattr(body, "topics", ()) or ():
            if not self.dispatch.knows_topic(code):
                raise FieldError("topics", f"unknown topic {code!r}")
        self.check_departments(getattr(body, "lead", None), getattr(body, "assisting", ()))
        if (article := getattr(body, "article", None)) is not None:
            self.check_department("article.unit", article.unit)
