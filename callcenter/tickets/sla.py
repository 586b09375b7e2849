"""SLA: working-day calendar (Chinese official calendar) and the deadline policy.

Times are stored in UTC; working-day arithmetic is done on Asia/Shanghai calendar dates.
A deadline of "n working days" is the end (23:59:59 local) of the n-th working day after
the day of acceptance (the acceptance day itself does not count).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from callcenter.infra.data_errors import describe_errors
from callcenter.tickets.errors import SlaConfigError
from callcenter.tickets.model import (
    OPEN_STATUSES,
    Deadlines,
    Kind,
    Ticket,
    TicketStatus,
    Urgency,
    require_aware,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)
DEFAULT_SLA_FILE = Path(__file__).parent / "data" / "sla.yaml"


class WorkingCalendar:
    """Chinese official working days (holidays and swapped working weekends).

    Years that ``chinese_calendar`` does not know fall back to Monday-Friday; use
    :meth:`known` to warn about it. ``extra_holidays``/``extra_workdays`` override both.
    """

    def __init__(self, extra_holidays: Any = (), extra_workdays: Any = ()) -> None:
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        if both := self.extra_holidays & self.extra_workdays:
            raise SlaConfigError(f"dates both holiday and working day: {sorted(both)}")

    def known(self, day: date) -> bool:
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def next_workday(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days in ``(start, end]`` (0 when end <= start)."""
        return sum(self.is_workday(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))


@functools.cache
def default_calendar() -> WorkingCalendar:
    return WorkingCalendar()


def local_date(moment: datetime) -> date:
    return require_aware(moment).astimezone(SHANGHAI).date()


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI).astimezone(UTC)


