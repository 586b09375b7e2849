"""Reading tickets: by number (also for the IVR), searches, department queues, board figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callcenter.tickets import queries
from callcenter.tickets import repository as repo
from callcenter.tickets.actors import Actor, check_department
from callcenter.tickets.core import ServiceBase, utcnow
from callcenter.tickets.errors import NotFound
from callcenter.tickets.views import ivr_status_of


class ReadMixin(ServiceBase):
    async def get(self, number: str) -> repo.Stored:
        full = self.normalise_number(number)
        async with self.pool.acquire() as conn:
            s = await repo.get(conn, full) if full else None
        if s is None:
            raise NotFound(f"no ticket {number}")
        return s

    async def ivr_status(self, number: str) -> str:
        """Status word for the IVR "check my ticket" (see :func:`views.ivr_status_of`), "" when
        not found; a merged ticket answers with the status of the ticket it was merged into."""
        full = self.normalise_number(number)
        if full is None:
            return ""
        async with self.pool.acquire() as conn:
            for _ in range(4):
                s = await repo.get(conn, full)
                if s is None:
                    return ""
                if not s.ticket.merged_into:
                    break
                full = s.ticket.merged_into
        return ivr_status_of(s.ticket)

    async def attachments(self, number: str) -> list[dict[str, Any]]:
        s = await self.get(number)
        async with self.pool.acquire() as conn:
            return await repo.attachments(conn, s.id)

    async def search(self, f: queries.SearchFilter, **page: Any) -> queries.Page:
        async with self.pool.acquire() as conn:
            return await queries.search(conn, f, **page)

    async def queue(self, department: str, *, actor: str, **page: Any) -> queries.Page:
        """Open tickets of a department (lead and/or assisting), earliest deadline first."""
        if department not in self.rules.departments:
            raise NotFound(f"no department {department!r}")
        check_department(Actor.parse(actor), department)
        async with self.pool.acquire() as conn:
            return await queries.department_queue(conn, department, **page)

    async def events(self, number: str, **page: Any) -> tuple[list[dict[str, Any]], str | None]:
        """The audit trail of a ticket, oldest first."""
        s = await self.get(number)
        async with self.pool.acquire() as conn:
            return await queries.events(conn, s.id, **page)

    async def board(self, at: datetime | None = None) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            return await queries.board_stats(conn, at or utcnow())
