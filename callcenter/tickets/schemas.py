"""Request bodies, action bodies and query strings of the tickets API (pydantic, validated input).

The same models validate input for the service layer (``TicketService.create_ticket``) and
build the OpenAPI document (:mod:`callcenter.tickets.http`, :mod:`callcenter.infra.web`); the responses are in
:mod:`callcenter.tickets.responses`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callcenter.infra.bounds import INT64_MAX, Moment
from callcenter.infra.phones import canonical_phone
from callcenter.tickets.errors import TicketError
from callcenter.tickets.model import Channel, District, Kind, TicketStatus, Urgency

_CODE = r"^[a-z][a-z0-9_]*$"
_NUMBER = r"^[A-Z]{2,8}-\d{8}-\d{6}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Location(_In):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class AttachmentIn(_In):
    kind: Literal["photo", "audio", "video", "document"] = "photo"
    ref: str = Field(min_length=1, max_length=512, description="object-storage key or URL of the file")
    content_type: str | None = Field(default=None, max_length=100)
    size_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


def _phone(value: str) -> str:
    digits = canonical_phone(value)
    if value.strip() and not 3 <= len(digits) <= 15:
        raise ValueError("a phone number has 3 to 15 digits")
    if re.search(r"[^\d\s+()-]", value):
        raise ValueError("a phone number holds digits, spaces, +, -, ( and ) only")
    return digits


def _district(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return District.parse(value)
        except TicketError as exc:
            raise ValueError(str(exc)) from None
    return value


class _Describe(_In):
    """Fields an agent fills in (shared by create and update)."""

    caller_name: str = Field(default="", max_length=64)
    category: str = Field(default="", max_length=64)
    topics: list[str] = Field(default_factory=list, max_length=10)
    district: District | None = None
    address: str = Field(default="", max_length=256)
    location: Location | None = None
    urgency: Urgency = Urgency.NORMAL

    v_district = field_validator("district", mode="before")(classmethod(lambda cls, v: _district(v)))

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        for code in value:
            if not re.match(_CODE, code):
                raise ValueError(f"topic code {code!r} must be snake_case")
        return list(dict.fromkeys(value))


def _kind(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return Kind.parse(value)
        except TicketError:
            raise ValueError(f"unknown kind {value!r}: one of {', '.join(k.value for k in Kind)} "
                             f"or 咨询/求助/投诉/举报/建议/表扬") from None
    return value


class ArticleRef(_In):
    """The knowledge article a ticket is answered from (直接答复), as the knowledge feature found it."""

    id: str = Field(pattern=r"^KB\d{5,8}$")
    version: int = Field(ge=1)
    unit: str = Field(pattern=_CODE, description="its owning unit: a bad review reopens the ticket to it")
    title: str = Field(default="", max_length=120)


class TicketCreate(_Describe):
    kind: Kind
    description: str = Field(min_length=2, max_length=4000)
    caller_phone: str = Field(default="", max_length=32)
    channel: Literal[Channel.CALL, Channel.WEB, Channel.CALLBACK] = Channel.CALL
    call_ids: list[str] = Field(default_factory=list, max_length=20)
    transcript: str = Field(default="", max_length=20000)
    lead: str | None = Field(default=None, pattern=_CODE, description="dispatch straight to this department")
    assisting: list[str] = Field(default_factory=list, max_length=10)
    auto_dispatch: bool = Field(default=True, description="dispatch by the routing rules when confident")
    answer_on_spot: str | None = Field(default=None, min_length=1, max_length=4000,
                                       description="reply given during the call (enquiry, help, ...)")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    article: ArticleRef | None = Field(default=None, description="with answer_on_spot: the knowledge article used")
    idempotency_key: str | None = Field(default=None, min_length=8, max_length=128,
                                        description="client key: a retried request returns the same ticket")

    v_kind = field_validator("kind", mode="before")(classmethod(lambda cls, v: _kind(v)))
    v_phone = field_validator("caller_phone")(classmethod(lambda cls, v: _phone(v)))

    @model_validator(mode="after")
    def _choices(self) -> TicketCreate:
        if self.answer_on_spot and self.lead:
            raise ValueError("give either 'answer_on_spot' or 'lead', not both")
        if self.assisting and not self.lead:
            raise ValueError("'assisting' needs 'lead'")
        if self.article and not self.answer_on_spot:
            raise ValueError("'article' goes with 'answer_on_spot' (直接答复)")
        return self


class TicketUpdate(_In):
    """Correct an open ticket that is still in the hall (accepted or returned)."""

    kind: Kind | None = None
    caller_name: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, max_length=64)
    topics: list[str] | None = Field(default=None, max_length=10)
    district: District | None = None
    address: str | None = Field(default=None, max_length=256)
    location: Location | None = None
    urgency: Urgency | None = None
    description: str | None = Field(default=None, min_length=2, max_length=4000)
    add_call_ids: list[str] = Field(default_factory=list, max_length=20)
    transcript: str | None = Field(default=None, max_length=20000)
    version: int | None = Field(default=None, ge=0, description="optimistic concurrency: expected version")

    v_kind = field_validator("kind", mode="before")(classmethod(lambda cls, v: _kind(v)))
    v_district = field_validator("district", mode="before")(classmethod(lambda cls, v: _district(v)))

    @model_validator(mode="after")
    def _not_null(self) -> TicketUpdate:
        for name in self.model_fields_set - {"district", "location", "version"}:
            if getattr(self, name) is None:
                raise ValueError(f"'{name}' cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.model_fields_set if k != "version"}


class FieldReportCreate(_In):
    """城管通: a collector's report of a city-management problem."""

    field_kind: Literal["event", "component"] = Field(description="事件 event or 部件 component")
    category: str = Field(default="城市管理", min_length=1, max_length=64)
    description: str = Field(min_length=2, max_length=4000)
    location: Location
    address: str = Field(default="", max_length=256)
    district: District | None = None
    photo: AttachmentIn | None = None
    idempotency_key: str | None = Field(default=None, min_length=8, max_length=128)

    v_district = field_validator("district", mode="before")(classmethod(lambda cls, v: _district(v)))


