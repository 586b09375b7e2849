#!/usr/bin/env python3
"""Out-of-fold report of the dispatch classifier on the training split only (never the held-out).

For work on the corpus and the features: every training request is judged by a model trained
on the other 9 folds (folds by paraphrase group, as the service chooses its threshold), so the
figures can be looked at as often as needed without spending the held-out split. Prints the
share auto-dispatched at >= 95 % precision (threshold chosen on these predictions, and judged
fold by fold), top-1, per-unit recall (weakest first) and the confusion pairs.

    .venv/bin/python scripts/bench/routing_oof.py [--analyzer char|jieba|char+jieba] [--c 30]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.dispatch.catalogue import default_catalogue  # noqa: E402
from callcenter.dispatch.corpus import load_corpus  # noqa: E402
from callcenter.dispatch.model import ANALYZERS, choose_threshold  # noqa: E402
from callcenter.dispatch.training import DEFAULT_C, PRECISION_TARGET, choose_floor, out_of_fold_detail  # noqa: E402
from callcenter.dispatch.unit_thresholds import nested, single  # noqa: E402


def pct(x: float) -> str:
    return f"{100 * x:5.1f} %"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--analyzer", choices=ANALYZERS, default="char")
    ap.add_argument("--c", type=float, default=DEFAULT_C)
    ap.add_argument("--pairs", type=int, default=25)
    ap.add_argument("--judge-without", metavar="PREFIX", default=None,
                    help="train on every group but judge only those whose name does not start with PREFIX "
                         "(compares a corpus addition on the requests that were there before it)")
    args = ap.parse_args()
    corpus, cat = load_corpus(), default_catalogue()
    train = [*corpus.train, *corpus.vague]  # the requests naming no unit: the hall's, wrong if dispatched
    t0 = time.perf_counter()
    oof = out_of_fold_detail(train, analyzer=args.analyzer, c=args.c)
    floor, _ = choose_floor(oof)
    oof = dataclasses.replace(oof, confidences=oof.floored(floor))
    if args.judge_without:
        keep = [i for i, e in enumerate(train) if not e.group.startswith(args.judge_without)]
        print(f"judged: the {len(keep)} requests whose group does not start with {args.judge_without!r}")
        train = [train[i] for i in keep]
        oof = type(oof)(*([xs[i] for i in keep] for xs in (oof.confidences, oof.correct, oof.units, oof.folds, oof.p1)))
    n = len(train)
    t = choose_threshold(oof.confidences, oof.correct, PRECISION_TARGET)
    took = [ok for conf, ok in zip(oof.confidences, oof.correct, strict=True) if conf >= t]
    a, p = nested(oof.confidences, oof.correct, oof.units, oof.folds, single, PRECISION_TARGET)
    print(f"training split: {n} requests, {len({e.group for e in train})} groups; analyzer {args.analyzer}, "
          f"C={args.c:g}; out-of-fold in {time.perf_counter() - t0:.1f} s; floor of the best unit's probability {floor:.2f}")
    print(f"  ({len(corpus.vague)} of them name no unit (vague.jsonl): right only when left to a person; "
          f"the row 'hall' below shows how many were dispatched by themselves)")
    print(f"  top-1 {pct(sum(oof.correct) / n)}   threshold {t:.3f}: auto {pct(len(took) / n)} at "
          f"{pct(sum(took) / max(1, len(took)))} (in-sample); fold by fold: auto {pct(a)} at {pct(p)}")
    per: dict[str, Counter] = {}
    pairs: Counter = Counter()
    for e, ok, unit, conf in zip(train, oof.correct, oof.units, oof.confidences, strict=True):
        c = per.setdefault(e.department, Counter())
        c["n"] += 1
        c["right"] += ok
        c["auto"] += conf >= t
        if not ok:
            pairs[(e.department, unit)] += 1
    print(f"\n{'unit':22s} {'n':>4s} {'top-1':>7s} {'auto':>7s}  name")
    for dep, c in sorted(per.items(), key=lambda kv: kv[1]["right"] / kv[1]["n"]):
        print(f"{dep:22s} {c['n']:4d} {pct(c['right'] / c['n'])} {pct(c['auto'] / c['n'])}  {cat.name(dep)}")
    print("\nconfusion pairs (true -> proposed: count):")
    for (x, y), k in pairs.most_common(args.pairs):
        print(f"  {x} -> {y}: {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
