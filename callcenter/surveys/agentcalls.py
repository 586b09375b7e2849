"""Agent-driven callbacks: the attempts of jobs with `by_agent` (漏话回拨 when agent callbacks
are on, and tickets flagged for a person) are not dialled by the dialler. It asks the ACD for a
callback instead (`AgentCallbacks.request_callback`, wired in app.py): the ACD's own routing
reserves an agent first, below every inbound call, then dials the citizen with caller ID 12345
and bridges them. The ACD reports back (`report`, a listener on the ACD service):

- ``connected``: the citizen answered; the agent is stored on the attempt (only they may enter
  a ticket callback's result on the desk);
- ``reached``: a missed call's attempt ends `completed`; a ticket callback ends once the agent
  entered the result (`store.desk_result`), or after `result_wait_s` with no valid answer;
- ``no_answer``: ends by the report's Q.850 `cause` as a survey's own leg would: `busy` (17),
  `no_answer` (19, or no cause: the agent left, the dial was refused) or `failed` (the network
  refused); the job's policy retries or gives up, as for a survey;
- ``agent_gone``: the agent hung up while the citizen's phone rang (the ACD hung the citizen's
  leg up): not reached, by no fault of the citizen's; ends `agent_gone`, which the job's policy
  retries like any attempt that did not reach the citizen (never counted as reached, never
  cancelled);
- ``cancelled``: withdrawn by `tick` before the citizen was dialled: the caller called in again
  (the job is cancelled as "已再次来电"), or no agent took it within `agent_wait_s` (`no_agent`).

Inbound always wins: the requested call ranks below every inbound caller in the ACD's book, and
the dialler starts no new attempt while inbound callers wait.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from callcenter.infra.logging import get_logger
from callcenter.surveys.model import Outcome, unanswered_outcome
from callcenter.surveys.store import Claimed, SurveyStore

log = get_logger("surveys.agentcalls")


class CallbackReport(Protocol):
    """What the ACD tells about a requested callback (callcenter.acd.effects.ReportCallback)."""

    call_id: str
    origin: str
    event: str  # connected | reached | no_answer | agent_gone | cancelled
    agent_id: str | None
    cause: int | None  # no_answer: Q.850 cause of the citizen's last leg (17 busy, 19 no answer)


class AgentCallbacks(Protocol):
    """What the surveys need of the ACD (callcenter.acd.service.AcdService)."""

    async def request_callback(self, call_id: str, number: str, *, origin: str, queue: str = "general",
                               skill: str | None = None, priority: int = -1, max_attempts: int = 1,
                               line: str = "") -> bool: ...

    async def cancel_callback(self, call_id: str) -> bool: ...

    def on_callback_report(self, listener: Callable[[Any], Awaitable[None]]) -> Callable[[], None]: ...


Ended = Callable[[str, Outcome, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class AgentCallOptions:
    """How agent-driven callbacks are asked of the ACD (`CALLCENTER_SURVEY_AGENT_*`)."""

    queue: str = "general"
    priority: int = -1  # below every inbound call (0..9)
    wait_s: float = 900.0  # no agent took it by then: the attempt ends (no_agent)
    result_wait_s: float = 600.0  # a ticket callback's result not entered by then: no valid answer


def origin_of(c: Claimed) -> str:
    return f"{'survey' if c.kind == 'ticket' else 'missed'}:{c.job_id}"


class AgentDialling:
    def __init__(self, store: SurveyStore, acd: Callable[[], AgentCallbacks | None], ended: Ended,
                 claimed: Callable[[str], Claimed | None], *, queue: str = "general", priority: int = -1,
                 wait_s: float = 900.0, result_wait_s: float = 600.0, clock: Callable[[], datetime]) -> None:
        self.store, self.acd, self.ended, self.claimed = store, acd, ended, claimed
        self.queue, self.priority, self.wait_s, self.result_wait_s = queue, priority, wait_s, result_wait_s
        self.clock = clock
        self.waiting: dict[str, datetime] = {}  # requested, citizen not answered yet -> since
        self.awaiting: dict[str, datetime] = {}  # ticket callback reached, result not entered -> since
        self.withdrawing: dict[str, Outcome] = {}  # cancel asked for -> the outcome it ends with

    async def dial(self, c: Claimed) -> bool:
        """Ask the ACD for the callback; False when it cannot take it (not running, refused)."""
        acd = self.acd()
        if acd is None:
            log.warning("agent_callback_no_acd", job_id=c.job_id)
            return False
        try:  # on the line of the call it is about: recorded (and told so) as that line's calls are
            line = await self.store.line_about(c.job_id)
            await acd.request_callback(c.channel_id, c.phone, origin=origin_of(c), queue=self.queue,
                                       priority=self.priority, max_attempts=1, line=line)
        except ValueError as exc:  # AcdError: unknown queue, bad number
            log.warning("agent_callback_refused", job_id=c.job_id, error=str(exc))
            return False
        self.waiting[c.channel_id] = self.clock()
        return True

    async def report(self, r: CallbackReport) -> None:
        channel, event = r.call_id, str(r.event)
        c = self.claimed(channel)
        if c is None or origin_of(c) != r.origin:
            return
        now = self.clock()
        log.info("agent_callback_report", job_id=c.job_id, attempt=c.attempt, report=event, agent=r.agent_id,
                 cause=r.cause)
        if event == "connected":
            self.waiting.pop(channel, None)
            await self.store.agent_talked(channel, r.agent_id, now)
            return
        self.waiting.pop(channel, None)
        if event == "reached" and c.kind == "ticket":
            answers = (await self.store.desk_answers([channel])).get(channel)
            if answers is None:  # the agent enters the result on the desk (wrap-up)
                self.awaiting[channel] = now
                return
            await self.ended(channel, Outcome.COMPLETED, dict(answers))
        elif event == "reached":
            await self.ended(channel, Outcome.COMPLETED, {})
        elif event == "cancelled":
            await self.ended(channel, self.withdrawing.pop(channel, Outcome.CANCELLED), {})
        elif event == "agent_gone":
            await self.ended(channel, Outcome.AGENT_GONE, {})
        else:
            await self.ended(channel, unanswered_outcome(r.cause), {})

    async def tick(self, now: datetime, inflight: Mapping[str, Claimed]) -> None:
        """Withdraw callbacks whose caller called in again or that no agent took in time; end
        ticket callbacks whose result was entered (perhaps on another controller) or is overdue."""
        waiting = [ch for ch in self.waiting if ch in inflight and ch not in self.withdrawing]
        served = await self.store.served_since([ch for ch in waiting if inflight[ch].kind == "missed"])
        for ch in waiting:
            since = self.waiting.get(ch)
            if since is None or ch in self.withdrawing:  # ended (or withdrawn) while the store was asked
                continue
            if ch in served:
                outcome = Outcome.CANCELLED
            elif (now - since).total_seconds() >= self.wait_s:
                outcome = Outcome.NO_AGENT
            else:
                continue
            self.withdrawing[ch] = outcome
            acd = self.acd()
            if acd is None or not await acd.cancel_callback(ch):  # already dialling: runs to its end
                self.withdrawing.pop(ch, None)
        if self.awaiting:
            entered = await self.store.desk_answers(list(self.awaiting))
            for ch, since in list(self.awaiting.items()):
                if ch in entered or (now - since).total_seconds() >= self.result_wait_s:
                    self.awaiting.pop(ch, None)
                    await self.ended(ch, Outcome.COMPLETED, dict(entered.get(ch) or {}))

    async def result_entered(self, channel: str) -> None:
        """The desk stored a result: end the attempt now if its call is over."""
        if channel in self.awaiting:
            await self.tick(self.clock(), {})
