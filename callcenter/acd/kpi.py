"""Hotline KPIs (GB/T 33358-2016 and the municipal definitions).  Any x/0 is None, never an error.

- 人工接通率 answer_rate = answered / inbound                     (target >= 0.95)
- 应答及时率 timely_rate = answered within N s / answered         (N = 15, target >= 0.80)
- abandon_rate = long abandons / (inbound - short abandons); short abandons (< 5 s) are
  reported apart and left out of both numerator and denominator.
- ASA = mean(answered_at - entered_at); AHT = mean(talk + wrap-up)
- occupancy = time on_call + wrap_up / time logged in and not paused
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from callcenter.acd.agents import AgentEvent, AgentState, require_aware

ANSWER_RATE_TARGET = 0.95
TIMELY_RATE_TARGET = 0.80

BUSY_STATES = frozenset({AgentState.ON_CALL, AgentState.WRAP_UP})
STAFFED_STATES = frozenset(AgentState) - {AgentState.LOGGED_OUT, AgentState.PAUSED}


class KpiConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timely_answer_s: float = Field(default=15.0, ge=0)  # answered within (<=) this counts as timely
    short_abandon_s: float = Field(default=5.0, ge=0)  # abandoned before (<) this is a short abandon
    answer_rate_target: float = ANSWER_RATE_TARGET
    timely_rate_target: float = TIMELY_RATE_TARGET


@dataclass(frozen=True, slots=True)
class CallRecord:
    call_id: str
    queue: str
    entered_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    abandoned: bool = False
    agent_id: str | None = None
    wrap_up_s: float = 0.0

    def __post_init__(self) -> None:
        for t in (self.entered_at, self.ended_at, self.answered_at):
            if t is not None:
                require_aware(t)

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def wait_s(self) -> float:
        """Queue wait: to answer, or to the end for unanswered calls."""
        return ((self.answered_at or self.ended_at) - self.entered_at).total_seconds()

    @property
    def talk_s(self) -> float | None:
        return None if self.answered_at is None else (self.ended_at - self.answered_at).total_seconds()


@dataclass(frozen=True, slots=True)
class StateInterval:
    agent_id: str
    state: AgentState
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds())


@dataclass(frozen=True, slots=True)
class KpiReport:
    inbound: int
    answered: int
    timely_answered: int
    abandoned: int  # long abandons only
    short_abandoned: int
    answer_rate: float | None
    timely_rate: float | None
    abandon_rate: float | None
    asa_s: float | None
    aht_s: float | None
    occupancy: float | None
    answer_rate_met: bool | None
    timely_rate_met: bool | None


def ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def _mean(xs: Sequence[float]) -> float | None:
    return ratio(sum(xs), len(xs))


def intervals_from_events(events: Iterable[AgentEvent], until: datetime) -> list[StateInterval]:
    """Turn each agent's transitions into state intervals; the last one is closed at ``until``."""
    require_aware(until)
    by_agent: dict[str, list[AgentEvent]] = {}
    for e in events:
        by_agent.setdefault(e.agent_id, []).append(e)
    out: list[StateInterval] = []
    for agent_id, evs in by_agent.items():
        evs.sort(key=lambda e: e.at)
        for cur, nxt in zip(evs, [*evs[1:], None], strict=True):
            end = nxt.at if nxt is not None else max(until, cur.at)
            if end > cur.at:
                out.append(StateInterval(agent_id, cur.to_state, cur.at, end))
    return out


def _clip(iv: StateInterval, start: datetime | None, end: datetime | None) -> float:
    s = iv.start if start is None else max(iv.start, start)
    e = iv.end if end is None else min(iv.end, end)
    return max(0.0, (e - s).total_seconds())


def occupancy(intervals: Iterable[StateInterval], start: datetime | None = None,
              end: datetime | None = None) -> float | None:
    busy = staffed = 0.0
    for iv in intervals:
        if iv.state in STAFFED_STATES:
            secs = _clip(iv, start, end)
            staffed += secs
            if iv.state in BUSY_STATES:
                busy += secs
    return ratio(busy, staffed)


def compute_kpis(records: Iterable[CallRecord], intervals: Iterable[StateInterval] = (),
                 config: KpiConfig | None = None, *, start: datetime | None = None,
                 end: datetime | None = None, queue: str | None = None) -> KpiReport:
    """KPIs for calls that entered in [start, end) (all when unbounded), optionally one queue;
    agent intervals are clipped to the same window."""
    cfg = config or KpiConfig()
    recs = [r for r in records
            if (queue is None or r.queue == queue)
            and (start is None or r.entered_at >= start) and (end is None or r.entered_at < end)]
    answered = [r for r in recs if r.answered_at is not None]
    waits = [r.wait_s for r in answered]
    timely = sum(1 for w in waits if w <= cfg.timely_answer_s)
    abandons = [r for r in recs if r.abandoned and r.answered_at is None]
    short = sum(1 for r in abandons if r.wait_s < cfg.short_abandon_s)
    long_ = len(abandons) - short
    handle = [(r.talk_s or 0.0) + r.wrap_up_s for r in answered]
    answer_rate = ratio(len(answered), len(recs))
    timely_rate = ratio(timely, len(answered))
    return KpiReport(
        inbound=len(recs),
        answered=len(answered),
        timely_answered=timely,
        abandoned=long_,
        short_abandoned=short,
        answer_rate=answer_rate,
        timely_rate=timely_rate,
        abandon_rate=ratio(long_, len(recs) - short),
        asa_s=_mean(waits),
        aht_s=_mean(handle),
        occupancy=occupancy(intervals, start, end),
        answer_rate_met=None if answer_rate is None else answer_rate >= cfg.answer_rate_target,
        timely_rate_met=None if timely_rate is None else timely_rate >= cfg.timely_rate_target,
    )
