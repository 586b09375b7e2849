"""What /metrics reports, computed from plain data (pure: no I/O, tested in milliseconds).

Inputs are the Redis live view's documents (queue entries, agents) and today's call counts
from PostgreSQL; outputs are plain numbers per label, ready for the Prometheus exposition.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

TIMELY_S = 15  # GB/T 33358-2016: answer within 15 s


@dataclass(frozen=True)
class QueueFigures:
    waiting: dict[str, int]
    longest_wait_s: dict[str, float]


def queue_figures(entries: Iterable[Mapping[str, Any]], now: datetime, queues: Iterable[str] = ()) -> QueueFigures:
    """Calls waiting and the longest wait per queue (every known queue appears, with 0)."""
    waiting: Counter[str] = Counter({q: 0 for q in queues})
    longest: dict[str, float] = {q: 0.0 for q in queues}
    for doc in entries:
        queue = str(doc.get("queue") or "unknown")
        waiting[queue] += 1
        try:
            entered = datetime.fromisoformat(str(doc["entered_at"]))
        except (KeyError, ValueError):
            continue
        if entered.tzinfo is None:
            continue  # the live view writes aware UTC times; anything else is not trusted
        longest[queue] = max(longest.get(queue, 0.0), max(0.0, (now - entered).total_seconds()))
    for q in waiting:
        longest.setdefault(q, 0.0)
    return QueueFigures(dict(waiting), longest)


def agents_by_state(agents: Iterable[Mapping[str, Any]], states: Iterable[str] = ()) -> dict[str, int]:
    out: Counter[str] = Counter({s: 0 for s in states})
    for doc in agents:
        out[str(doc.get("state") or "unknown")] += 1
    return dict(out)


@dataclass(frozen=True)
class CallCounts:
    """Today's calls that reached the queue (local calendar day)."""

    inbound: int = 0
    answered: int = 0
    answered_timely: int = 0  # answered within TIMELY_S of entering the queue
    abandoned: int = 0
    short_abandoned: int = 0  # gave up within 5 s: left out of the abandon rate

    def __post_init__(self) -> None:
        if min(self.inbound, self.answered, self.answered_timely, self.abandoned, self.short_abandoned) < 0:
            raise ValueError("call counts cannot be negative")

    @property
    def answer_rate(self) -> float | None:
        """人工接通率 = answered / inbound."""
        return self.answered / self.inbound if self.inbound else None

    @property
    def timely_rate(self) -> float | None:
        """应答及时率 = answered within 15 s / answered."""
        return self.answered_timely / self.answered if self.answered else None

    @property
    def abandon_rate(self) -> float | None:
        """Long abandons / (inbound - short abandons)."""
        base = self.inbound - self.short_abandoned
        return (self.abandoned - self.short_abandoned) / base if base > 0 else None
