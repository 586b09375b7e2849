"""The /metrics figures from plain data, and the bearer-token check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.infra.latency import Latency
from callcenter.metrics.counts import CallCounts, agents_by_state, queue_figures
from callcenter.metrics.plugin import MetricsPlugin

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_queue_figures_count_and_longest_wait_per_queue():
    docs = [{"queue": "general", "entered_at": (NOW - timedelta(seconds=40)).isoformat()},
            {"queue": "general", "entered_at": (NOW - timedelta(seconds=5)).isoformat()},
            {"queue": "market", "entered_at": (NOW - timedelta(seconds=12)).isoformat()}]
    f = queue_figures(docs, NOW, queues=["general", "market", "housing_fund"])
    assert f.waiting == {"general": 2, "market": 1, "housing_fund": 0}
    assert f.longest_wait_s == {"general": 40.0, "market": 12.0, "housing_fund": 0.0}


def test_queue_figures_ignore_unusable_times_but_still_count_the_call():
    f = queue_figures([{"queue": "general", "entered_at": "yesterday"}, {"entered_at": "2026-03-02T01:00:00"}], NOW)
    assert f.waiting == {"general": 1, "unknown": 1}
    assert f.longest_wait_s == {"general": 0.0, "unknown": 0.0}


def test_agents_by_state():
    assert agents_by_state([{"state": "idle"}, {"state": "on_call"}, {"state": "idle"}, {}], ["paused"]) == {
        "paused": 0, "idle": 2, "on_call": 1, "unknown": 1}


def test_rates_follow_the_hall_definitions():
    c = CallCounts(inbound=100, answered=90, answered_timely=72, abandoned=10, short_abandoned=4)
    assert c.answer_rate == 0.9
    assert c.timely_rate == 0.8
    assert c.abandon_rate == pytest.approx(6 / 96)
    empty = CallCounts()
    assert (empty.answer_rate, empty.timely_rate, empty.abandon_rate) == (None, None, None)
    with pytest.raises(ValueError):
        CallCounts(inbound=-1)


def test_latency_buckets_are_cumulative():
    lat = Latency(bounds=(0.01, 0.1))
    for s in (0.005, 0.01, 0.05, 3.0):
        lat.observe(s)
    assert lat.cumulative() == [("0.01", 2), ("0.1", 3), ("+Inf", 4)]
    assert lat.count == 4 and lat.total == pytest.approx(3.065)
    with pytest.raises(ValueError):
        Latency(bounds=(1.0, 0.5))


@pytest.mark.parametrize("token,header,ok", [
    ("", None, True), ("t0k", None, False), ("t0k", "Bearer t0k", True), ("t0k", "bearer t0k", True),
    ("t0k", "Bearer wrong", False), ("t0k", "Basic t0k", False), ("t0k", "Bearer", False)])
def test_bearer_token(token, header, ok):
    plugin = MetricsPlugin()
    plugin.token = token
    assert plugin.authorized(header) is ok
