"""Ticket (工单) domain core: enums, the Ticket record, its state machine and small helpers.

Pure code: no I/O. Deadline arithmetic lives in :mod:`callcenter.tickets.sla` (imported lazily
here because ``sla`` itself imports this module).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from callcenter.tickets.sla import SlaPolicy


class TicketError(ValueError):
    """Invalid ticket data or an action that cannot be applied."""


class IllegalTransition(TicketError):
    """The action is not allowed in the ticket's current status."""


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
    Action.MERGE: _to([_S.ACCEPTED, _S.RETURNED], _S.CLOSED),
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


def mask_phone(phone: str | None) -> str:
    """``13812345678 -> 138****5678``; short numbers keep only the last two digits."""
    digits = re.sub(r"[\s-]", "", phone or "")
    if len(digits) >= 8:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * max(len(digits) - 2, 0) + digits[-2:] if digits else ""


def mask_name(name: str | None) -> str:
    """Keep the surname (first character): ``张三 -> 张*``, ``欧阳娜娜 -> 欧***``."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else ("*" if name else "")


@dataclass(frozen=True)
class SatisfactionScale:
    """Rating levels (best first) and which of them count as a bad review (差评)."""

    name: str
    levels: tuple[str, ...]
    bad: frozenset[str]

    def __post_init__(self) -> None:
        if len(set(self.levels)) != len(self.levels) or not self.levels:
            raise TicketError(f"satisfaction scale {self.name!r}: levels must be unique and non-empty")
        if not self.bad <= set(self.levels):
            raise TicketError(f"satisfaction scale {self.name!r}: bad levels {sorted(self.bad)} not in levels")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SatisfactionScale:
        try:
            return cls(str(data["name"]), tuple(data["levels"]), frozenset(data["bad"]))
        except KeyError as exc:
            raise TicketError(f"satisfaction scale: missing field {exc.args[0]!r}") from None

    def is_bad(self, rating: str) -> bool:
        if rating not in self.levels:
            raise TicketError(f"unknown rating {rating!r} for scale {self.name!r}: expected one of {self.levels}")
        return rating in self.bad


FIVE_LEVEL = SatisfactionScale("national5", ("非常满意", "满意", "基本满意", "不满意", "非常不满意"),
                               frozenset({"不满意", "非常不满意"}))
THREE_LEVEL = SatisfactionScale("three", ("满意", "基本满意", "不满意"), frozenset({"不满意"}))


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

    @classmethod
    def create(cls, *, policy: SlaPolicy | None = None, **fields: Any) -> Ticket:
        """New accepted ticket with deadlines computed from the SLA policy."""
        from callcenter.tickets import sla

        ticket = cls(**fields)
        ticket.deadlines = sla.compute_deadlines(ticket.kind, ticket.urgency, ticket.created_at, policy=policy)
        return ticket

    @property
    def escalated(self) -> bool:
        return self.escalation_level > 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def apply(self, action: Action | str, *, actor: str, at: datetime, reason: str | None = None,
              policy: SlaPolicy | None = None, scale: SatisfactionScale | None = None,
              **data: Any) -> TicketEvent:
        """Apply ``action``; mutate the ticket only on success and return the event.

        ``policy`` (default: bundled sla.yaml) and ``scale`` (default: five levels) are
        configuration, never recorded in the event. ``ACTION_DATA`` lists the data keys
        each action accepts (``note`` is accepted by all).
        """
        try:
            action = Action(action)
        except ValueError:
            raise TicketError(f"unknown action {action!r}") from None
        targets = TRANSITIONS[action].get(self.status)
        if targets is None:
            raise IllegalTransition(
                f"action '{action.value}' is not allowed in status '{self.status.value}' (ticket {self.number})")
        if not (actor or "").strip():
            raise TicketError(f"action '{action.value}': actor is required")
        require_aware(at, "at")
        extra = set(data) - ACTION_DATA[action] - {"note"}
        if extra:
            raise TicketError(f"action '{action.value}': unexpected data {sorted(extra)}")
        call = _Call(self, action, actor, at, (reason or "").strip() or None, data, policy, scale)
        to_status, changes, event_data = _HANDLERS[action](call)
        assert to_status in targets, (action, self.status, to_status)
        event = TicketEvent(self.number, action, self.status, to_status, actor, at, call.reason,
                            event_data, self.version + 1)
        for name, value in changes.items():
            setattr(self, name, value)
        self.status, self.version, self.updated_at = to_status, self.version + 1, at
        return event


# --------------------------------------------------------------------------- transition handlers

HALL = "hall"  # department code of the 12345 hall itself
_Outcome = tuple[TicketStatus, dict[str, Any], dict[str, Any]]

#: data keys accepted per action (besides ``note``); required ones are checked by the handler
ACTION_DATA: dict[Action, frozenset[str]] = {a: frozenset() for a in Action} | {
    Action.DISPATCH: frozenset({"lead", "assisting"}),
    Action.REDISPATCH: frozenset({"lead", "assisting"}),
    Action.RESOLVE: frozenset({"reply"}),
    Action.ANSWER_ON_SPOT: frozenset({"reply"}),
    Action.OBJECT: frozenset({"suggested"}),
    Action.REQUEST_EXTENSION: frozenset({"days"}),
    Action.APPROVE_EXTENSION: frozenset({"days"}),
    Action.SURVEY: frozenset({"rating", "comment"}),
    Action.MERGE: frozenset({"merged_into"}),
}


@dataclass
class _Call:
    t: Ticket
    action: Action
    actor: str
    at: datetime
    reason: str | None
    data: dict[str, Any]
    policy_: SlaPolicy | None
    scale_: SatisfactionScale | None

    def fail(self, message: str) -> TicketError:
        return TicketError(f"action '{self.action.value}' on {self.t.number}: {message}")

    def need_reason(self) -> None:
        if not self.reason:
            raise self.fail("a reason is required")

    @property
    def policy(self) -> SlaPolicy:
        from callcenter.tickets.sla import default_policy

        return self.policy_ or default_policy()

    def event(self, **values: Any) -> dict[str, Any]:
        passthrough = {k: self.data[k] for k in ("note", "reply", "comment", "suggested") if k in self.data}
        return passthrough | values

    def days(self, default: int | None = None) -> int:
        days = self.data.get("days", default)
        if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
            raise self.fail(f"data 'days' must be a positive integer, got {days!r}")
        return days


def _departments(c: _Call) -> tuple[str, tuple[str, ...]]:
    lead = c.data.get("lead")
    if not isinstance(lead, str) or not lead.strip():
        raise c.fail("data 'lead' (department code) is required")
    assisting = c.data.get("assisting") or ()
    assisting = tuple(dict.fromkeys([assisting] if isinstance(assisting, str) else assisting))
    if lead in assisting or not all(isinstance(a, str) and a for a in assisting):
        raise c.fail(f"bad assisting departments {assisting!r} for lead {lead!r}")
    return lead, assisting


def _dispatch(c: _Call) -> _Outcome:
    lead, assisting = _departments(c)
    changes: dict[str, Any] = {"lead_department": lead, "assisting_departments": assisting}
    if c.action is Action.REDISPATCH:
        from callcenter.tickets.sla import take_up_deadline

        take_up = take_up_deadline(c.t.kind, c.t.urgency, c.at, policy=c.policy)
        changes |= {"objection": False, "deadlines": replace(c.t.deadlines, take_up_due=take_up)}
    return _S.DISPATCHED, changes, c.event(lead=lead, assisting=list(assisting))


def _plain(to: TicketStatus | None = None, **changes: Any) -> Any:
    return lambda c: (to or c.t.status, dict(changes), c.event())


def _answer_on_spot(c: _Call) -> _Outcome:
    if c.t.kind not in ON_SPOT_KINDS:
        raise c.fail(f"kind '{c.t.kind.value}' ({c.t.kind.label}) cannot be answered on the spot")
    return _S.RESOLVED, {"lead_department": HALL}, c.event()


def _return(c: _Call) -> _Outcome:
    c.need_reason()
    changes = {"lead_department": None, "assisting_departments": (), "pending_extension": None,
               "objection": c.action is Action.OBJECT}
    return _S.RETURNED, changes, c.event(returned_by=c.t.lead_department)


def _request_extension(c: _Call) -> _Outcome:
    c.need_reason()
    if c.t.pending_extension is not None:
        raise c.fail(f"an extension of {c.t.pending_extension} days is already pending")
    days, limit = c.days(), c.policy.max_extension_working_days
    if c.t.extension_days_granted + days > limit:
        raise c.fail(f"{days} days would exceed the maximum extension of {limit} working days "
                     f"({c.t.extension_days_granted} already granted)")
    return c.t.status, {"pending_extension": days}, c.event(days=days)


def _decide_extension(c: _Call) -> _Outcome:
    pending = c.t.pending_extension
    if pending is None:
        raise c.fail("no extension request is pending")
    if c.action is Action.DENY_EXTENSION:
        return c.t.status, {"pending_extension": None}, c.event(days=pending)
    from callcenter.tickets.sla import extend_deadlines

    days = c.days(pending)
    if days > pending:
        raise c.fail(f"cannot grant {days} days, only {pending} requested")
    deadlines = extend_deadlines(c.t.deadlines, days, policy=c.policy)
    changes = {"pending_extension": None, "extension_days_granted": c.t.extension_days_granted + days,
               "deadlines": deadlines}
    return c.t.status, changes, c.event(days=days, resolve_due=_iso(deadlines.resolve_due))


def _escalate(c: _Call) -> _Outcome:
    level = c.t.escalation_level + 1
    return c.t.status, {"escalation_level": level}, c.event(level=level)


def _redo(c: _Call, **values: Any) -> _Outcome:
    """重办: back to the same lead department (or to the hall when there is none)."""
    from callcenter.tickets.sla import redo_deadlines

    deadlines = redo_deadlines(c.t.kind, c.t.urgency, c.at, policy=c.policy)
    to = _S.DISPATCHED if c.t.lead_department not in (None, HALL) else _S.RETURNED
    changes = {"reopen_count": c.t.reopen_count + 1, "deadlines": deadlines, "pending_extension": None}
    if to is _S.RETURNED:
        changes["lead_department"] = None
    return to, changes, c.event(redo="重办", lead=c.t.lead_department, resolve_due=_iso(deadlines.resolve_due),
                                **values)


def _survey(c: _Call) -> _Outcome:
    rating = c.data.get("rating")
    if not isinstance(rating, str):
        raise c.fail("data 'rating' is required")
    if (c.scale_ or FIVE_LEVEL).is_bad(rating):
        to, changes, data = _redo(c, rating=rating, bad=True)
        return to, changes | {"satisfaction": rating}, data
    return _S.SURVEYED, {"satisfaction": rating}, c.event(rating=rating, bad=False)


def _reopen(c: _Call) -> _Outcome:
    c.need_reason()
    if c.t.merged_into:
        raise c.fail(f"ticket was merged into {c.t.merged_into}; reopen that one")
    return _redo(c)


def _close(c: _Call) -> _Outcome:
    if c.t.status is _S.RESOLVED:
        c.need_reason()  # closing without a survey needs a reason (e.g. caller unreachable)
    return _S.CLOSED, {}, c.event(surveyed=c.t.status is _S.SURVEYED)


def _merge(c: _Call) -> _Outcome:
    target = c.data.get("merged_into")
    if not isinstance(target, str):
        raise c.fail("data 'merged_into' (ticket number) is required")
    parse_ticket_number(target)
    if target == c.t.number:
        raise c.fail("a ticket cannot be merged into itself")
    return _S.CLOSED, {"merged_into": target}, c.event(merged_into=target)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


_HANDLERS: dict[Action, Any] = {
    Action.DISPATCH: _dispatch,
    Action.REDISPATCH: _dispatch,
    Action.ACKNOWLEDGE: _plain(_S.ACKNOWLEDGED),
    Action.START: _plain(_S.IN_PROGRESS),
    Action.RESOLVE: _plain(_S.RESOLVED, pending_extension=None),
    Action.ANSWER_ON_SPOT: _answer_on_spot,
    Action.RETURN: _return,
    Action.OBJECT: _return,
    Action.REQUEST_EXTENSION: _request_extension,
    Action.APPROVE_EXTENSION: _decide_extension,
    Action.DENY_EXTENSION: _decide_extension,
    Action.ESCALATE: _escalate,
    Action.SURVEY: _survey,
    Action.REOPEN: _reopen,
    Action.CLOSE: _close,
    Action.MERGE: _merge,
}
