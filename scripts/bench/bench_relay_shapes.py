#!/usr/bin/env python3
"""What validating a relayed event costs the web tier (#25 item 3): per event, the hub's JSON
decode alone (the baseline, what it did before) against decode + the relay table's shape
(pydantic validation and the dump of the validated document), for the desk's transcript final
and agent state and the department feed's ticket event. Several runs; median, spread and the
ratio to the baseline, measured in the same process.

    .venv/bin/python scripts/bench/bench_relay_shapes.py [--events 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.acd.board.relayed import DESK  # noqa: E402
from callcenter.tickets import notifier  # noqa: E402
from callcenter.tickets.feed_events import TICKET_FEED  # noqa: E402
from callcenter.tickets.model import Kind  # noqa: E402
from callcenter.tickets.transitions import new_ticket  # noqa: E402


def samples() -> list[tuple[str, object, str, bytes]]:
    final = {"type": "final", "call_id": "1733570000.42", "leg": "citizen", "speaker": "市民", "seq": 7,
             "start": 12.5, "end": 15.25, "text": "我想反映一下小区门口的路灯已经坏了一个星期了", "deferred": False,
             "status": "ok", "words": [{"word": w, "start": 12.5 + i * 0.2, "end": 12.7 + i * 0.2, "conf": 0.9}
                                       for i, w in enumerate("我 想 反映 一下 小区 门口 的 路灯 已经 坏 了".split())],
             "outbox_id": 123456}
    state = {"agent_id": "1011", "seat_id": "seat11", "team": "C", "skills": ["general", "complaint"],
             "state": "on_call", "interface": "PJSIP/seat11", "since": "2026-12-07T04:00:00+00:00",
             "idle_since": None, "pause_reason": None, "pending_pause": None, "call_id": "1733570000.42",
             "override_by": None, "reason": "answer 1733570000.42", "outbox_id": 123457}
    t = new_ticket(kind=Kind.COMPLAINT, created_at=datetime(2026, 12, 7, 2, tzinfo=UTC), caller_phone="13812345678",
                   category="城市管理", number="PZH-20261207-000001")
    topic, ticket = notifier.notice_message(t, "created", actor="agent:1011", at=datetime(2026, 12, 7, 2, tzinfo=UTC))
    return [("desk transcript final", DESK, "calls/1733570000.42/transcript", json.dumps(final).encode()),
            ("desk agent state", DESK, "agents/1011/state", json.dumps(state).encode()),
            ("dept feed ticket event", TICKET_FEED, topic, json.dumps({**ticket, "outbox_id": 1}).encode())]


def per_event_us(fn, raw: bytes, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn(raw)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(f"relay shapes: {args.events} events per run, {args.runs} runs; µs per event, median (min-max)")
    for name, table, topic, raw in samples():
        assert table.shape(topic, json.loads(raw)) is not None, name
        base, shaped = [], []
        for _ in range(args.runs):
            base.append(per_event_us(json.loads, raw, args.events))
            shaped.append(per_event_us(lambda r, t=table, tp=topic: t.shape(tp, json.loads(r)), raw, args.events))
        b, s = statistics.median(base), statistics.median(shaped)
        print(f"  {name:<24} decode {b:6.2f} ({min(base):.2f}-{max(base):.2f})   decode+shape {s:6.2f} "
              f"({min(shaped):.2f}-{max(shaped):.2f})   ratio {s / b:4.1f}x   ~{1e6 / s:,.0f} events/s on one core")


if __name__ == "__main__":
    main()
