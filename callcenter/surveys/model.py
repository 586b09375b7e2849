"""The outbound policy (pure): when a citizen may be called back, how often, and why not.

Three kinds of outbound work share one dialler: ticket satisfaction callbacks (回访) after a
ticket is resolved (办结), missed-call callbacks (漏话回拨) after a caller abandoned, and the
post-call service rating (坐席服务评价), which needs no dialling. This module decides:

- `SurveyPolicy.plan`: a resolved ticket gets a callback within `window_working_days` working
  days (the SLA calendar: Chinese official working days), only inside calling hours (default
  09:00-12:00 and 14:00-20:00 Asia/Shanghai), never to an opted-out or blacklisted number;
  tickets that need no callback close at once with a reason (`NoCallback`).
- `SurveyPolicy.by_person`: whether a person (an agent, through the ACD) makes the callback
  instead of the automated survey: the ticket was flagged for a person, or its kind is one of
  `person_kinds` (e.g. 投诉), or it was re-handled (重办) at least `person_after_reopens` times.
- `SurveyPolicy.after_attempt`: at most `max_attempts` attempts, `retry_minutes` apart (moved
  to the next calling moment), then "无法联系" (unreachable).
- `MissedCallPolicy`: which abandoned calls are called back and by when.
- `is_bad_review`: a rating on the satisfaction scale (`callcenter.tickets.api.SatisfactionScale`,
  national five levels or three, configuration) that re-handles the ticket.

No I/O and no clock: every function takes `now`. Times are aware datetimes (stored in UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from callcenter.tickets.api import SatisfactionLevel

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Calendar(Protocol):
    """The working-day calendar (callcenter.tickets.sla.WorkingCalendar fits)."""

    def is_workday(self, day: date) -> bool: ...


class Reason(StrEnum):
    """Why a callback closed without a survey result (no-callback closes and give-ups)."""

    ANONYMOUS = "匿名来电"  # no number to call
    DECLINED = "市民拒绝回访"  # the citizen said no callback
    OPTED_OUT = "市民退订回访"  # the number asked never to be called
    BLACKLISTED = "黑名单号码"  # harassing number on the blacklist
    UNREACHABLE = "无法联系"  # attempts used up / window passed without reaching the citizen
    SERVED = "已再次来电"  # missed call: the caller called again or was served first
    # one callback per citizen and round for a ticket the detector linked to a mass incident
    # (热点诉求) and that was also resolved on its own: whichever was scheduled first is made
    INCIDENT_CALLBACK = "已随批量诉求回访"  # the ticket's survey: the citizen is called about the incident
    TICKET_CALLBACK = "已有工单回访"  # the incident's callback: the citizen is called about their ticket


class Outcome(StrEnum):
    """How one dial attempt ended."""

    COMPLETED = "completed"  # answered and the survey got its answers (or 'no valid answer')
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # the network refused / the originate failed
    HUNG_UP = "hung_up"  # answered, hung up before the survey finished
    INTERRUPTED = "interrupted"  # the controller died mid-attempt (found by recovery)
    NO_AGENT = "no_agent"  # agent-driven: no agent took it in time (inbound kept them busy)
    CANCELLED = "cancelled"  # agent-driven: withdrawn before dialling (the caller called in)
    AGENT_GONE = "agent_gone"  # agent-driven: the agent hung up while the citizen's phone rang (retried)


REACHED = frozenset({Outcome.COMPLETED})
# Q.850 causes of a leg that ended before it was answered
BUSY_CAUSES = frozenset({17})
NO_ANSWER_CAUSES = frozenset({16, 18, 19, 0})


def unanswered_outcome(cause: int | None) -> Outcome:
    """How a dial that never reached the citizen ended, by its Q.850 cause (None: unknown, taken
    as no answer): the automated survey's own legs and the ACD's agent-driven callbacks alike."""
    if cause in BUSY_CAUSES:
        return Outcome.BUSY
    if cause in NO_ANSWER_CAUSES or cause is None:
        return Outcome.NO_ANSWER
    return Outcome.FAILED


def require_aware(moment: datetime, what: str = "time") -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment


def _parse_hours(spec: str) -> tuple[tuple[time, time], ...]:
    """'09:00-12:00,14:00-20:00' -> ((09:00, 12:00), (14:00, 20:00)); sorted, non-overlapping."""
    spans = []
    for part in spec.split(","):
        start, _, end = part.strip().partition("-")
        try:
            a, b = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        except ValueError:
            raise ValueError(f"calling hours {spec!r}: expected e.g. '09:00-12:00,14:00-20:00'") from None
        if a >= b:
            raise ValueError(f"calling hours {part.strip()!r}: start must be before end")
        spans.append((a, b))
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise ValueError(f"calling hours {spec!r} overlap")
    return tuple(spans)


@dataclass(frozen=True)
class CallingHours:
    """When a citizen may be called: local (Asia/Shanghai) spans, on working days only unless
    `rest_days` (missed-call callbacks run 7x24 like the hotline; surveys do not)."""

    spans: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(14), time(20)))
    rest_days: bool = False

    @classmethod
    def parse(cls, spec: str, rest_days: bool = False) -> CallingHours:
        return cls(_parse_hours(spec), rest_days)

    def _day_ok(self, day: date, calendar: Calendar) -> bool:
        return self.rest_days or calendar.is_workday(day)

    def contains(self, at: datetime, calendar: Calendar) -> bool:
        local = require_aware(at).astimezone(SHANGHAI)
        if not self._day_ok(local.date(), calendar):
            return False
        return any(a <= local.time() < b for a, b in self.spans)

    def next_open(self, at: datetime, calendar: Calendar) -> datetime:
        """`at` itself when it is inside calling hours, else the next moment that is (UTC)."""
        local = require_aware(at).astimezone(SHANGHAI)
        day = local.date()
        for _ in range(400):  # a year of rest days cannot happen; bound the loop anyway
            if self._day_ok(day, calendar):
                for a, b in self.spans:
                    start = datetime.combine(day, a, tzinfo=SHANGHAI)
                    end = datetime.combine(day, b, tzinfo=SHANGHAI)
                    if local < end:
                        return max(local, start).astimezone(UTC)
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), tzinfo=SHANGHAI)
        raise ValueError("no calling hours within a year")


def end_of_working_days(start: datetime, n: int, calendar: Calendar) -> datetime:
    """End (24:00 local) of the n-th working day after `start`'s local day (the SLA rule; n=0:
    end of that day if it is a working day, else of the next one)."""
    day = require_aware(start).astimezone(SHANGHAI).date()
    if n == 0:
        while not calendar.is_workday(day):
            day += timedelta(days=1)
    for _ in range(n):
        day += timedelta(days=1)
        while not calendar.is_workday(day):
            day += timedelta(days=1)
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI).astimezone(UTC)


@dataclass(frozen=True)
class ResolvedTicket:
    """What the policy needs to know about a resolved ticket."""

    number: str
    phone: str  # normalised digits; '' when anonymous
    resolved_at: datetime
    department: str | None = None
    district: str | None = None
    declined: bool = False  # the citizen said at filing time: no callback
    needs_person: bool = False  # flagged (desk, hall): agent-driven callback instead of the automated survey
    kind: str | None = None  # the ticket's kind ('complaint' = 投诉 ...); None: not a ticket of its own
    reopens: int = 0  # times re-handled (重办) after a bad review


@dataclass(frozen=True)
class Plan:
    """A callback to make: first attempt at `due`, none after `deadline`."""

    due: datetime
    deadline: datetime
    max_attempts: int
    by_person: bool = False  # an agent makes the callback (through the ACD), not the automated survey


@dataclass(frozen=True)
class NoCallback:
    reason: Reason


@dataclass(frozen=True)
class Retry:
    due: datetime


@dataclass(frozen=True)
class GiveUp:
    reason: Reason


@dataclass(frozen=True)
class Done:
    """The attempt reached the citizen; the job is finished (its result is stored apart)."""


@dataclass(frozen=True)
class SurveyPolicy:
    window_working_days: int = 3
    hours: CallingHours = field(default_factory=CallingHours)
    max_attempts: int = 3
    retry_minutes: int = 60
    delay_minutes: int = 0  # first attempt no sooner than this after 办结
    person_kinds: frozenset[str] = frozenset()  # ticket kinds a person calls back (e.g. complaint)
    person_after_reopens: int = 0  # re-handled (重办) this often: a person calls back (0: never)

    def __post_init__(self) -> None:
        if self.window_working_days < 0 or self.max_attempts < 1 or self.retry_minutes < 0:
            raise ValueError("window_working_days >= 0, max_attempts >= 1 and retry_minutes >= 0")
        if self.person_after_reopens < 0:
            raise ValueError("person_after_reopens >= 0 (0: off)")

    def by_person(self, ticket: ResolvedTicket) -> bool:
        """A person makes this ticket's callback: flagged, a kind that needs one, or re-handled."""
        if ticket.needs_person or (ticket.kind is not None and ticket.kind in self.person_kinds):
            return True
        return 0 < self.person_after_reopens <= ticket.reopens

    def plan(self, ticket: ResolvedTicket, *, opted_out: bool, blacklisted: bool,
             calendar: Calendar) -> Plan | NoCallback:
        if not ticket.phone:
            return NoCallback(Reason.ANONYMOUS)
        if ticket.declined:
            return NoCallback(Reason.DECLINED)
        if blacklisted:
            return NoCallback(Reason.BLACKLISTED)
        if opted_out:
            return NoCallback(Reason.OPTED_OUT)
        earliest = ticket.resolved_at + timedelta(minutes=self.delay_minutes)
        deadline = end_of_working_days(ticket.resolved_at, self.window_working_days, calendar)
        due = self.hours.next_open(earliest, calendar)
        return Plan(min(due, deadline), deadline, self.max_attempts, self.by_person(ticket))

    def after_attempt(self, outcome: Outcome, attempts: int, deadline: datetime, now: datetime,
                      calendar: Calendar, max_attempts: int | None = None) -> Done | Retry | GiveUp:
        """What follows attempt number `attempts` (1-based) that ended with `outcome` at `now`."""
        if outcome in REACHED:
            return Done()
        limit = self.max_attempts if max_attempts is None else max_attempts
        if attempts >= limit:
            return GiveUp(Reason.UNREACHABLE)
        due = self.hours.next_open(require_aware(now) + timedelta(minutes=self.retry_minutes), calendar)
        if due >= deadline:
            return GiveUp(Reason.UNREACHABLE)
        return Retry(due)


