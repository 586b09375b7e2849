"""The ticket feature's configuration in force: the number prefix, the SLA policy, the
satisfaction scale and the duplicate (并单) window. Frozen; built once by the plugin."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import timedelta

from callcenter.tickets.dedup import DEFAULT_RADIUS_M, DEFAULT_WINDOW
from callcenter.tickets.model import FIVE_LEVEL, SatisfactionScale
from callcenter.tickets.sla import SlaPolicy, default_policy

ROUTER = "system:router"  # actor of automatic dispatches
SLA = "system:sla"  # actor of the sweeper's escalations and reminders


@dataclass(frozen=True)
class TicketConfig:
    prefix: str = "PZH"
    policy: SlaPolicy = field(default_factory=default_policy)
    scale: SatisfactionScale = FIVE_LEVEL
    dedup_window: timedelta = DEFAULT_WINDOW
    radius_m: float = DEFAULT_RADIUS_M

    def __post_init__(self) -> None:
        cal = self.policy.calendar
        if not hasattr(cal.is_workday, "cache_info"):
            # chinese_calendar validates every date it is asked about (slow); a day's answer never
            # changes for a given calendar, so remember it (speeds up deadlines ~10x)
            cal.is_workday = functools.lru_cache(maxsize=8192)(cal.is_workday)

    def normalise_number(self, text: str) -> str | None:
        """"PZH-20261127-000123" or the digits "20261127000123" -> full number; None if malformed."""
        text = (text or "").strip().upper()
        digits = text.replace("-", "")
        if digits.isdigit() and len(digits) == 14:
            return f"{self.prefix}-{digits[:8]}-{digits[8:]}"
        parts = text.split("-")
        if (len(parts) == 3 and parts[0].isalpha() and parts[1].isdigit() and len(parts[1]) == 8
                and parts[2].isdigit() and len(parts[2]) == 6):
            return text
        return None
