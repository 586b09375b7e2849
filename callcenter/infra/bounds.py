"""Bounds of the request values that reach PostgreSQL, so that an out-of-range value is a 422
naming its field, never a driver error (a 500): row ids within ``bigint``, dates and times within
years 2000..2100 (year 1 or 9999 overflows once converted to UTC; no hall has records outside).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from aiohttp import web
from pydantic import AfterValidator, AwareDatetime

from callcenter.infra.web import HttpError

INT64_MAX = 2**63 - 1  # bigint
INT32_MAX = 2**31 - 1  # integer
YEARS = (2000, 2100)


def in_years(value: date) -> date:
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(f"a date between {YEARS[0]} and {YEARS[1]}")
    return value


Moment = Annotated[AwareDatetime, AfterValidator(in_years)]  # a date and time with its offset, in range


def path_id(request: web.Request, name: str, maximum: int = INT64_MAX) -> int:
    """The path parameter ``name`` as a row id (an ``integer`` column: ``maximum=INT32_MAX``);
    422 naming it when it is not one."""
    raw = request.match_info[name]
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 40 else 0
    if not 1 <= value <= maximum:
        raise HttpError(422, "invalid", f"{name} must be a row id (1 .. {maximum})", {name: f"1 .. {maximum}"})
    return value


def moment(name: str, value: datetime) -> datetime:
    """``value`` of the field ``name`` if its year is in range; 422 naming it otherwise."""
    try:
        in_years(value)
    except ValueError as exc:
        raise HttpError(422, "invalid", f"{name}: {exc}", {name: f"{YEARS[0]}..{YEARS[1]}"}) from None
    return value
