"""Turns resolved tickets and missed calls into durable jobs (an adapter: the rules are in
`model.py`). Run every round of the dialler; idempotent, so a restart or a second controller
only finds nothing new.

- Ticket surveys: every ticket in status 办结 without a job for its current round (its
  `reopen_count`: a ticket re-handled after a bad review is surveyed again).
- Mass incidents (热点诉求): every citizen linked to an incident closed with its master ticket
  gets a callback about the master (kind ``incident``), one per phone. A ticket the detector
  linked to the incident that was resolved on its own (no agent merged it) would be owed a
  second one: per phone and round only the callback scheduled first is made, the other is
  recorded closed with the reason (`Reason.INCIDENT_CALLBACK` / `Reason.TICKET_CALLBACK`).
- Missed calls: calls of the last `missed_lookback_hours` with an abandon disposition and no
  job yet; a caller who called in again since gets a cancelled job ("already served"), a second
  abandon of a number that already has an open callback a cancelled duplicate.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from callcenter.infra.logging import get_logger
from callcenter.surveys.model import (
    Calendar,
    MissedCall,
    MissedCallPolicy,
    NoCallback,
    Reason,
    ResolvedTicket,
    SurveyPolicy,
)
from callcenter.surveys.results import ResultSink
from callcenter.surveys.store import SurveyStore

log = get_logger("surveys.scheduler")

DUPLICATE = "重复漏话"


class Scheduler:
    def __init__(self, store: SurveyStore, survey: SurveyPolicy, missed: MissedCallPolicy | None,
                 calendar: Calendar, results: ResultSink | None = None, *, lookback_hours: float = 24,
                 missed_by_agent: bool = False) -> None:
        self.store, self.survey, self.missed, self.calendar = store, survey, missed, calendar
        self.results = results
        self.missed_by_agent = missed_by_agent  # 漏话回拨 through an agent (the ACD), not a message
        self.lookback = timedelta(hours=lookback_hours)

    async def run(self, now: datetime) -> dict[str, int]:
        counts = {"tickets": await self.tickets(now), "incidents": await self.incidents(now)}
        counts["stale"] = await self.store.cancel_stale_tickets(now)
        if self.missed is not None:
            counts["missed"] = await self.missed_calls(now)
            counts["served"] = len(await self.store.cancel_served(now))
        return counts

    async def tickets(self, now: datetime) -> int:
        added = 0
        while rows := await self.store.ticket_candidates(now):
            jobs = [self._ticket_job(r, covered=Reason.INCIDENT_CALLBACK if r["covered"] else None) for r in rows]
            for j in jobs:  # no callback due: the close is owed to the ticket with the job (results.py)
                j["result_step"] = 0 if j["state"] == "closed" and self.results is not None else None
            new = await self.store.add_jobs(jobs, now)
            added += len(new)
            if self.results is not None:
                for j in new:
                    if j["state"] == "closed":  # the ticket closes with the reason
                        await self.results.closed(j["id"], j["ticket_number"], j["reason"], now)
            if not new:
                break
        return added

    async def incidents(self, now: datetime) -> int:
        """Every citizen linked to a mass incident closed with its master ticket: the callback
        about the master (one job per phone; the unique index keeps a re-run from adding more)."""
        added = 0
        while rows := await self.store.incident_candidates(now, now - self.lookback):
            jobs = [self._ticket_job(r, incident=True,
                                     covered=Reason.TICKET_CALLBACK if r["ticket_covered"] else None)
                    | {"kind": "incident"} for r in rows]
            new = await self.store.add_jobs(jobs, now)
            added += len(new)
            if not new:
                break
        if added:
            log.info("incident_callbacks_scheduled", jobs=added)
        return added

    def _ticket_job(self, r: Any, incident: bool = False, covered: Reason | None = None) -> dict[str, Any]:
        """The job for a resolved ticket, or for a citizen linked to an incident (`incident`: the
        automated survey about the master ticket; the person rules are about a citizen's own
        ticket). `covered`: the citizen already has the other callback of this round, so this
        one is closed with that reason."""
        t = ResolvedTicket(r["number"], r["caller_phone"] or "", r["resolved_at"], r["lead_department"],
                           r["district"], needs_person=not incident and r["by_person"],
                           kind=None if incident else r["kind"], reopens=0 if incident else r["reopen_count"])
        plan = self.survey.plan(t, opted_out=r["opted_out"], blacklisted=r["blacklisted"], calendar=self.calendar)
        if covered is not None and not isinstance(plan, NoCallback):
            plan = NoCallback(covered)
        job = {"kind": "ticket", "ticket_number": t.number, "round": r["reopen_count"], "phone": t.phone,
               "department": t.department, "district": t.district, "max_attempts": self.survey.max_attempts,
               "by_agent": t.needs_person}
        if isinstance(plan, NoCallback):
            return job | {"state": "closed", "reason": plan.reason.value}
        return job | {"state": "pending", "due_at": plan.due, "deadline": plan.deadline,
                      "max_attempts": plan.max_attempts, "by_agent": plan.by_person}

    async def missed_calls(self, now: datetime) -> int:
        assert self.missed is not None
        policy = self.missed
        rows = await self.store.missed_candidates(now, now - self.lookback, sorted(policy.dispositions))
        jobs: list[dict[str, Any]] = []
        open_phones: set[str] = set()
        for r in rows:
            call = MissedCall(r["call_id"], r["caller"] or "", r["entered_at"], r["ended_at"], r["disposition"])
            if not policy.eligible(call, blacklisted=r["blacklisted"], opted_out=r["opted_out"]):
                continue
            job = {"kind": "missed", "call_id": call.call_id, "round": 0, "phone": call.caller,
                   "max_attempts": policy.max_attempts, "by_agent": self.missed_by_agent}
            if policy.cancelled_by(call, r["later_call"]):
                jobs.append(job | {"state": "cancelled", "reason": Reason.SERVED.value})
            elif call.caller in open_phones:
                jobs.append(job | {"state": "cancelled", "reason": DUPLICATE})
            else:
                plan = policy.plan(call, self.calendar)
                open_phones.add(call.caller)
                jobs.append(job | {"state": "pending", "due_at": plan.due, "deadline": plan.deadline})
        if any(j["state"] == "pending" for j in jobs):
            busy = await self.store.open_missed_phones([j["phone"] for j in jobs if j["state"] == "pending"])
            for j in jobs:
                if j["state"] == "pending" and j["phone"] in busy:
                    j.update(state="cancelled", reason=DUPLICATE, due_at=None, deadline=None)
        n = len(await self.store.add_jobs(jobs, now))
        if n:
            log.info("missed_calls_scheduled", jobs=n)
        return n
