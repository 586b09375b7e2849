"""The rates of the survey results (pure): 满意率 (and strict), 回访率, 解决率, agent service rating, 漏话回拨率.

Definitions (one place, used by the API, the board and the daily report):
- 满意率 = satisfied ratings / valid ratings (非常满意 + 满意 + 基本满意 on the five-level scale);
  strict 满意率 counts only 非常满意 + 满意 (the scale's `strict` levels).
- 回访率 = ticket callbacks that reached the citizen / ticket callbacks that fell due and
  finished (reached or given up as 无法联系); no-callback closes (匿名, 拒绝, 退订, 黑名单)
  are not due, pending ones are not finished yet.
- 解决率 = "resolved: yes" / answers to 是否解决.
- agent service rating (坐席服务评价) = 满意率 over post-call ratings.
- 漏话回拨率 = missed-call callbacks that reached the caller / eligible missed calls that
  finished (reached or unreachable); those cancelled because the caller called in first are
  "already served", not counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from callcenter.surveys.model import Reason
from callcenter.tickets.api import SatisfactionScale

NOT_DUE = frozenset({Reason.ANONYMOUS.value, Reason.DECLINED.value, Reason.OPTED_OUT.value,
                     Reason.BLACKLISTED.value})


@dataclass(frozen=True)
class Record:
    """One finished (or pending) piece of outbound work, flattened for figures."""

    kind: str  # 'ticket' | 'missed' | 'rating'
    state: str  # 'pending' | 'dialling' | 'done' | 'closed' | 'cancelled'
    reason: str | None = None
    resolved: bool | None = None
    rating: str | None = None  # the level's label
    day: date | None = None
    department: str | None = None
    district: str | None = None
    team: str | None = None
    agent: str | None = None


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def figures(records: Iterable[Record], scale: SatisfactionScale) -> dict[str, Any]:
    sat = {lv.label for lv in scale.levels if lv.satisfied}
    strict = {lv.label for lv in scale.levels if lv.strict}
    bad = {lv.label for lv in scale.levels if lv.bad}
    valid = satisfied = strict_n = bad_n = 0
    ans_resolved = resolved_yes = 0
    due = reached = not_due = 0
    m_eligible = m_reached = m_served = 0
    r_valid = r_sat = 0
    for r in records:
        if r.kind == "rating":
            if r.rating is not None:
                r_valid += 1
                r_sat += r.rating in sat
            continue
        if r.kind == "missed":
            if r.state == "cancelled":
                m_served += 1
            elif r.state in ("done", "closed"):
                m_eligible += 1
                m_reached += r.state == "done"
            continue
        if r.state == "closed" and r.reason in NOT_DUE:
            not_due += 1
            continue
        if r.state in ("done", "closed"):
            due += 1
            reached += r.state == "done"
        if r.rating is not None:
            valid += 1
            satisfied += r.rating in sat
            strict_n += r.rating in strict
            bad_n += r.rating in bad
        if r.resolved is not None:
            ans_resolved += 1
            resolved_yes += r.resolved
    return {
        "satisfaction_rate": _rate(satisfied, valid), "satisfaction_rate_strict": _rate(strict_n, valid),
        "valid_ratings": valid, "bad_reviews": bad_n,
        "revisit_rate": _rate(reached, due), "revisits_due": due, "revisits_reached": reached,
        "no_callback": not_due,
        "resolution_rate": _rate(resolved_yes, ans_resolved), "resolution_answers": ans_resolved,
        "agent_rating": _rate(r_sat, r_valid), "agent_ratings": r_valid,
        "missed_callback_rate": _rate(m_reached, m_eligible), "missed_eligible": m_eligible,
        "missed_reached": m_reached, "missed_already_served": m_served,
    }


GROUPS: dict[str, Callable[[Record], Any]] = {
    "department": lambda r: r.department, "district": lambda r: r.district, "team": lambda r: r.team,
    "agent": lambda r: r.agent, "day": lambda r: r.day.isoformat() if r.day else None,
}


def grouped(records: Iterable[Record], by: str, scale: SatisfactionScale) -> dict[str, dict[str, Any]]:
    """Figures per department / district / team / agent / day (records without the key left out)."""
    try:
        key = GROUPS[by]
    except KeyError:
        raise ValueError(f"group by one of {sorted(GROUPS)}, not {by!r}") from None
    buckets: dict[str, list[Record]] = {}
    for r in records:
        k = key(r)
        if k is not None:
            buckets.setdefault(str(k), []).append(r)
    return {k: figures(v, scale) for k, v in sorted(buckets.items())}
