"""Queues and the routing policy (pure, in memory, no I/O).

Ordering inside a queue: priority desc, then arrival ``seq`` asc.
Ordering across queues: priority desc, then ``entered_at`` asc (then ``seq``).
Agent choice: longest idle (earliest ``idle_since``), ties by seat id.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from callcenter.acd.agents import Agent, require_aware


class QueueDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    skill: str = Field(min_length=1)
    overflow_after_s: float | None = Field(default=30.0, ge=0)  # None: never overflow
    overflow_skills: tuple[str, ...] = ("general",)
    max_wait_s: float | None = Field(default=120.0, ge=0)  # None: never offer a callback
    announce_every_s: float | None = Field(default=60.0, gt=0)  # None: no position announcements


@dataclass(frozen=True, slots=True)
class QueuedCall:
    call_id: str
    queue: str
    skill: str
    entered_at: datetime
    seq: int
    priority: int = 0  # 0 normal, 5 repeat caller, 8 elderly, 9 emergency-adjacent
    callback: bool = False  # caller accepted a callback and hung up; the call keeps its place
    callback_offered: bool = False
    caller: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.entered_at)

    def waited_s(self, at: datetime) -> float:
        return (require_aware(at) - self.entered_at).total_seconds()


class RoutingContext(Protocol):
    """What routing needs from the roster (``callcenter.acd.shifts.Roster`` implements it)."""

    def is_on_shift(self, subject: object, at: datetime) -> bool: ...

    def queue(self, name: str) -> QueueDef | None: ...


def _queue_key(c: QueuedCall) -> tuple[int, int]:
    return (-c.priority, c.seq)


def _global_key(c: QueuedCall) -> tuple[int, datetime, int]:
    return (-c.priority, c.entered_at, c.seq)


class QueueBook:
    """Ordering of waiting calls.  Remove a call when it is offered; re-``add`` the same
    ``QueuedCall`` (same ``seq``) after a no-answer and it gets its old place back."""

    def __init__(self) -> None:
        self._calls: dict[str, QueuedCall] = {}
        self._next_seq = 1

    def __len__(self) -> int:
        return len(self._calls)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._calls

    def next_seq(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def enqueue(self, call_id: str, queue: str, skill: str, at: datetime, *, priority: int = 0,
                caller: str | None = None) -> QueuedCall:
        call = QueuedCall(call_id=call_id, queue=queue, skill=skill, entered_at=at, seq=self.next_seq(),
                          priority=priority, caller=caller)
        return self.add(call)

    def add(self, call: QueuedCall) -> QueuedCall:
        if call.call_id in self._calls:
            raise ValueError(f"call {call.call_id} is already queued")
        self._calls[call.call_id] = call
        self._next_seq = max(self._next_seq, call.seq + 1)
        return call

    def remove(self, call_id: str) -> QueuedCall:
        try:
            return self._calls.pop(call_id)
        except KeyError:
            raise KeyError(f"call {call_id} is not queued") from None

    def get(self, call_id: str) -> QueuedCall | None:
        return self._calls.get(call_id)

    def update(self, call_id: str, **changes: object) -> QueuedCall:
        """Replace fields (e.g. ``callback=True``, ``priority=8``); ``seq``/``entered_at`` are kept."""
        if {"call_id", "seq", "entered_at"} & changes.keys():
            raise ValueError("call_id, seq and entered_at cannot change")
        call = self._calls.get(call_id)
        if call is None:
            raise KeyError(f"call {call_id} is not queued")
        new = replace(call, **changes)  # type: ignore[arg-type]
        self._calls[call_id] = new
        return new

    def mark_callback_offered(self, call_id: str) -> QueuedCall:
        return self.update(call_id, callback_offered=True)

    def accept_callback(self, call_id: str) -> QueuedCall:
        return self.update(call_id, callback=True, callback_offered=True)

    def ordered(self, queue: str) -> list[QueuedCall]:
        return sorted((c for c in self._calls.values() if c.queue == queue), key=_queue_key)

    def ordered_all(self) -> list[QueuedCall]:
        return sorted(self._calls.values(), key=_global_key)

    def positions(self) -> dict[str, int]:
        """`position_of` for every queued call, in one sort instead of one scan per call."""
        out: dict[str, int] = {}
        last_queue, n = None, 0
        for c in sorted(self._calls.values(), key=lambda c: (c.queue, _queue_key(c))):
            n = n + 1 if c.queue == last_queue else 1
            last_queue = c.queue
            out[c.call_id] = n
        return out

    def position_of(self, call_id: str) -> int:
        """1-based position within the call's own queue."""
        call = self._calls.get(call_id)
        if call is None:
            raise KeyError(f"call {call_id} is not queued")
        key = _queue_key(call)
        return 1 + sum(1 for c in self._calls.values() if c.queue == call.queue and _queue_key(c) < key)

    def queues(self) -> list[str]:
        return sorted({c.queue for c in self._calls.values()})

    def snapshot(self) -> dict[str, list[QueuedCall]]:
        return {q: self.ordered(q) for q in self.queues()}


