"""Seats, teams and the 4班3倒 rotation (data-driven; time is always passed in)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cached_property
from importlib import resources
from typing import Any, Self
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from callcenter.acd.agents import Agent, AgentConfig, require_aware
from callcenter.acd.policy import QueueDef

REST = "O"
DEFAULT_TZ = "Asia/Shanghai"


class RosterError(ValueError):
    """A roster file that cannot be used; the message names the offending field."""


def _parse_time(v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool):
        raise ValueError(f"got the number {v}: write times as quoted 'HH:MM' strings "
                         "(YAML reads unquoted 16:00 as a base-60 number)")
    if isinstance(v, str) and v.strip() in ("24:00", "24:00:00"):
        return time(0)  # end of day
    return v


class Seat(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^seat\d{2,}$")
    team: str = Field(min_length=1)
    skills: frozenset[str] = frozenset({"general"})
    extension: str = Field(default="", validate_default=True)  # SIP endpoint; defaults to the seat id

    @field_validator("extension")
    @classmethod
    def _default_extension(cls, v: str, info: ValidationInfo) -> str:
        return v or str(info.data.get("id", ""))


class ShiftDef(BaseModel):
    """Clock times in the rotation timezone; ``end`` <= ``start`` means the shift ends the next day
    ("24:00" is accepted as end).  ``day_offset`` = 1 makes the shift of rotation day d start on
    calendar day d+1: the 夜班 00:00-08:00 worked "on day d" is the night that follows day d, so
    早早中中夜夜休休 leaves >= 24 h between any two shifts (with offset 0, 中 16-24 on day d would be
    followed straight by 夜 00-08 on day d+1: a 16-hour double)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(min_length=1, max_length=1)
    name: str
    start: time
    end: time
    day_offset: int = Field(default=0, ge=0, le=1)

    _time = field_validator("start", "end", mode="before")(_parse_time)

    @field_validator("code")
    @classmethod
    def _not_rest(cls, v: str) -> str:
        if v == REST:
            raise ValueError(f"{REST!r} is reserved for rest days")
        return v

    @property
    def duration(self) -> timedelta:
        s = timedelta(hours=self.start.hour, minutes=self.start.minute, seconds=self.start.second)
        e = timedelta(hours=self.end.hour, minutes=self.end.minute, seconds=self.end.second)
        d = (e - s) % timedelta(days=1)
        return d or timedelta(days=1)

    def window(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        start = datetime.combine(day + timedelta(days=self.day_offset), self.start, tzinfo=tz)
        return start, start + self.duration


DEFAULT_SHIFTS: tuple[ShiftDef, ...] = (
    ShiftDef(code="N", name="夜班", start=time(0), end=time(8), day_offset=1),
    ShiftDef(code="E", name="早班", start=time(8), end=time(16)),
    ShiftDef(code="M", name="中班", start=time(16), end=time(0)),
)


class ShiftOverride(BaseModel):
    """A swap or leave on one rotation day: ``shift`` is a shift code or "O" (rest).
    Applies to a whole team, or to one agent (agent overrides win)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    team: str | None = None
    agent_id: str | None = None
    date: date
    shift: str
    reason: str = ""

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        if (self.team is None) == (self.agent_id is None):
            raise ValueError("give exactly one of team or agent_id")
        return self


class Rotation(BaseModel):
    """Team ``t`` on day ``d`` works ``pattern[(days since start_date + team_offsets[t]) % len]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_date: date
    pattern: str = "EEMMNNOO"
    team_offsets: dict[str, int] = Field(default_factory=lambda: {"A": 0, "B": 2, "C": 4, "D": 6})
    shifts: tuple[ShiftDef, ...] = DEFAULT_SHIFTS
    overrides: tuple[ShiftOverride, ...] = ()
    timezone: str = DEFAULT_TZ

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except Exception as e:  # ZoneInfoNotFoundError, ValueError
            raise ValueError(f"unknown timezone {v!r}") from e
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        codes = [s.code for s in self.shifts]
        if len(set(codes)) != len(codes):
            raise ValueError(f"shifts: duplicate shift code in {codes}")
        if not self.pattern:
            raise ValueError("pattern: must not be empty")
        bad = sorted(set(self.pattern) - set(codes) - {REST})
        if bad:
            raise ValueError(f"pattern: unknown shift code(s) {bad}; known {codes} and {REST!r}")
        for i, o in enumerate(self.overrides):
            if o.shift != REST and o.shift not in codes:
                raise ValueError(f"overrides.{i}.shift: unknown shift code {o.shift!r}")
            if o.team is not None and o.team not in self.team_offsets:
                raise ValueError(f"overrides.{i}.team: unknown team {o.team!r}")
        return self

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _by_code(self) -> dict[str, ShiftDef]:
        return {s.code: s for s in self.shifts}

    @cached_property
    def _team_ovr(self) -> dict[tuple[str, date], str]:
        return {(o.team, o.date): o.shift for o in self.overrides if o.team is not None}

    @cached_property
    def _agent_ovr(self) -> dict[tuple[str, date], str]:
        return {(o.agent_id, o.date): o.shift for o in self.overrides if o.agent_id is not None}

    @cached_property
    def _max_back(self) -> int:
        """How many rotation days back a shift can still be running (0 when none crosses midnight)."""
        def reach(s: ShiftDef) -> int:
            start_s = s.start.hour * 3600 + s.start.minute * 60 + s.start.second
            return s.day_offset + math.ceil((start_s + s.duration.total_seconds()) / 86400) - 1
        return max(reach(s) for s in self.shifts)

    def with_overrides(self, overrides: Iterable[ShiftOverride]) -> Rotation:
        return Rotation.model_validate({**self.model_dump(), "overrides": (*self.overrides, *overrides)})

    def shift_def(self, code: str) -> ShiftDef | None:
        return self._by_code.get(code)

    def code_for(self, team: str, day: date, agent_id: str | None = None) -> str:
        """Shift code (or "O") worked on rotation day ``day``; overrides applied."""
        if team not in self.team_offsets:
            raise KeyError(f"unknown team {team!r}")
        if agent_id is not None and (agent_id, day) in self._agent_ovr:
            return self._agent_ovr[(agent_id, day)]
        if (team, day) in self._team_ovr:
            return self._team_ovr[(team, day)]
        idx = ((day - self.start_date).days + self.team_offsets[team]) % len(self.pattern)
        return self.pattern[idx]

    def _locate(self, team: str, at: datetime, agent_id: str | None) -> tuple[ShiftDef, datetime, datetime] | None:
        local = require_aware(at).astimezone(self.tz)
        for back in range(self._max_back + 1):
            day = local.date() - timedelta(days=back)
            sd = self._by_code.get(self.code_for(team, day, agent_id))
            if sd is not None:
                start, end = sd.window(day, self.tz)
                if start <= local < end:
                    return sd, start, end
        return None

    def shift_of(self, team: str, at: datetime, agent_id: str | None = None) -> ShiftDef | None:
        """The shift being worked at instant ``at`` (None when resting / between shifts)."""
        found = self._locate(team, at, agent_id)
        return found[0] if found else None

    def shift_window(self, team: str, at: datetime,
                     agent_id: str | None = None) -> tuple[datetime, datetime] | None:
        """Start and end (local time) of the shift being worked at ``at``."""
        found = self._locate(team, at, agent_id)
        return (found[1], found[2]) if found else None

    def on_shift_teams(self, at: datetime) -> set[str]:
        return {t for t in self.team_offsets if self.shift_of(t, at) is not None}

    def is_on_shift(self, subject: object, at: datetime) -> bool:
        """``subject``: a team name, a Seat, or anything with ``team`` (and optionally ``agent_id``)."""
        if isinstance(subject, str):
            return self.shift_of(subject, at) is not None
        team = getattr(subject, "team", None)
        if not isinstance(team, str):
            raise TypeError(f"cannot tell the team of {subject!r}")
        return self.shift_of(team, at, getattr(subject, "agent_id", None)) is not None


class Roster(BaseModel):
    """Seats + rotation + queues + agent settings, as loaded from ``data/seats.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seats: tuple[Seat, ...]
    rotation: Rotation
    queues: tuple[QueueDef, ...] = ()
    agents: AgentConfig = Field(default_factory=AgentConfig)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for field, items in (("seats", [s.id for s in self.seats]), ("queues", [q.name for q in self.queues])):
            dup = sorted(k for k, n in Counter(items).items() if n > 1)
            if dup:
                raise ValueError(f"{field}: duplicate id(s) {dup}")
        teams = set(self.rotation.team_offsets)
        for i, s in enumerate(self.seats):
            if s.team not in teams:
                raise ValueError(f"seats.{i}.team: {s.team!r} is not in rotation.team_offsets {sorted(teams)}")
        skills = set().union(*(s.skills for s in self.seats)) if self.seats else set()
        for i, q in enumerate(self.queues):
            missing = sorted(({q.skill} | set(q.overflow_skills)) - skills)
            if missing:
                raise ValueError(f"queues.{i} ({q.name}): no seat has skill(s) {missing}")
        return self

    @classmethod
    def from_yaml(cls, text: str, source: str = "seats.yaml") -> Roster:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise RosterError(f"{source}: not valid YAML: {e}") from e
        if not isinstance(raw, dict):
            raise RosterError(f"{source}: expected a mapping at top level")
        raw.pop("version", None)
        try:
            return cls.model_validate(raw)
        except ValidationError as e:
            lines = [f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in e.errors()]
            raise RosterError(f"{source}: invalid roster:\n  " + "\n  ".join(lines)) from None

    @classmethod
    def default(cls) -> Roster:
        text = resources.files("callcenter.acd").joinpath("data/seats.yaml").read_text(encoding="utf-8")
        return cls.from_yaml(text, "callcenter/acd/data/seats.yaml")

    # lookups
    def has_seat(self, seat_id: str) -> bool:
        return any(s.id == seat_id for s in self.seats)

    def seat(self, seat_id: str) -> Seat:
        for s in self.seats:
            if s.id == seat_id:
                return s
        raise KeyError(f"unknown seat {seat_id!r}")

    def queue(self, name: str) -> QueueDef | None:
        return next((q for q in self.queues if q.name == name), None)

    @property
    def teams(self) -> list[str]:
        return sorted(self.rotation.team_offsets)

    def seats_of(self, team: str) -> list[Seat]:
        return [s for s in self.seats if s.team == team]

    def is_on_shift(self, subject: object, at: datetime) -> bool:
        return self.rotation.is_on_shift(subject, at)

    def on_shift_teams(self, at: datetime) -> set[str]:
        return self.rotation.on_shift_teams(at)

    def on_shift_seats(self, at: datetime) -> list[Seat]:
        teams = self.on_shift_teams(at)
        return [s for s in self.seats if s.team in teams]

    def with_overrides(self, overrides: Iterable[ShiftOverride]) -> Roster:
        return self.model_copy(update={"rotation": self.rotation.with_overrides(overrides)})

    def make_agent(self, agent_id: str, seat_id: str) -> Agent:
        seat = self.seat(seat_id)
        return Agent(agent_id=agent_id, seat_id=seat.id, team=seat.team, skills=seat.skills, config=self.agents)

