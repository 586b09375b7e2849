"""Ticket (工单) vocabulary: enums, the Ticket record, the transition table and small value types.

Pure and a leaf of the feature: it imports only :mod:`.errors`. Deadline arithmetic is in
:mod:`.sla`, creating a ticket and applying an action (the transition handlers) in
:mod:`.transitions`; both build on this module, never the other way round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from callcenter.tickets.errors import TicketError


class TicketStatus(StrEnum):
    ACCEPTED = "accepted"  # 受理
    DISPATCHED = "dispatched"  # 派单
    ACKNOWLEDGED = "acknowledged"  # 签收
    IN_PROGRESS = "in_progress"  # 办理
    RESOLVED = "resolved"  # 办结
    SURVEYED = "surveyed"  # 回访
    CLOSED = "closed"  # 归档
    RETURNED = "returned"  # 退单: back in the hall awaiting re-dispatch


class Action(StrEnum):
    DISPATCH = "dispatch"
    ACKNOWLEDGE = "acknowledge"
    START = "start"
    RESOLVE = "resolve"
    ANSWER_ON_SPOT = "answer_on_spot"
    RETURN = "return"
    REDISPATCH = "redispatch"
    OBJECT = "object"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    ESCALATE = "escalate"
    SURVEY = "survey"
    REOPEN = "reopen"
    CLOSE = "close"
    MERGE = "merge"


class Channel(StrEnum):
    CALL = "call"
    FIELD_REPORT = "field_report"
    WEB = "web"
    CALLBACK = "callback"


class Kind(StrEnum):
    ENQUIRY = "enquiry"
    HELP = "help"
    COMPLAINT = "complaint"
    REPORT = "report"
    SUGGESTION = "suggestion"
    PRAISE = "praise"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Kind:
        """Accept the English value or the Chinese label (咨询, 投诉, ...)."""
        for kind, label in KIND_LABELS.items():
            if text in (kind.value, label):
                return kind
        raise TicketError(f"unknown kind {text!r}")


KIND_LABELS: dict[Kind, str] = {
    Kind.ENQUIRY: "咨询",
    Kind.HELP: "求助",
    Kind.COMPLAINT: "投诉",
    Kind.REPORT: "举报",
    Kind.SUGGESTION: "建议",
    Kind.PRAISE: "表扬",
}


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"  # life or property at risk
    UTILITY = "utility"  # water / power / gas / heating outage


class District(StrEnum):
    EAST = "东区"
    WEST = "西区"
    RENHE = "仁和区"
    VTI_ZONE = "钒钛高新区"
    MIYI = "米易县"
    YANBIAN = "盐边县"

    @classmethod
    def parse(cls, text: str | None) -> District | None:
        """Chinese name or enum name (case-insensitive); empty/"unknown"/"未知" -> None."""
        value = (text or "").strip()
        if value.lower() in ("", "unknown", "未知"):
            return None
        for district in cls:
            if value in (district.value, district.name) or value.upper() == district.name:
                return district
        raise TicketError(f"unknown district {text!r}")


OPEN_STATUSES = frozenset(
    {TicketStatus.ACCEPTED, TicketStatus.DISPATCHED, TicketStatus.ACKNOWLEDGED,
     TicketStatus.IN_PROGRESS, TicketStatus.RETURNED}
)
ON_SPOT_KINDS = frozenset({Kind.ENQUIRY, Kind.HELP, Kind.PRAISE, Kind.SUGGESTION})

_S = TicketStatus
_WORKING = (_S.ACKNOWLEDGED, _S.IN_PROGRESS)
_REOPENED = frozenset({_S.DISPATCHED, _S.RETURNED})


def _same(statuses: Any) -> dict[TicketStatus, frozenset[TicketStatus]]:
    return {s: frozenset({s}) for s in statuses}


def _to(statuses: Any, *targets: TicketStatus) -> dict[TicketStatus, frozenset[TicketStatus]]:
    return {s: frozenset(targets) for s in statuses}


#: action -> {from status -> possible resulting statuses}
TRANSITIONS: dict[Action, dict[TicketStatus, frozenset[TicketStatus]]] = {
    Action.DISPATCH: _to([_S.ACCEPTED], _S.DISPATCHED),
    Action.ACKNOWLEDGE: _to([_S.DISPATCHED], _S.ACKNOWLEDGED),
    Action.START: _to([_S.ACKNOWLEDGED], _S.IN_PROGRESS),
    Action.RESOLVE: _to(_WORKING, _S.RESOLVED),
    Action.ANSWER_ON_SPOT: _to([_S.ACCEPTED], _S.RESOLVED),
    Action.RETURN: _to([_S.DISPATCHED, *_WORKING], _S.RETURNED),
    Action.REDISPATCH: _to([_S.RETURNED], _S.DISPATCHED),
    Action.OBJECT: _to([_S.DISPATCHED, _S.ACKNOWLEDGED], _S.RETURNED),
    Action.REQUEST_EXTENSION: _same(_WORKING),
    Action.APPROVE_EXTENSION: _same(_WORKING),
    Action.DENY_EXTENSION: _same(_WORKING),
    Action.ESCALATE: _same(OPEN_STATUSES),
    Action.SURVEY: {_S.RESOLVED: frozenset({_S.SURVEYED}) | _REOPENED},
    Action.REOPEN: {_S.SURVEYED: _REOPENED, _S.CLOSED: _REOPENED},
    Action.CLOSE: _to([_S.SURVEYED, _S.RESOLVED], _S.CLOSED),
    Action.MERGE: _to([_S.ACCEPTED, _S.RETURNED, _S.DISPATCHED], _S.CLOSED),  # before 签收, too
}


def allowed_actions(status: TicketStatus) -> list[Action]:
    """Actions whose transition table admits ``status`` (data checks may still refuse)."""
    return [a for a, table in TRANSITIONS.items() if status in table]


# --------------------------------------------------------------------------- small helpers

_NUMBER_RE = re.compile(r"^([A-Z]{2,8})-(\d{8})-(\d{6})$")


class TicketNumber(NamedTuple):
    prefix: str
    day: date
    seq: int


def format_ticket_number(day: date, seq: int, *, prefix: str = "PZH") -> str:
    """``format_ticket_number(date(2026, 11, 27), 123) -> "PZH-20261127-000123"``."""
    if not re.fullmatch(r"[A-Z]{2,8}", prefix):
        raise TicketError(f"bad ticket number prefix {prefix!r} (2-8 capital letters)")
    if not 1 <= seq <= 999_999:
        raise TicketError(f"ticket sequence {seq} out of range 1..999999")
    return f"{prefix}-{day:%Y%m%d}-{seq:06d}"


def parse_ticket_number(text: str) -> TicketNumber:
    match = _NUMBER_RE.match(text or "")
    if not match:
        raise TicketError(f"malformed ticket number {text!r} (expected e.g. PZH-20261127-000123)")
    try:
        day = datetime.strptime(match.group(2), "%Y%m%d").date()
    except ValueError:
        raise TicketError(f"malformed ticket number {text!r}: no such date") from None
    seq = int(match.group(3))
    if seq == 0:
        raise TicketError(f"malformed ticket number {text!r}: sequence 0")
    return TicketNumber(match.group(1), day, seq)


@dataclass(frozen=True)
class SatisfactionLevel:
    """One level of a satisfaction scale: the key the citizen presses and what the level counts as."""

    digit: str  # the key the citizen presses
    label: str  # 非常满意 ...: what a ticket stores as its rating
    satisfied: bool  # counts in 满意率
    strict: bool  # counts in the strict 满意率 (非常满意 + 满意 only)
    bad: bool  # a bad review (差评): the ticket is re-handled (重办)


@dataclass(frozen=True)
class SatisfactionScale:
    """The satisfaction scale (回访 and the post-call service rating): levels best first.

    One type for the whole app: a ticket checks a rating against it (a bad review reopens the
    ticket), the surveys ask it digit by digit and count it (callcenter.surveys.rates)."""

    name: str
    levels: tuple[SatisfactionLevel, ...]

    def __post_init__(self) -> None:
        digits = [lv.digit for lv in self.levels]
        if not self.levels or len(set(digits)) != len(digits) or not all(d.isdigit() for d in digits):
            raise TicketError(f"satisfaction scale {self.name!r}: one distinct digit per level")
        if len(set(self.labels)) != len(self.levels) or not all(self.labels):
            raise TicketError(f"satisfaction scale {self.name!r}: levels must be unique and non-empty")

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(lv.label for lv in self.levels)

    def by_digit(self, digit: str) -> SatisfactionLevel | None:
        return next((lv for lv in self.levels if lv.digit == digit), None)

    def by_label(self, label: str) -> SatisfactionLevel | None:
        return next((lv for lv in self.levels if lv.label == label), None)

    def is_bad(self, rating: str) -> bool:
        level = self.by_label(rating)
        if level is None:
            raise TicketError(f"unknown rating {rating!r} for scale {self.name!r}: expected one of {self.labels}")
        return level.bad

    @classmethod
    def named(cls, name: str) -> SatisfactionScale:
        try:
            return SATISFACTION_SCALES[name]
        except KeyError:
            raise TicketError(f"unknown satisfaction scale {name!r}: one of {sorted(SATISFACTION_SCALES)}") from None


_L = SatisfactionLevel
FIVE_LEVEL = SatisfactionScale("five", (_L("1", "非常满意", True, True, False), _L("2", "满意", True, True, False),
                                        _L("3", "基本满意", True, False, False), _L("4", "不满意", False, False, True),
                                        _L("5", "非常不满意", False, False, True)))  # the national scale
THREE_LEVEL = SatisfactionScale("three", (_L("1", "满意", True, True, False), _L("2", "基本满意", True, False, False),
                                          _L("3", "不满意", False, False, True)))
SATISFACTION_SCALES = {s.name: s for s in (FIVE_LEVEL, THREE_LEVEL)}


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise TicketError(f"bad location lat={self.lat} lon={self.lon}")


@dataclass(frozen=True)
class Deadlines:
    take_up_due: datetime | None = None  # department must acknowledge (签收) by then
    resolve_due: datetime | None = None  # 办结 deadline
    remind_at: datetime | None = None  # 催办 reminder time


@dataclass(frozen=True)
class TicketEvent:
    ticket_no: str
    action: Action
    from_status: TicketStatus
    to_status: TicketStatus
    actor: str
    at: datetime
    reason: str | None
    data: dict[str, Any]
    version: int  # ticket version after this event


def require_aware(value: datetime, what: str = "time") -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise TicketError(f"{what} must be a timezone-aware datetime, got {value!r}")
    return value


@dataclass(kw_only=True)
class Ticket:
    number: str
    kind: Kind
    created_at: datetime
    channel: Channel = Channel.CALL
    caller_phone: str = ""
    caller_name: str = ""
    category: str = ""
    topics: tuple[str, ...] = ()
    district: District | None = None
    address: str = ""
    location: GeoPoint | None = None
    description: str = ""
    call_ids: tuple[str, ...] = ()
    transcript: str = ""
    urgency: Urgency = Urgency.NORMAL
    status: TicketStatus = TicketStatus.ACCEPTED
    lead_department: str | None = None
    assisting_departments: tuple[str, ...] = ()
    deadlines: Deadlines = field(default_factory=Deadlines)
    extension_days_granted: int = 0
    pending_extension: int | None = None
    escalation_level: int = 0
    reopen_count: int = 0
    objection: bool = False  # set by 派单异议 until the hall re-dispatches
    satisfaction: str | None = None
    merged_into: str | None = None
    article: str | None = None       # 直接答复 from this knowledge article
    article_unit: str | None = None  # its owning unit: a bad review reopens the ticket to it
    version: int = 0
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        parse_ticket_number(self.number)
        require_aware(self.created_at, "created_at")
        self.kind = Kind(self.kind)
        self.channel = Channel(self.channel)
        self.urgency = Urgency(self.urgency)
        self.status = TicketStatus(self.status)
        self.district = District.parse(self.district)
        if self.location is not None and not isinstance(self.location, GeoPoint):
            self.location = GeoPoint(*self.location)  # (lat, lon)
        self.topics = tuple(self.topics)
        self.call_ids = tuple(self.call_ids)
        self.assisting_departments = tuple(self.assisting_departments)

    @property
    def escalated(self) -> bool:
        return self.escalation_level > 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


# --------------------------------------------------------------------------- transition data

HALL = "hall"  # department code of the 12345 hall itself

#: data keys accepted per action (besides ``note``); required ones are checked by the handler
ACTION_DATA: dict[Action, frozenset[str]] = {a: frozenset() for a in Action} | {
    Action.DISPATCH: frozenset({"lead", "assisting"}),
    Action.REDISPATCH: frozenset({"lead", "assisting"}),
    Action.RESOLVE: frozenset({"reply"}),
    Action.ANSWER_ON_SPOT: frozenset({"reply", "article"}),
    Action.OBJECT: frozenset({"suggested"}),
    Action.REQUEST_EXTENSION: frozenset({"days"}),
    Action.APPROVE_EXTENSION: frozenset({"days"}),
    Action.SURVEY: frozenset({"rating", "comment"}),
    Action.MERGE: frozenset({"merged_into"}),
}
