"""Rows of the calls and agent_states tables -> today's KPI section of the board."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callcenter.acd.kpi import KpiConfig, compute_kpis, intervals_from_events
from callcenter.acd.service_level import agent_events, call_records, day_bounds, kpi_doc

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, tzinfo=TZ)


def t(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def call(cid: str, queued: float, answered: float | None, ended: float | None, disposition: str | None,
         agent: str | None = None) -> dict:
    return {"call_id": cid, "queue": "general", "entered_at": t(queued - 20), "queued_at": t(queued),
            "answered_at": None if answered is None else t(answered),
            "ended_at": None if ended is None else t(ended), "disposition": disposition, "agent_id": agent}


def state(agent: str, frm: str, to: str, at: float) -> dict:
    return {"agent_id": agent, "from_state": frm, "to_state": to, "reason": "", "at": t(at)}


def test_day_bounds_are_local_midnights() -> None:
    start, end = day_bounds(datetime(2026, 3, 1, 17, 30, tzinfo=ZoneInfo("UTC")), TZ)  # 01:30 on the 2nd
    assert start == datetime(2026, 3, 2, tzinfo=TZ) and end - start == timedelta(days=1)


def test_records_wait_from_queue_entry_and_wrap_up_from_agent_states() -> None:
    rows = [call("a", 0, 10, 70, "answered", "1001"), call("b", 5, None, 40, "abandoned"),
            call("c", 6, None, 8, "abandoned"), call("d", 50, None, None, None),  # still waiting
            call("e", 60, 80, None, None, "1002")]  # talking now
    states = agent_events([state("1001", "logged_out", "available", -100), state("1001", "available", "ringing", 8),
                           state("1001", "ringing", "on_call", 10), state("1001", "on_call", "wrap_up", 70),
                           state("1001", "wrap_up", "available", 95), state("1001", "x", "bogus", 96)])
    assert len(states) == 5  # unknown state names are skipped
    intervals = intervals_from_events(states, t(100))
    recs = {r.call_id: r for r in call_records(rows, intervals, t(100))}
    assert set(recs) == {"a", "b", "c", "e"}
    assert recs["a"].wait_s == 10 and recs["a"].talk_s == 60 and recs["a"].wrap_up_s == 25
    assert recs["b"].abandoned and not recs["e"].abandoned and recs["e"].talk_s == 20
    report = compute_kpis(recs.values(), intervals)
    doc = kpi_doc(report, KpiConfig())
    assert doc["inbound"] == 4 and doc["answered"] == 2 and doc["answer_rate"] == pytest.approx(0.5)
    assert doc["short_abandoned"] == 1 and doc["abandoned"] == 1
    assert doc["timely_answered"] == 1 and doc["timely_rate"] == pytest.approx(0.5)  # 10 s yes, 20 s no
    assert doc["answer_rate_met"] is False and doc["answer_rate_target"] == 0.95
    assert doc["timely_rate_target"] == 0.8 and doc["timely_answer_s"] == 15
    assert doc["aht_s"] == pytest.approx((60 + 25 + 20) / 2)


def test_empty_day_has_no_figures_but_keeps_targets() -> None:
    doc = kpi_doc(compute_kpis([]), KpiConfig())
    assert doc["inbound"] == 0 and doc["answer_rate"] is None and doc["answer_rate_met"] is None
    assert (doc["answer_rate_target"], doc["timely_rate_target"]) == (0.95, 0.8)