# ------------------------------------------------------------------ routing
def eligible_skills(call: QueuedCall, at: datetime, queue_def: QueueDef | None) -> frozenset[str]:
    """The call's skill, plus the queue's overflow skills once it waited ``overflow_after_s``."""
    skills = {call.skill}
    if queue_def is not None and queue_def.overflow_after_s is not None \
            and call.waited_s(at) >= queue_def.overflow_after_s:
        skills.update(queue_def.overflow_skills)
    return frozenset(skills)


def _idle_key(a: Agent) -> tuple[datetime, str]:
    idle = a.idle_since or a.since
    assert idle is not None  # available agents always have it
    return (idle, a.seat_id)


def free_agents(agents: Iterable[Agent], at: datetime, roster: RoutingContext) -> list[Agent]:
    """Logged-in, available, reachable, on shift (or admitted by override); longest idle first."""
    return sorted((a for a in agents if a.can_take_call(at, roster.is_on_shift(a, at))), key=_idle_key)


def _choose(call: QueuedCall, free: Sequence[Agent], at: datetime, roster: RoutingContext) -> Agent | None:
    skills = eligible_skills(call, at, roster.queue(call.queue))
    for agent in free:  # already longest-idle first
        if agent.skills & skills:
            return agent
    return None


def pick_agent(call: QueuedCall, agents: Iterable[Agent], at: datetime, roster: RoutingContext) -> Agent | None:
    return _choose(call, free_agents(agents, at, roster), at, roster)


def next_assignments(book: QueueBook, agents: Iterable[Agent], at: datetime,
                     roster: RoutingContext) -> list[tuple[QueuedCall, Agent]]:
    """Greedy matching: calls in global order each take the longest-idle eligible free agent;
    each agent is used at most once.  Callback calls are matched like any other."""
    free = free_agents(agents, at, roster)
    out: list[tuple[QueuedCall, Agent]] = []
    for call in book.ordered_all():
        if not free:
            break
        agent = _choose(call, free, at, roster)
        if agent is not None:
            out.append((call, agent))
            free.remove(agent)
    return out


def should_offer_callback(call: QueuedCall, at: datetime, queue_def: QueueDef) -> bool:
    return (queue_def.max_wait_s is not None and not call.callback and not call.callback_offered
            and call.waited_s(at) >= queue_def.max_wait_s)


def estimated_wait(position: int, recent_aht_s: float | None, agents_serving: int) -> float | None:
    """Seconds until answer for a caller at 1-based ``position``: ``position * AHT / agents``."""
    if position < 1:
        raise ValueError("position is 1-based")
    if recent_aht_s is None or agents_serving <= 0 or recent_aht_s < 0:
        return None
    return position * recent_aht_s / agents_serving


def announce_position(book: QueueBook, call_id: str) -> int:
    """The 1-based position to announce to the caller."""
    return book.position_of(call_id)


def announcement_due(call: QueuedCall, at: datetime, queue_def: QueueDef,
                     last_announced_at: datetime | None) -> bool:
    if queue_def.announce_every_s is None or call.callback:
        return False
    since = last_announced_at or call.entered_at
    return (require_aware(at) - since).total_seconds() >= queue_def.announce_every_s


def announced_wait_minutes(seconds: float | None) -> int | None:
    """Rounded-up whole minutes for an IVR prompt (at least 1)."""
    return None if seconds is None else max(1, math.ceil(seconds / 60))


def position_prompt(position: int) -> str:
    ahead = position - 1
    if ahead <= 0:
        return "queue_next"
    return f"queue_position_{ahead}" if ahead <= 10 else "queue_position_more"


def wait_prompt(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    return f"wait_minutes_{minutes}" if minutes <= 10 else "wait_minutes_more"


def announcement(position: int, recent_aht_s: float | None, agents_serving: int) -> list[str]:
    """What a waiting caller hears: the callers ahead, then the expected wait when it can be
    estimated (position x recent handle time / agents serving the skill)."""
    prompts = [position_prompt(position)]
    if position > 1:
        wait = wait_prompt(announced_wait_minutes(estimated_wait(position, recent_aht_s, agents_serving)))
        if wait is not None:
            prompts.append(wait)
    return prompts
