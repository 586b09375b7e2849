"""What the IVR step machine (:mod:`.runner`) asks the adapter to do (the actions), what it
knows about the call (:class:`CallContext`), and the pure helpers that read what the adapter
feeds back (digits, clipped results) and the business-hours test."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

import chinese_calendar

from .schema import VALID_DIGITS, HoursNode

ALL_DIGITS = "0123456789*#"
MAX_RESULT_LEN = 64
CN_TZ = _dt.timezone(_dt.timedelta(hours=8))

# --------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Action:
    terminal: ClassVar[bool] = False


@dataclass(frozen=True)
class Play(Action):
    prompt: str
    escape_digits: str = ""


@dataclass(frozen=True)
class GetDigits(Action):
    prompt: str | None
    timeout_ms: int
    max_digits: int


@dataclass(frozen=True)
class LookupTicket(Action):
    number: str


@dataclass(frozen=True)
class AttachIncident(Action):
    """Attach the call to the incident's master ticket; fed back "ok" when it was attached."""

    incident_id: str


@dataclass(frozen=True)
class SetVars(Action):
    vars: dict[str, str]


@dataclass(frozen=True)
class Transfer(Action):
    terminal: ClassVar[bool] = True
    number: str
    emergency: bool = False


@dataclass(frozen=True)
class Hangup(Action):
    terminal: ClassVar[bool] = True
    prompt: str | None = None


@dataclass(frozen=True)
class Queue(Action):
    terminal: ClassVar[bool] = True
    queue: str
    skill: str
    priority: int = 0
    vars: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Ended(Action):
    terminal: ClassVar[bool] = True
    reason: str = "hangup"


TERMINAL_ACTIONS = (Transfer, Hangup, Queue, Ended)


@dataclass
class CallContext:
    caller: str
    dnis: str
    now: _dt.datetime
    vars: dict[str, Any] = field(default_factory=dict)
    recent_calls_24h: int = 0


# --------------------------------------------------------------------------- helpers


def clip(result: Any) -> str:
    """A safe, short string form of a fed result for the path record."""
    if isinstance(result, str):
        return result[:MAX_RESULT_LEN]
    return f"<{type(result).__name__}>"


def var_str(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, str | int | float):
        return str(v)
    return clip(v)


def digit_input(result: Any, max_len: int) -> str | None:
    """The result if it is a string of DTMF digits no longer than max_len, else None."""
    if not isinstance(result, str) or len(result) > max_len:
        return None
    if all(c in VALID_DIGITS for c in result):
        return result
    return None


def is_open(node: HoursNode, now: _dt.datetime) -> bool:
    """Business-hours test on the Chinese official calendar (swapped weekends included)."""
    if now.tzinfo is not None:
        now = now.astimezone(CN_TZ)
    if node.days == "workdays":
        try:
            workday = bool(chinese_calendar.is_workday(now.date()))
        except (NotImplementedError, ValueError):
            workday = now.weekday() < 5
        if not workday:
            return False
    hhmm = now.strftime("%H:%M")
    return any(a <= hhmm < b for a, b in node.open)