# --------------------------------------------------------------------------- action bodies

class ActionBody(_In):
    note: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(default=None, ge=0, description="optimistic concurrency: expected version")

    def data(self) -> dict[str, Any]:
        return {"note": self.note} if self.note else {}


class ReasonBody(ActionBody):
    reason: str = Field(min_length=2, max_length=2000)


class DispatchBody(ActionBody):
    lead: str = Field(pattern=_CODE)
    assisting: list[str] = Field(default_factory=list, max_length=10)

    def data(self) -> dict[str, Any]:
        return super().data() | {"lead": self.lead, "assisting": self.assisting}


class ReplyBody(ActionBody):
    reply: str = Field(min_length=2, max_length=4000, description="the answer to the citizen (办结回复)")

    def data(self) -> dict[str, Any]:
        return super().data() | {"reply": self.reply}


class ObjectBody(ReasonBody):
    suggested: str | None = Field(default=None, pattern=_CODE, description="department that should handle it")

    def data(self) -> dict[str, Any]:
        return super().data() | ({"suggested": self.suggested} if self.suggested else {})


class ExtensionRequestBody(ReasonBody):
    days: int = Field(ge=1, le=30, description="working days asked for")

    def data(self) -> dict[str, Any]:
        return super().data() | {"days": self.days}


class ExtensionApproveBody(ActionBody):
    days: int | None = Field(default=None, ge=1, le=30, description="grant fewer days than asked")

    def data(self) -> dict[str, Any]:
        return super().data() | ({"days": self.days} if self.days else {})


class SurveyBody(ActionBody):
    rating: str = Field(min_length=1, max_length=16, description="e.g. 满意 / 基本满意 / 不满意")
    comment: str | None = Field(default=None, max_length=2000)

    def data(self) -> dict[str, Any]:
        return super().data() | {"rating": self.rating} | ({"comment": self.comment} if self.comment else {})


class MergeBody(ActionBody):
    into: str = Field(pattern=_NUMBER, description="number of the ticket to merge into")

    def data(self) -> dict[str, Any]:
        return super().data() | {"merged_into": self.into}


class VerifyBody(ActionBody):
    lead: str | None = Field(default=None, pattern=_CODE, description="override the routing decision")
    assisting: list[str] = Field(default_factory=list, max_length=10)


# --------------------------------------------------------------------------- query strings

class PageQuery(_In):
    limit: int = Field(default=20, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200, description="next_cursor of the previous page")


def _csv(value: Any) -> Any:
    return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


class SearchQuery(PageQuery):
    number: str | None = Field(default=None, max_length=24, description="PZH-20261127-000123 or its 14 digits")
    phone: str | None = Field(default=None, max_length=32)
    q: str | None = Field(default=None, min_length=1, max_length=100, description="words in the text")
    status: list[TicketStatus] = Field(default_factory=list, description="comma-separated")
    department: str | None = Field(default=None, pattern=_CODE, description="lead department")
    kind: Kind | None = None
    channel: Channel | None = None
    category: str | None = Field(default=None, max_length=64)
    district: District | None = None
    topic: str | None = Field(default=None, pattern=_CODE)
    created_from: Moment | None = Field(default=None, description="ISO-8601 with offset (inclusive)")
    created_to: Moment | None = Field(default=None, description="ISO-8601 with offset (exclusive)")
    overdue: bool | None = Field(default=None, description="open and past the resolve deadline now")
    escalated: bool | None = None
    sort: Literal["created", "due"] = Field(default="created", description="newest first, or deadline first")

    v_status = field_validator("status", mode="before")(classmethod(lambda cls, v: _csv(v)))
    v_kind = field_validator("kind", mode="before")(classmethod(lambda cls, v: _kind(v)))
    v_district = field_validator("district", mode="before")(classmethod(lambda cls, v: _district(v)))
    v_phone = field_validator("phone")(classmethod(lambda cls, v: _phone(v) if v else v))


class QueueQuery(PageQuery):
    role: Literal["lead", "assisting", "all"] = Field(default="all", description="tickets it leads / assists")
    status: list[TicketStatus] = Field(default_factory=list, description="comma-separated open statuses")

    v_status = field_validator("status", mode="before")(classmethod(lambda cls, v: _csv(v)))


class HallQuery(_In):
    limit: int = Field(default=200, ge=1, le=200, description="at most this many, nearest deadline first")
