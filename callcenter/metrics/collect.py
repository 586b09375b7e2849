"""Read the figures at scrape time and render the Prometheus text exposition.

Sources: the Redis live view (queue and agents, written by the ACD), PostgreSQL (today's calls,
the MQTT outbox backlog, dialler attempts) and the ARI client's own counters. Nothing is kept
between scrapes: every scrape reads the current state, so a restarted controller reports right.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from callcenter.infra.ari import AriClient
from callcenter.infra.redis import LiveState
from callcenter.metrics.counts import TIMELY_S, CallCounts, agents_by_state, queue_figures

# today's calls that reached the queue, counted in the hall's time zone
CALLS_TODAY = f"""
SELECT count(*) AS inbound,
       count(answered_at) AS answered,
       count(*) FILTER (WHERE answered_at - coalesce(queued_at, entered_at) <= interval '{TIMELY_S} seconds')
         AS answered_timely,
       count(*) FILTER (WHERE answered_at IS NULL AND ended_at IS NOT NULL) AS abandoned,
       count(*) FILTER (WHERE answered_at IS NULL AND ended_at - coalesce(queued_at, entered_at)
                        < interval '5 seconds') AS short_abandoned,
       coalesce(sum(attempts), 0) AS dialler_attempts
FROM calls WHERE queued_at IS NOT NULL AND entered_at >= $1
"""
OUTBOX = """SELECT count(*) AS pending, extract(epoch FROM now() - min(created_at)) AS oldest_s
FROM outbox WHERE published_at IS NULL"""


@dataclass
class Sources:
    """Where the figures come from. `backlogs` are in-process queues by name (e.g. the ACD
    journal's pending writes), `transcription_lag_s` the transcriber's lag when it runs."""

    pool: asyncpg.Pool
    live: LiveState
    ari: AriClient
    mqtt_connected: Callable[[], bool] = lambda: False
    active: Callable[[], bool] = lambda: False
    backlogs: Mapping[str, Callable[[], int]] = field(default_factory=dict)
    transcription_lag_s: Callable[[], float | None] | None = None
    timezone: str = "Asia/Shanghai"
    # counters other features keep in process, by name: callcenter_<name>_total (e.g. recording_failures)
    counters: Mapping[str, tuple[str, Callable[[], float]]] = field(default_factory=dict)


def _local_midnight_utc(tz: str, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _gauge(name: str, doc: str, value: float | None, labels: list[str] | None = None,
           per_label: Mapping[str, float] | None = None) -> GaugeMetricFamily:
    g = GaugeMetricFamily(name, doc, labels=labels)
    if per_label is not None:
        for key, v in sorted(per_label.items()):
            g.add_metric([key], v)
    elif value is not None:
        g.add_metric([], value)
    return g


async def scrape(src: Sources) -> bytes:
    started = time.monotonic()
    now = datetime.now(UTC)
    queue_docs = await src.live.all("queue")
    agent_docs = await src.live.all("agents")
    async with src.pool.acquire() as conn:
        row = await conn.fetchrow(CALLS_TODAY, _local_midnight_utc(src.timezone, now))
        outbox = await conn.fetchrow(OUTBOX)
    calls = CallCounts(row["inbound"], row["answered"], row["answered_timely"], row["abandoned"],
                       row["short_abandoned"])
    queues = queue_figures(queue_docs.values(), now)
    families = [
        _gauge("callcenter_calls_waiting", "Calls waiting in each queue (Redis live view)", None,
               ["queue"], queues.waiting),
        _gauge("callcenter_longest_wait_seconds", "Longest current wait per queue", None, ["queue"],
               queues.longest_wait_s),
        _gauge("callcenter_agents", "Agents by state (Redis live view)", None, ["state"],
               agents_by_state(agent_docs.values())),
        _gauge("callcenter_calls_today", "Today's queued calls by outcome (local day)", None, ["outcome"],
               {"inbound": calls.inbound, "answered": calls.answered, "answered_15s": calls.answered_timely,
                "abandoned": calls.abandoned, "short_abandoned": calls.short_abandoned}),
        _gauge("callcenter_answer_rate", "人工接通率 today: answered / inbound", calls.answer_rate),
        _gauge("callcenter_answer_15s_rate", "应答及时率 today: answered within 15 s / answered", calls.timely_rate),
        _gauge("callcenter_abandon_rate", "Abandon rate today (short abandons < 5 s left out)", calls.abandon_rate),
        _gauge("callcenter_dialler_attempts_today", "Callback dialler attempts on today's calls",
               float(row["dialler_attempts"])),
        _gauge("callcenter_outbox_pending", "MQTT outbox rows not yet published", float(outbox["pending"])),
        _gauge("callcenter_outbox_oldest_seconds", "Age of the oldest unpublished outbox row",
               float(outbox["oldest_s"] or 0.0)),
        _gauge("callcenter_ari_connected", "1 while the ARI event stream is connected",
               1.0 if src.ari.connected.is_set() else 0.0),
        _gauge("callcenter_mqtt_connected", "1 while the outbox relay is connected to MQTT",
               1.0 if src.mqtt_connected() else 0.0),
        _gauge("callcenter_controller_active", "1 on the controller that holds the lease (0: standby)",
               1.0 if src.active() else 0.0),
        _gauge("callcenter_backlog", "In-process queues waiting to be written", None, ["name"],
               {k: float(f()) for k, f in src.backlogs.items()}),
    ]
    if src.transcription_lag_s is not None:
        families.append(_gauge("callcenter_transcription_lag_seconds", "Transcriber lag behind the audio",
                               src.transcription_lag_s()))
    for name, doc, value in (("callcenter_ari_requests", "ARI REST calls made", src.ari.requests),
                             ("callcenter_ari_errors", "ARI calls that failed unexpectedly", src.ari.errors),
                             ("callcenter_ari_events", "ARI events received", src.ari.events)):
        c = CounterMetricFamily(name, doc)
        c.add_metric([], float(value))
        families.append(c)
    for name, (doc, read) in sorted(src.counters.items()):
        c = CounterMetricFamily(f"callcenter_{name}", doc)
        c.add_metric([], float(read()))
        families.append(c)
    lat = src.ari.latency
    h = HistogramMetricFamily("callcenter_ari_request_seconds", "ARI REST call latency")
    h.add_metric([], [(le, float(n)) for le, n in lat.cumulative()], sum_value=lat.total)
    families.append(h)
    families.append(_gauge("callcenter_scrape_seconds", "Time this scrape took to read its sources",
                           time.monotonic() - started))
    return _render(families)


class _Fixed:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def _render(families) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(families))
    return generate_latest(registry)
