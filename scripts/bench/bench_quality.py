#!/usr/bin/env python3
"""Automatic quality inspection benchmark (issue 21; goal <= 50 ms per 5-minute call): the time of
the default scorecard's checks on a 5-minute, 100-line transcript with the legs' voice activity
(a tenth of the segments undecoded, 未转写), in ms per call, per check and in all:

- the whole card with the file's word lists (the baseline of the ratios below);
- the whole card with hall-edited lists of 300 服务禁语 and 300 anger words (the /qa maximum);
- the fatal items only (what the inspectors' queue runs on every call of the week);
- each check alone.

Pure CPU in this process, no services. It prints per run and as median / spread (max-min) over
`--runs`, and each figure's ratio to the baseline of the same run.

    .venv/bin/python scripts/bench/bench_quality.py [--runs 5] [--repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.quality.checks import Line  # noqa: E402
from callcenter.quality.scorecard import auto_findings, fatal_hits, load, run_check, with_words  # noqa: E402

CITIZEN = "您好，我家楼下的路灯坏了三天了，晚上很黑，老人小孩出门不方便，请尽快派人来修一下"
AGENT = "好的，您反映的是楼下路灯坏了三天，我们会转给住建部门处理，请问还有其他可以帮您的吗"


def transcript(n: int = 100, length_s: float = 300.0) -> list[Line]:
    """n alternating lines over `length_s`, some overlapping (talk-over), every tenth undecoded."""
    step = length_s / n
    out = []
    for i in range(n):
        leg = "citizen" if i % 2 == 0 else "agent"
        start = i * step - (0.4 if i % 7 == 3 else 0.0)
        undecoded = i % 10 == 9
        out.append(Line(leg, max(0.0, start), start + step * 0.85, "" if undecoded else (CITIZEN if leg == "citizen" else AGENT),
                        "未转写" if undecoded else "ok"))
    return out


def ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def spread(xs: list[float]) -> str:
    return f"median {statistics.median(xs):.3f}  spread {max(xs) - min(xs):.3f}  (runs: {', '.join(f'{x:.3f}' for x in xs)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    card, lines, typical = load(), transcript(), [180.0 + i for i in range(30)]
    hall = with_words(card, {"forbidden_words": [f"禁语词{i:03d}" for i in range(299)] + ["不归我们管"],
                             "anger": [f"情绪词{i:03d}" for i in range(299)] + ["气死"]})
    figures: dict[str, list[float]] = {}
    for run in range(args.runs):
        row = {"whole card (file lists)": ms(lambda: auto_findings(card, lines, 300.0, typical), args.repeat),
               "whole card (300-word hall lists)": ms(lambda: auto_findings(hall, lines, 300.0, typical), args.repeat),
               "fatal items only (the queue)": ms(lambda: fatal_hits(hall, lines, 300.0, typical), args.repeat)}
        for item in card.items:
            if item.check is not None:
                row[f"  {item.id} ({item.check.kind})"] = ms(lambda c=item.check: run_check(c, lines, 300.0, typical),
                                                              args.repeat)
        base = row["whole card (file lists)"]
        print(f"run {run + 1}: " + "  ".join(f"{k.strip()}={v:.3f}" for k, v in row.items()))
        for k, v in row.items():
            figures.setdefault(k, []).append(v)
            figures.setdefault(f"{k} / baseline", []).append(v / base)
    print(f"\nautomatic QA, ms per 5-minute 100-line call (goal 50), {args.runs} runs x {args.repeat}:")
    for k, xs in figures.items():
        if not k.endswith("/ baseline"):
            print(f"{k:42s} {spread(xs)}   ratio to baseline {statistics.median(figures[k + ' / baseline']):.2f}x")


if __name__ == "__main__":
    main()
