"""Today's service level of the hotline (接通率, 及时率, ASA, AHT, occupancy) as the board shows
it, read from the record: the PostgreSQL `calls` and `agent_states` tables.

The figures themselves come from :func:`callcenter.acd.kpi.compute_kpis` (pure); this module
only reads rows and turns them into :class:`CallRecord` / :class:`StateInterval` (pure helpers
below, tested without a database). "Today" is the local day (Asia/Shanghai by default).

What counts as inbound: calls that reached the ACD queue (``queue`` set) today. A call still
waiting is not counted yet (it is neither answered nor lost); a call being talked counts as
answered with its talk time so far.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from callcenter.acd.agents import AgentEvent, AgentState
from callcenter.acd.effects import Disposition
from callcenter.acd.kpi import (
    CallRecord,
    KpiConfig,
    KpiReport,
    StateInterval,
    compute_kpis,
    intervals_from_events,
)

WRAP_MATCH_S = 5.0  # a wrap-up interval that starts this close to a call's end belongs to it


def day_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def agent_events(rows: Iterable[Mapping[str, Any]]) -> list[AgentEvent]:
    out = []
    for r in rows:
        try:
            out.append(AgentEvent(r["agent_id"], AgentState(r["from_state"]), AgentState(r["to_state"]),
                                  r["at"], r["reason"] or ""))
        except ValueError:
            continue  # an unknown state name in old rows: skip, never fail the board
    return out


def _wrap_up_s(agent_id: str | None, ended: datetime, wraps: dict[str, list[StateInterval]]) -> float:
    for iv in wraps.get(agent_id or "", ()):
        if abs((iv.start - ended).total_seconds()) <= WRAP_MATCH_S:
            return iv.seconds
    return 0.0


def call_records(rows: Iterable[Mapping[str, Any]], intervals: Iterable[StateInterval],
                 now: datetime) -> list[CallRecord]:
    wraps: dict[str, list[StateInterval]] = {}
    for iv in intervals:
        if iv.state is AgentState.WRAP_UP:
            wraps.setdefault(iv.agent_id, []).append(iv)
    out = []
    for r in rows:
        entered = r["queued_at"] or r["entered_at"]
        answered, ended = r["answered_at"], r["ended_at"]
        if ended is None and answered is None:
            continue  # still waiting: not decided yet
        end = ended or max(now, answered)
        wrap = _wrap_up_s(r["agent_id"], end, wraps) if answered is not None and ended is not None else 0.0
        out.append(CallRecord(r["call_id"], r["queue"], entered, answered, max(end, entered),
                              abandoned=answered is None and r["disposition"] == Disposition.ABANDONED,
                              agent_id=r["agent_id"], wrap_up_s=wrap))
    return out


def kpi_doc(report: KpiReport, config: KpiConfig) -> dict[str, Any]:
    """The board's KPI section (ratios 0..1, seconds; None when there is nothing to divide)."""
    return {
        "inbound": report.inbound, "answered": report.answered, "timely_answered": report.timely_answered,
        "abandoned": report.abandoned, "short_abandoned": report.short_abandoned,
        "answer_rate": report.answer_rate, "answer_rate_target": config.answer_rate_target,
        "answer_rate_met": report.answer_rate_met,
        "timely_rate": report.timely_rate, "timely_rate_target": config.timely_rate_target,
        "timely_rate_met": report.timely_rate_met, "timely_answer_s": config.timely_answer_s,
        "abandon_rate": report.abandon_rate, "asa_s": report.asa_s, "aht_s": report.aht_s,
        "occupancy": report.occupancy,
    }


async def today_kpis(pool: asyncpg.Pool, now: datetime, tz: ZoneInfo,
                     config: KpiConfig | None = None) -> dict[str, Any]:
    cfg = config or KpiConfig()
    start, end = day_bounds(now, tz)
    async with pool.acquire() as conn:
        calls = await conn.fetch(
            "SELECT call_id, queue, entered_at, queued_at, answered_at, ended_at, disposition, agent_id"
            " FROM calls WHERE queue IS NOT NULL AND entered_at >= $1 AND entered_at < $2", start, end)
        states = await conn.fetch(
            "SELECT agent_id, from_state, to_state, reason, at FROM agent_states"
            " WHERE at >= $1 AND at < $2 ORDER BY agent_id, at", start - timedelta(hours=12), end)
    intervals = intervals_from_events(agent_events(states), now)
    report = compute_kpis(call_records(calls, intervals, now), intervals, cfg, start=start, end=end)
    return kpi_doc(report, cfg) | {"day": start.date().isoformat()}