def add_working_days(start: datetime, n: int, calendar: WorkingCalendar | None = None) -> datetime:
    """End of the n-th working day after ``start``'s local day; n=0: end of that day if it is
    a working day, else of the next working day (same-day handling)."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"working days must be a non-negative integer, got {n!r}")
    cal = calendar or default_calendar()
    day = local_date(start)
    if n == 0:
        return end_of_day(day if cal.is_workday(day) else cal.next_workday(day))
    for _ in range(n):
        day = cal.next_workday(day)
    return end_of_day(day)


def add_minutes(start: datetime, minutes: float) -> datetime:
    """Clock time: counts nights, weekends and holidays too."""
    return (require_aware(start) + timedelta(minutes=minutes)).astimezone(UTC)


def add_working_hours(start: datetime, hours: float, *, day: tuple[time, time] = (time(9), time(17)),
                      calendar: WorkingCalendar | None = None) -> datetime:
    """Add office hours, counted only inside ``day`` on working days."""
    if hours < 0 or day[0] >= day[1]:
        raise ValueError(f"bad working hours: hours={hours}, day={day}")
    cal = calendar or default_calendar()
    remaining = timedelta(hours=hours)
    current = require_aware(start).astimezone(SHANGHAI)
    while True:
        today = current.date()
        if cal.is_workday(today):
            opens, closes = (datetime.combine(today, t, tzinfo=SHANGHAI) for t in day)
            current = max(current, opens)
            if current < closes:
                if remaining <= closes - current:
                    return (current + remaining).astimezone(UTC)
                remaining -= closes - current
        current = datetime.combine(today + timedelta(days=1), time(0), tzinfo=SHANGHAI)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Strict):
    """A time allowance: ``minutes`` (clock) or ``working_days``; exactly one."""

    minutes: int | None = Field(default=None, gt=0)
    working_days: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> Span:
        if (self.minutes is None) == (self.working_days is None):
            raise ValueError("give exactly one of 'minutes' or 'working_days'")
        return self

    def due(self, start: datetime, calendar: WorkingCalendar) -> datetime:
        if self.minutes is not None:
            return add_minutes(start, self.minutes)
        return add_working_days(start, self.working_days or 0, calendar)


class RemindBefore(_Strict):
    """催办 reminder: a ``fraction`` of the allowed time before the deadline, or ``hours``."""

    fraction: float | None = Field(default=None, gt=0, lt=1)
    hours: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> RemindBefore:
        if (self.fraction is None) == (self.hours is None):
            raise ValueError("give exactly one of 'fraction' or 'hours'")
        return self

    def remind_at(self, start: datetime, due: datetime) -> datetime:
        before = (due - start) * self.fraction if self.fraction is not None else timedelta(hours=self.hours or 0)
        return max(start, due - before).astimezone(UTC)


class SlaRule(_Strict):
    take_up: Span | None = None
    resolve: Span | None = None
    remind_before: RemindBefore | None = None


class SlaDefaults(_Strict):
    take_up: Span
    resolve: Span
    remind_before: RemindBefore


class SlaPolicy(_Strict):
    """Deadline policy. Precedence: ``defaults`` < ``kinds[kind]`` < ``urgency[urgency]``."""

    defaults: SlaDefaults
    kinds: dict[Kind, SlaRule] = Field(default_factory=dict)
    urgency: dict[Urgency, SlaRule] = Field(default_factory=dict)
    max_extension_working_days: int = Field(default=10, ge=0)
    out_of_scope_return_working_days: int = Field(default=2, ge=0)
    bad_review_redo_working_days: int = Field(default=15, ge=1)
    extra_holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)
    _calendar: WorkingCalendar = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        self._calendar = WorkingCalendar(self.extra_holidays, self.extra_workdays)

    @property
    def calendar(self) -> WorkingCalendar:
        return self._calendar

    @classmethod
    def from_dict(cls, data: Any) -> SlaPolicy:
        if not isinstance(data, dict):
            raise SlaConfigError(f"SLA config must be a mapping, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise SlaConfigError("invalid SLA config: " + describe_errors(exc)) from None

    @classmethod
    def from_yaml(cls, text: str) -> SlaPolicy:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SlaConfigError(f"SLA config is not valid YAML: {exc}") from None
        return cls.from_dict(data)

    def rule(self, kind: Kind | str, urgency: Urgency | str) -> SlaDefaults:
        """The effective take-up / resolve / reminder rule for a kind and urgency."""
        merged = self.defaults.model_dump(exclude_none=True)
        for layer in (self.kinds.get(Kind(kind)), self.urgency.get(Urgency(urgency))):
            if layer:
                merged |= layer.model_dump(exclude_none=True)
        return SlaDefaults.model_validate(merged)


@functools.cache
def default_policy() -> SlaPolicy:
    return SlaPolicy.from_yaml(DEFAULT_SLA_FILE.read_text(encoding="utf-8"))


def compute_deadlines(kind: Kind | str, urgency: Urgency | str, accepted_at: datetime, *,
                      policy: SlaPolicy | None = None) -> Deadlines:
    policy = policy or default_policy()
    rule = policy.rule(kind, urgency)
    resolve = rule.resolve.due(accepted_at, policy.calendar)
    take_up = min(rule.take_up.due(accepted_at, policy.calendar), resolve)
    return Deadlines(take_up, resolve, rule.remind_before.remind_at(accepted_at, resolve))


def take_up_deadline(kind: Kind | str, urgency: Urgency | str, at: datetime, *,
                     policy: SlaPolicy | None = None) -> datetime:
    """Take-up (签收) deadline for a dispatch made at ``at`` (used on re-dispatch)."""
    policy = policy or default_policy()
    return policy.rule(kind, urgency).take_up.due(at, policy.calendar)


def redo_deadlines(kind: Kind | str, urgency: Urgency | str, at: datetime, *,
                   policy: SlaPolicy | None = None) -> Deadlines:
    """Deadlines for 重办 after a bad review: resolve within ``bad_review_redo_working_days``."""
    policy = policy or default_policy()
    rule = policy.rule(kind, urgency)
    resolve = add_working_days(at, policy.bad_review_redo_working_days, policy.calendar)
    take_up = min(rule.take_up.due(at, policy.calendar), resolve)
    return Deadlines(take_up, resolve, rule.remind_before.remind_at(at, resolve))


def extend_deadlines(deadlines: Deadlines, days: int, *, policy: SlaPolicy | None = None) -> Deadlines:
    """Move ``resolve_due`` by ``days`` working days; the reminder keeps its lead time."""
    if deadlines.resolve_due is None or days == 0:
        return deadlines
    policy = policy or default_policy()
    resolve = add_working_days(deadlines.resolve_due, days, policy.calendar)
    remind = deadlines.remind_at + (resolve - deadlines.resolve_due) if deadlines.remind_at else None
    return replace(deadlines, resolve_due=resolve, remind_at=remind)


def return_window_due(dispatched_at: datetime, *, policy: SlaPolicy | None = None) -> datetime:
    """Last moment a department may return an out-of-scope ticket (default 2 working days)."""
    policy = policy or default_policy()
    return add_working_days(dispatched_at, policy.out_of_scope_return_working_days, policy.calendar)


class Overdue(StrEnum):
    TAKE_UP = "take_up"  # not acknowledged (签收) in time
    RESOLVE = "resolve"  # not resolved (办结) in time


_AWAITING_TAKE_UP = frozenset({TicketStatus.ACCEPTED, TicketStatus.DISPATCHED, TicketStatus.RETURNED})


def overdue(ticket: Ticket, now: datetime) -> list[Overdue]:
    """What is overdue for an open ticket at ``now`` (empty once resolved)."""
    require_aware(now, "now")
    found = []
    d = ticket.deadlines
    if ticket.status in _AWAITING_TAKE_UP and d.take_up_due and now > d.take_up_due:
        found.append(Overdue.TAKE_UP)
    if ticket.status in OPEN_STATUSES and d.resolve_due and now > d.resolve_due:
        found.append(Overdue.RESOLVE)
    return found


def due_for_reminder(ticket: Ticket, now: datetime) -> bool:
    """True when an open ticket is past its 催办 time but not yet past its resolve deadline."""
    require_aware(now, "now")
    d = ticket.deadlines
    return (ticket.status in OPEN_STATUSES and d.remind_at is not None and d.resolve_due is not None
            and d.remind_at <= now <= d.resolve_due)
