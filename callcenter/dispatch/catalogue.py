"""The dispatch catalogue (派单目录): every unit the hall dispatches to and its categories.

Data (``data/catalogue.yaml``), validated at load: the one schema of a unit (code, name,
hotline, merge_mode, working_hours, categories) and the checks a complete catalogue needs:
unique codes, each category in one unit only, the hall and every district government present.
The dispatch rules (:mod:`.rules`), the classifier and the department admin all read this one
:class:`Catalogue`. Pure: no I/O beyond reading the file it is given.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DATA_DIR = Path(__file__).parent / "data"
CATALOGUE_FILE = DATA_DIR / "catalogue.yaml"
HALL = "hall"
# the district governments (属地): the ticket model's District values and their unit codes
DISTRICT_UNITS: dict[str, str] = {
    "东区": "east_district", "西区": "west_district", "仁和区": "renhe_district",
    "钒钛高新区": "vti_zone", "米易县": "miyi_county", "盐边县": "yanbian_county",
}
WORKING_PERIOD = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")
SHANGHAI = ZoneInfo("Asia/Shanghai")


class MergeMode(StrEnum):
    DIRECT = "direct"  # 直接并入
    PLATFORM = "platform"  # 物理平台并入 (双号并行)
    BUSINESS = "business"  # 业务并入 (hand-over)


def _period(text: str) -> tuple[int, int] | None:
    """'HH:MM-HH:MM' as (start, end) minutes of the day, None when it is not one period within a day."""
    m = WORKING_PERIOD.match(text.strip())
    if not m:
        return None
    start, end = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
    return (start, end) if 0 <= start < end <= 24 * 60 else None


def check_working_hours(value: str) -> str:
    """A unit's working hours: '24h' or 'HH:MM-HH:MM[,HH:MM-HH:MM]' within one day."""
    if value != "24h":
        for period in value.split(","):
            if _period(period) is None:
                raise ValueError(f"bad period {period!r}: use '24h' or 'HH:MM-HH:MM[,HH:MM-HH:MM]'")
    return value


class CatalogueError(ValueError):
    """The catalogue file is invalid; the message names the entry and the field."""


class Unit(BaseModel):
    """One handling unit (承办单位)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    hotline: str | None = Field(default=None, pattern=r"^\d{3,8}$")
    merge_mode: MergeMode | None = None
    working_hours: str = "24h"
    categories: tuple[str, ...] = ()

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        return check_working_hours(value)

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not c.strip() for c in value):
            raise ValueError("empty category")
        if len(set(value)) != len(value):
            raise ValueError("a category is listed twice")
        return value

    def is_open(self, at: datetime) -> bool:
        """Inside the working hours (local time of day; working-day check is the caller's)."""
        if self.working_hours == "24h":
            return True
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"time must be a timezone-aware datetime, got {at!r}")
        local = at.astimezone(SHANGHAI)
        now = local.hour * 60 + local.minute
        periods = [p for p in map(_period, self.working_hours.split(",")) if p]  # all valid: checked at load
        return any(start <= now < end for start, end in periods)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    departments: tuple[Unit, ...] = Field(min_length=1)


class Catalogue:
    """The validated catalogue: units by code, and the unit of each category."""

    def __init__(self, units: tuple[Unit, ...]) -> None:
        self.units: dict[str, Unit] = {}
        self.category_unit: dict[str, str] = {}
        for i, unit in enumerate(units):
            if unit.code in self.units:
                raise CatalogueError(f"departments[{i}].code: duplicate code {unit.code!r}")
            self.units[unit.code] = unit
            for cat in unit.categories:
                if cat in self.category_unit:
                    raise CatalogueError(f"departments[{i}].categories: {cat!r} is already listed under "
                                         f"{self.category_unit[cat]!r}")
                self.category_unit[cat] = unit.code
        missing = [c for c in (HALL, *DISTRICT_UNITS.values()) if c not in self.units]
        if missing:
            raise CatalogueError(f"departments: missing required unit(s) {', '.join(missing)}")
        for code, unit in self.units.items():
            if code != HALL and not unit.categories:
                raise CatalogueError(f"departments.{code}.categories: a unit the hall dispatches to needs "
                                     "at least one category")

    @property
    def dispatchable(self) -> list[str]:
        """Every unit a ticket can be dispatched to (all but the hall), in file order."""
        return [c for c in self.units if c != HALL]

    def __contains__(self, code: object) -> bool:
        return code in self.units

    def name(self, code: str) -> str:
        return self.units[code].name


def parse_catalogue(text: str, what: str = "catalogue") -> Catalogue:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{what} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogueError(f"{what} must be a mapping with a 'departments' list")
    try:
        spec = _File.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CatalogueError(f"{what}: {where}: {first['msg'].removeprefix('Value error, ')}") from None
    return Catalogue(spec.departments)


@functools.cache
def default_catalogue() -> Catalogue:
    return parse_catalogue(CATALOGUE_FILE.read_text("utf-8"), CATALOGUE_FILE.name)
