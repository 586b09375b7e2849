"""The retention sweeper: stored recordings older than `CALLCENTER_RECORDING_RETENTION_DAYS`
(default 180) are deleted unless a ticket of their call holds them (an open complaint, 效能 case
or reopened ticket: model.hold_reason, the tickets asked through their api); each deletion and
each new hold is in the audit log, the row stays (state `deleted`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from callcenter.accounts.api import Audit
from callcenter.calls.api import CallTickets
from callcenter.infra.logging import get_logger
from callcenter.recordings.model import Recording, TicketFact, sweep
from callcenter.recordings.storage import Store, StoreError
from callcenter.recordings.store import RecordingStore

log = get_logger("recordings.retention")

ACTOR = "system:recording-retention"


def facts_by_call(rows: list[dict[str, Any]]) -> dict[str, list[TicketFact]]:
    out: dict[str, list[TicketFact]] = {}
    for r in rows:
        out.setdefault(r["call_id"], []).append(TicketFact(
            r["call_id"], r["number"], r["kind"], bool(r["open"]), int(r.get("reopen_count") or 0),
            r.get("lead_department"), r.get("category"), tuple(r.get("assisting") or ())))
    return out


class Retention:
    def __init__(self, store: RecordingStore, files: Store, audit: Audit, tickets: CallTickets, *,
                 days: int, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store, self.files, self.audit, self.tickets = store, files, audit, tickets
        self.days, self.clock = days, clock
        self.page = 500  # parts read per query
        self.deleted = self.held = 0

    async def run_once(self) -> dict[str, int]:
        """Sweep every expired part, page by page (a page of parts still held does not stop the
        sweep of the ones after it)."""
        before, after = self.clock() - timedelta(days=self.days), None
        deleted = held = 0
        while rows := await self.store.expired(before, after, limit=self.page):
            d, h = await self._sweep(rows)
            deleted, held = deleted + d, held + h
            after = (rows[-1].started_at, rows[-1].id)
        self.deleted += deleted
        if deleted or held:
            log.info("recording_retention", deleted=deleted, held=held)
        return {"deleted": deleted, "held": held}

    async def _sweep(self, rows: list[Recording]) -> tuple[int, int]:
        facts = facts_by_call(await self.tickets(self.store.pool, sorted({r.call_id for r in rows})))
        plan = sweep(rows, facts)
        by_id = {r.id: r for r in rows}
        for rec_id, why in plan.hold:
            if await self.store.hold(rec_id, why):
                rec = by_id[rec_id]
                await self.audit.write(ACTOR, "recording_held", rec.call_id, part=rec.part, reason=why)
            self.held += 1
        deleted = 0
        for rec_id in plan.delete:
            rec = by_id[rec_id]
            try:  # the file first: a row marked deleted is never swept again
                if rec.storage_key:
                    await self.files.delete(rec.storage_key)
            except StoreError as exc:
                log.error("recording_delete_failed", call_id=rec.call_id, part=rec.part, error=str(exc))
                continue
            why = f"retention {self.days} days"
            if not await self.store.deleted(rec_id, why):
                continue  # another sweep marked it (and audited it) first
            await self.audit.write(ACTOR, "recording_deleted", rec.call_id, part=rec.part, key=rec.storage_key,
                                   reason=why, started_at=rec.started_at.isoformat())
            deleted += 1
        return deleted, len(plan.hold)
