"""The outbound dialler: every `poll_s` it schedules new work, recovers a dead worker's
attempts, and starts due calls, while

- at most `max_concurrent` outbound calls are up (this dialler's own);
- **inbound always wins**: while a caller waits in an inbound queue for `inbound_wait_s` or
  more (the ACD's live queue in Redis), no new outbound call starts;
- only inside the kind's calling hours (a row due at 19:59 and reached at 20:01 waits).

Each attempt is originated like the ACD's callback legs (`Local/<number>@outbound/n`, G.711
`TRUNK_FORMATS`, caller id 12345) with the attempt's deterministic channel id, so Asterisk
refuses a second originate of the same attempt.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from callcenter.infra.ari import TRUNK_FORMATS, AriClient, AriError, AriUnavailable
from callcenter.infra.logging import get_logger
from callcenter.infra.redis import LiveState
from callcenter.surveys.agentcalls import AgentCallbacks, AgentCallOptions, AgentDialling
from callcenter.surveys.model import Calendar, MissedCallPolicy, Outcome, Reason, SurveyPolicy
from callcenter.surveys.results import ResultSink
from callcenter.surveys.scheduler import Scheduler
from callcenter.surveys.script import digits_prompts
from callcenter.surveys.stasis import SurveyCalls
from callcenter.surveys.store import Claimed, SurveyStore, lease_until

log = get_logger("surveys.dialler")


async def inbound_waiting(live: LiveState, now: datetime, threshold_s: float) -> int:
    """Callers in the inbound queues (not those holding a callback) waiting >= threshold_s,
    from the ACD's live queue in Redis (the board's `live_view` reads the same hash)."""
    n = 0
    for doc in (await live.all("queue")).values():
        if doc.get("callback"):
            continue
        try:
            entered = datetime.fromisoformat(str(doc.get("entered_at")))
        except ValueError:
            continue
        n += (now - entered).total_seconds() >= threshold_s
    return n


class Dialler:
    def __init__(self, store: SurveyStore, ari: AriClient, calls: SurveyCalls, scheduler: Scheduler,
                 results: ResultSink, *, app: str, survey: SurveyPolicy, missed: MissedCallPolicy | None,
                 calendar: Calendar, max_concurrent: int, ring_timeout_s: int = 30, lease_s: float = 60,
                 caller_id: str = "12345", inbound_busy: Callable[[datetime], Awaitable[bool]] | None = None,
                 clock: Callable[[], datetime] | None = None, worker: str | None = None,
                 prompts: set[str] | None = None, acd: Callable[[], AgentCallbacks | None] | None = None,
                 agent_calls: AgentCallOptions = AgentCallOptions()) -> None:
        self.store, self.ari, self.calls, self.scheduler, self.results = store, ari, calls, scheduler, results
        self.app, self.survey, self.missed, self.calendar = app, survey, missed, calendar
        self.max_concurrent, self.ring_timeout_s, self.lease_s = max_concurrent, ring_timeout_s, lease_s
        self.caller_id = caller_id
        self.inbound_busy = inbound_busy
        self.clock = clock or (lambda: datetime.now(UTC))
        self.worker = worker or f"dialler-{uuid.uuid4().hex[:8]}"
        self.prompts = prompts  # the prompts that exist (None: assume all do)
        self.inflight: dict[str, Claimed] = {}
        self.paused_by_inbound = False
        self.dialled = 0  # originates sent (for tests and /health-like reads)
        # agent-driven callbacks through the ACD (`acd`: the ACD service, when it runs)
        self.agents = None if acd is None else AgentDialling(
            store, acd, self.ended, self.inflight.get, queue=agent_calls.queue, priority=agent_calls.priority,
            wait_s=agent_calls.wait_s, result_wait_s=agent_calls.result_wait_s, clock=self.clock)

    # ------------------------------------------------------------------ the round

    async def tick(self) -> None:
        now = self.clock()
        await self.scheduler.run(now)
        reachable = await self.recover(now)
        await self.store.renew(list(self.inflight), lease_until(now, self.lease_s))
        if self.agents is not None:
            await self.agents.tick(now, self.inflight)
        if reachable:  # Asterisk away: no new claims until the released attempts have gone out
            await self.start_due(now)
        await self.results.retry(now)  # results a failure left owed to their tickets

    async def start_due(self, now: datetime) -> int:
        started = 0
        while len(self.inflight) < self.max_concurrent:
            if self.inbound_busy is not None and await self.inbound_busy(now):
                if not self.paused_by_inbound:
                    log.info("outbound_paused_for_inbound")
                self.paused_by_inbound = True
                break
            self.paused_by_inbound = False
            free = self.max_concurrent - len(self.inflight)
            # stamped when claimed, not with the tick's start: attempts that ended during this
            # tick's awaits were stamped later, and the stored spans would overlap past the limit
            at = self.clock()
            batch = await self.store.claim_many(at, self.worker, self.open_kinds(at), free, self.lease_s)
            for i, claimed in enumerate(batch):
                if not await self.dial(claimed):  # Asterisk unreachable: no more claims this round
                    await self.store.release([c.channel_id for c in batch[i + 1:]], self.clock())
                    return started + i
            started += len(batch)
            if len(batch) < free:
                break
        return started

    def open_kinds(self, now: datetime) -> list[str]:
        kinds = ["ticket", "incident"] if self.survey.hours.contains(now, self.calendar) else []
        if self.missed is not None and self.missed.hours.contains(now, self.calendar):
            kinds.append("missed")
        return kinds

    async def dial(self, c: Claimed) -> bool:
        """False when Asterisk could not be reached: our outage, not the citizen's failed attempt.
        The attempt is released unspent; `recover` dials it again under the same number."""
        if c.by_agent and self.agents is not None:
            await self.dial_agent(c, self.agents)
            return True
        self.inflight[c.channel_id] = c
        self.calls.expect(c.channel_id, self.intro(c), {"job_id": c.job_id, "kind": c.kind}, on_end=self.ended)
        try:
            await self.ari.post("/channels", endpoint=f"Local/{c.phone}@outbound/n", app=self.app,
                                appArgs=f"survey,{c.job_id},{c.attempt}", channelId=c.channel_id,
                                callerId=self.caller_id, formats=TRUNK_FORMATS, timeout=self.ring_timeout_s,
                                idempotent=False)
        except AriError as exc:
            if exc.status == 409 and c.dialled is False:  # resumed: the dead worker's originate did leave
                log.warning("survey_attempt_was_dialled", job_id=c.job_id, attempt=c.attempt)
                await self.store.dialled(c.channel_id, self.clock())
                return True
            self.calls.forget(c.channel_id)
            if isinstance(exc, AriUnavailable):
                log.warning("survey_dial_deferred", job_id=c.job_id, attempt=c.attempt, error=exc.message)
                self.inflight.pop(c.channel_id, None)
                await self.store.release([c.channel_id], self.clock())
                return False
            log.warning("survey_dial_failed", job_id=c.job_id, attempt=c.attempt, status=exc.status,
                        error=exc.message)
            await self.ended(c.channel_id, Outcome.FAILED, {})
            return True
        self.dialled += 1
        await self.store.dialled(c.channel_id, self.clock())
        log.info("survey_dialled", job_id=c.job_id, kind=c.kind, attempt=c.attempt, phone=c.phone)
        return True

    async def dial_agent(self, c: Claimed, agents: AgentDialling) -> None:
        """An agent talks: the ACD reserves one, then dials the citizen (`agentcalls`)."""
        self.inflight[c.channel_id] = c
        if not await agents.dial(c):
            await self.ended(c.channel_id, Outcome.FAILED, {})
            return
        self.dialled += 1
        await self.store.dialled(c.channel_id, self.clock())
        log.info("survey_agent_callback_requested", job_id=c.job_id, kind=c.kind, attempt=c.attempt)

    def intro(self, c: Claimed) -> tuple[str, ...]:
        if c.kind not in ("ticket", "incident") or not c.ticket_number:  # incident: about its master
            return ("missed_intro",)
        dept = f"dept_{c.department}" if c.department else "dept_generic"
        if self.prompts is not None and dept not in self.prompts:  # a unit added to the catalogue later
            dept = "dept_generic"
        return ("survey_intro", *digits_prompts(c.ticket_number.split("-", 1)[-1]), "survey_dept", dept,
                "survey_dept_end")

    async def ended(self, channel: str, outcome: Outcome, answers: dict[str, Any]) -> None:
        c = self.inflight.pop(channel, None)
        if c is None:
            return
        now = self.clock()
        if outcome is Outcome.CANCELLED:  # an agent callback withdrawn: the caller called in again
            if await self.store.cancel_attempt(c, outcome, Reason.SERVED.value, now):
                log.info("survey_attempt_cancelled", job_id=c.job_id, attempt=c.attempt)
            return
        if c.kind == "missed" and outcome is Outcome.COMPLETED:
            answers = {}  # a missed-call callback: reaching the caller is the result
        policy = self.survey if c.kind in ("ticket", "incident") else (self.missed or self.survey)
        step = policy.after_attempt(outcome, c.attempt, c.deadline or now, now, self.calendar, c.max_attempts)
        stored = await self.store.finish(c, outcome, step, now, answers)
        if stored is not None:  # the answers it ended with (perhaps entered on the desk meanwhile)
            log.info("survey_attempt_ended", job_id=c.job_id, attempt=c.attempt, outcome=outcome.value,
                     next=type(step).__name__)
            await self.results.attempt_done(c, outcome, step, stored, now)

    # ------------------------------------------------------------------ crash recovery

    async def recover(self, now: datetime) -> bool:
        """Attempts of a dead worker (lease passed, no outcome): never dialled -> dial now under the
        same number (within `max_concurrent`: the rest wait, stale, for a later round; none while
        Asterisk cannot be reached); dialled -> hang up what is left and end it as interrupted."""
        for c in await self.store.stale_attempts(now):
            if c.channel_id in self.inflight or (not c.dialled and len(self.inflight) >= self.max_concurrent):
                continue
            if not await self.store.adopt(c.channel_id, self.worker, lease_until(now, self.lease_s), now):
                continue
            if not c.dialled:
                log.warning("survey_attempt_resumed", job_id=c.job_id, attempt=c.attempt)
                if not await self.dial(c):
                    return False
                continue
            await self.ari.safe(self.ari.delete(f"/channels/{c.channel_id}"))
            self.inflight[c.channel_id] = c
            log.warning("survey_attempt_interrupted", job_id=c.job_id, attempt=c.attempt)
            await self.ended(c.channel_id, Outcome.INTERRUPTED, {})
        return True

    async def run(self, interval: float, active: Callable[[], bool]) -> None:
        while True:
            if active():
                try:
                    await self.tick()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("dialler_round_failed")
            await asyncio.sleep(interval)
