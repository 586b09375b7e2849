"""What the call aggregate (`callcenter.acd.calls`) is given from outside: a caller's arrival,
the callback policy and the facts an announcement speaks of (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    max_attempts: int = 3  # agent offers, counted over the call's life
    retry_after_s: float = 60.0


@dataclass(frozen=True, slots=True)
class LineFacts:
    """What an announcement says: the caller's position, recent handle time, agents serving."""

    position: int
    recent_aht_s: float | None
    agents_serving: int


@dataclass(frozen=True, slots=True)
class Arrival:
    """A caller entering the ACD, with the IVR's choices."""

    call_id: str
    caller: str
    queue: str
    skill: str
    priority: int = 0
    dnis: str = ""
    line: str | None = None
    vars: dict[str, str] = field(default_factory=dict, hash=False)
    up: bool = True  # the channel is answered