# ------------------------------------------------------------------ missed calls (漏话回拨)


@dataclass(frozen=True)
class MissedCall:
    call_id: str
    caller: str
    entered_at: datetime
    ended_at: datetime
    disposition: str  # 'abandoned' (queue) or 'ivr_abandoned'


@dataclass(frozen=True)
class MissedCallPolicy:
    """An abandon at least `short_abandon_s` long (shorter ones are misdials) from a callable
    number is called back within `within_minutes` of the next calling moment; cancelled when
    the caller called again or was served first."""

    short_abandon_s: float = 10.0
    within_minutes: int = 30
    hours: CallingHours = field(default_factory=lambda: CallingHours(rest_days=True))
    max_attempts: int = 2
    retry_minutes: int = 10
    dispositions: frozenset[str] = frozenset({"abandoned", "ivr_abandoned"})

    def eligible(self, call: MissedCall, *, blacklisted: bool, opted_out: bool) -> bool:
        if call.disposition not in self.dispositions or not call.caller.isdigit() or len(call.caller) < 7:
            return False
        if blacklisted or opted_out:
            return False
        return (call.ended_at - call.entered_at).total_seconds() >= self.short_abandon_s

    def plan(self, call: MissedCall, calendar: Calendar) -> Plan:
        due = self.hours.next_open(call.ended_at, calendar)
        return Plan(due, due + timedelta(minutes=self.within_minutes), self.max_attempts)

    def cancelled_by(self, call: MissedCall, later_entered: datetime | None) -> bool:
        """True when the caller called in again after this abandon (served or about to be)."""
        return later_entered is not None and later_entered > call.entered_at

    def after_attempt(self, outcome: Outcome, attempts: int, deadline: datetime, now: datetime,
                      calendar: Calendar, max_attempts: int | None = None) -> Done | Retry | GiveUp:
        as_survey = SurveyPolicy(0, self.hours, self.max_attempts, self.retry_minutes)
        return as_survey.after_attempt(outcome, attempts, deadline, now, calendar, max_attempts)


# ------------------------------------------------------------------ satisfaction


def is_bad_review(level: SatisfactionLevel | None, resolved: bool | None) -> bool:
    """重办 when the rating is a bad review or the citizen says the problem is not solved."""
    return (level is not None and level.bad) or resolved is False
