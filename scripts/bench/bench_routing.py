#!/usr/bin/env python3
"""Dispatch benchmark: how much of the hall's dispatching the learned classifier can take over.

On the corpus's held-out split (paraphrase groups never trained on) it prints:
  - accuracy among auto-dispatched tickets and the share sent to humans, at the threshold chosen
    by cross-validation of the training set (10 folds by paraphrase group) for >= 95 % precision:
    what the service does, and the honest figure, since nothing was chosen on the held-out split;
  - for comparison with earlier figures: the threshold chosen on the held-out split itself
    (flatters), and on one half of its groups measured on the other (cross-fitted);
  - per-unit thresholds (not in force) against the single one, judged fold by fold on the
    training set, and once on the held-out split;
  - where the share sent to humans comes from: per unit, whether the best candidate was right
    anyway, the pairs that were too close to call, and some of the requests left to humans;
  - the per-unit table and the most frequent confusion pairs;
  - the comparison of features (character n-grams, jieba words, both) and of the keyword rules;
  - the precision/automation trade-off curve as a PNG;
  - dispatch time per ticket (classifier; rules + classifier), p50 and p99.

    .venv/bin/python scripts/bench/bench_routing.py [--plot FILE.png] [--no-compare] [--learning-curve]
Goals: >= 95 % correct among auto-dispatched with <= 20 % sent to humans; p99 <= 5 ms.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.dispatch.catalogue import default_catalogue  # noqa: E402
from callcenter.dispatch.corpus import load_corpus  # noqa: E402
from callcenter.dispatch.model import choose_threshold, evaluate, tradeoff  # noqa: E402
from callcenter.dispatch.policy import RuleOutcome, decide  # noqa: E402
from callcenter.dispatch.training import DEFAULT_C, FOLDS, PRECISION_TARGET, fit, out_of_fold_detail  # noqa: E402
from callcenter.dispatch.unit_thresholds import choose_unit_thresholds, nested, single  # noqa: E402


def pct(x: float) -> str:
    return f"{100 * x:5.1f} %"


def cross_fitted(ev, heldout, target: float) -> tuple[float, float, list[float]]:
    """Threshold chosen on one half of the held-out groups, applied to the other half, both ways."""
    half = [int(hashlib.sha1(e.group.encode()).hexdigest(), 16) % 2 for e in heldout]
    auto = right = 0
    chosen = []
    for h in (0, 1):
        pick = [(c, ok) for c, ok, s in zip(ev.confidences, ev.correct, half, strict=True) if s == h]
        rest = [(c, ok) for c, ok, s in zip(ev.confidences, ev.correct, half, strict=True) if s != h]
        t = choose_threshold([c for c, _ in pick], [ok for _, ok in pick], target)
        chosen.append(t)
        took = [ok for c, ok in rest if c >= t]
        auto += len(took)
        right += sum(took)
    return auto / len(heldout), right / auto if auto else 1.0, chosen


def humans_share(model, ev, heldout, show: int) -> None:
    """Where the share sent to humans comes from: which requests fall under the threshold, whether
    the best candidate was right anyway (the model knew but was not sure), and between which units."""
    left = [(e, model.predict(e.text, e.kind, e.district)) for e, conf in zip(heldout, ev.confidences, strict=True)
            if conf < ev.threshold]
    if not left:
        return
    right = sum(p.best.department == e.department for e, p in left)
    in_two = sum(any(c.department == e.department for c in p.candidates[:2]) for e, p in left)
    print(f"\nsent to humans: {len(left)} requests; the best candidate was right for {right} of them, the right "
          f"unit was among the first two for {in_two}")
    pairs = Counter(tuple(sorted(c.department for c in p.candidates[:2])) for _, p in left)
    print("  too close to call (first two candidates): " + "; ".join(f"{a} / {b}: {k}" for (a, b), k in
                                                                    pairs.most_common(10)))
    kinds = Counter(e.kind for e, _ in left)
    print("  by request kind: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    for e, p in left[:show]:
        c1, c2 = p.candidates[0], p.candidates[1]
        mark = "ok" if c1.department == e.department else f"wrong, is {e.department}"
        print(f"    {p.confidence:.2f} {c1.department} {c1.probability:.2f} / {c2.department} {c2.probability:.2f} "
              f"({mark}): {e.text[:60]}")


def unit_thresholds(model, oof, heldout) -> None:
    """Per-unit thresholds against the single one, judged on the training set fold by fold
    (thresholds from the other folds' out-of-fold predictions), then once on the held-out split."""
    args = (oof.confidences, oof.correct, oof.units)
    th = choose_unit_thresholds(*args, PRECISION_TARGET)
    took = [ok for c, ok, u in zip(*args, strict=True) if c >= th.of(u)]
    print(f"\nper-unit thresholds (not in force), chosen on the out-of-fold predictions for {pct(PRECISION_TARGET)}: "
          f"there {pct(len(took) / len(oof.correct))} auto at {pct(sum(took) / max(1, len(took)))} (in-sample)")
    print("  judged fold by fold (chosen on the other folds), share auto at precision, by target:")
    for name, chooser in (("single", single), ("per-unit", choose_unit_thresholds)):
        cells = []
        for target in (0.95, 0.96, 0.97, 0.98):
            a, p = nested(*args, oof.folds, chooser, target)
            cells.append(f"{target:.2f}: {pct(a)} at {pct(p)}")
        print(f"    {name:9s} " + "   ".join(cells))
    preds = [model.predict(e.text, e.kind, e.district, top=2, words=0) for e in heldout]
    took = [p.best.department == e.department for e, p in zip(heldout, preds, strict=True)
            if p.confidence >= th.of(p.best.department)]
    print(f"  held-out with the per-unit thresholds: correct among auto-dispatched {pct(sum(took) / max(1, len(took)))}"
          f"   sent to humans: {pct(1 - len(took) / len(heldout))}")


def rules_baseline(heldout, model):
    try:
        from callcenter.dispatch.rules import RoutingRules
    except ImportError:  # a tree without the dispatch rules: skip the comparison
        return None
    rules = RoutingRules.load_default()
    rows = []
    for e in heldout:
        d = rules.route(kind=e.kind, description=e.text)
        rows.append((e, d, model.predict(e.text, e.kind, e.district)))
    fired = [(e, d) for e, d, _ in rows if not d.needs_human]
    combined = [decide(RuleOutcome(d.suggested, d.confidence), p) for _, d, p in rows]
    took = [(c.department == e.department) for (e, _, _), c in zip(rows, combined, strict=True) if c.department]
    return {"rules_auto": len(fired) / len(rows), "rules_precision": sum(d.lead == e.department for e, d in fired)
            / max(1, len(fired)), "both_auto": len(took) / len(rows), "both_precision": sum(took) / max(1, len(took)),
            "rules": rules}


def timings(model, heldout, rules, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"classifier": [], "rules + classifier": []}
    for _ in range(rounds):
        for e in heldout:
            t0 = time.perf_counter_ns()
            model.predict(e.text, e.kind, e.district)
            out["classifier"].append((time.perf_counter_ns() - t0) / 1e6)
            if rules is not None:
                t0 = time.perf_counter_ns()
                d = rules.route(kind=e.kind, description=e.text)
                decide(RuleOutcome(d.suggested, d.confidence), model.predict(e.text, e.kind, e.district))
                out["rules + classifier"].append((time.perf_counter_ns() - t0) / 1e6)
    return {k: v for k, v in out.items() if v}


def plot(curve, ev, cf, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.plot([a for _, a, _ in curve], [p for _, _, p in curve], color="tab:blue", label="held-out split")
    ax.axhline(PRECISION_TARGET, color="tab:red", ls="--", lw=1, label="95 % precision target")
    ax.axvline(0.8, color="tab:green", ls=":", lw=1, label="80 % automation goal")
    ax.plot([ev.auto_share], [ev.auto_precision], "o", color="tab:blue",
            label=f"threshold from cross-validation {ev.threshold:.2f}: {ev.auto_share:.0%} auto")
    ax.plot([cf[0]], [cf[1]], "s", color="tab:orange", label=f"cross-fitted: {cf[0]:.0%} auto at {cf[1]:.1%}")
    ax.set_xlabel("share auto-dispatched (the rest go to a dispatcher)")
    ax.set_ylabel("precision among auto-dispatched")
    ax.set_xlim(0, 1.0)
    ax.set_ylim(min(0.7, min(p for _, _, p in curve)), 1.005)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"Dispatch classifier: precision vs automation ({ev.n} held-out requests)")
    fig.tight_layout()
    fig.savefig(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plot", type=Path, default=Path("/tmp/bench_routing_tradeoff.png"))
    ap.add_argument("--no-compare", action="store_true", help="skip the jieba / rules comparison")
    ap.add_argument("--examples", type=int, default=12, help="requests left to humans to print")
    ap.add_argument("--rounds", type=int, default=5, help="passes over the held-out split for the timings")
    ap.add_argument("--learning-curve", action="store_true",
                    help="also train on 40/60/80 %% of the training groups (how much more data would help)")
    args = ap.parse_args()
    corpus, cat = load_corpus(), default_catalogue()
    print(f"corpus: {len(corpus.train)} training requests, {len(corpus.heldout)} held out "
          f"({len({e.group for e in corpus.heldout})} paraphrase groups never trained on), "
          f"{len(cat.dispatchable)} units")
    t0 = time.perf_counter()
    oof = out_of_fold_detail([*corpus.train, *corpus.vague], c=DEFAULT_C)
    model, metrics = fit(corpus.train, corpus.heldout, c=DEFAULT_C, oof=oof, vague=corpus.vague)
    oof = dataclasses.replace(oof, confidences=oof.floored(model.floor))  # as the model in force measures them
    print(f"training (char 1-2-grams with segment edges, logistic regression C={DEFAULT_C:g} averaged with a "
          f"complement naive Bayes (weight {model.blend:g}), {metrics['pseudo']} catalogue pseudo-examples, "
          f"confidence = {model.confidence}; threshold by {FOLDS}-fold cross-validation): "
          f"{time.perf_counter() - t0:.1f} s, {len(model.vocabulary)} features")
    ev = evaluate(model, corpus.heldout)
    print(f"\nthreshold chosen by cross-validation of the training set: {ev.threshold:.3f} "
          f"(there: {pct(metrics['cv_auto_share'])} auto at {pct(metrics['cv_precision'])})")
    print(f"  floor of the best unit's probability: {model.floor:.2f}; of the {metrics['vague']} requests that name no "
          f"unit (vague.jsonl, trained as the hall's), {metrics['vague_auto']} dispatched by themselves out of fold")
    print(f"  held-out: correct among auto-dispatched: {pct(ev.auto_precision)}   sent to humans: {pct(1 - ev.auto_share)}")
    print(f"  top-1 over all: {pct(ev.top1)}   right unit among the top 3 shown to the dispatcher: {pct(ev.top3)}")
    own = choose_threshold(ev.confidences, ev.correct, PRECISION_TARGET)
    ev_own = evaluate(model, corpus.heldout, threshold=own)
    cf = cross_fitted(ev, corpus.heldout, PRECISION_TARGET)
    print(f"for comparison: threshold chosen on the held-out split itself ({own:.3f}, flatters): "
          f"{pct(ev_own.auto_precision)} correct, {pct(1 - ev_own.auto_share)} to humans")
    print(f"  cross-fitted (threshold from the other half of the groups: {cf[2][0]:.3f} / {cf[2][1]:.3f}): "
          f"{pct(cf[1])} correct, {pct(1 - cf[0])} to humans")
    unit_thresholds(model, oof, corpus.heldout)
    humans_share(model, ev, corpus.heldout, args.examples)

    print(f"\n{'unit':22s} {'n':>3s} {'top-1':>7s} {'auto':>5s} {'auto ok':>8s} {'humans':>6s}  name")
    for dep, r in ev.per_department.items():
        ok = "-" if r["auto"] == 0 else pct(r["auto_precision"])
        print(f"{dep:22s} {r['n']:3d} {pct(r['top1'])} {r['auto']:5d} {ok:>8s} {r['n'] - r['auto']:6d}  {cat.name(dep)}")
    print("\nconfusion pairs (true -> proposed: count), most frequent first:")
    print("  " + "; ".join(f"{a} -> {b}: {k}" for a, b, k in ev.confusions[:15]))

    base = None if args.no_compare else rules_baseline(corpus.heldout, model)
    if not args.no_compare:
        print("\nfeatures compared (same split, same threshold rule):")
        for analyzer in ("char", "jieba", "char+jieba"):
            m, met = (model, metrics) if analyzer == "char" else fit(corpus.train, corpus.heldout, analyzer=analyzer, vague=corpus.vague)
            print(f"  {analyzer:11s} top-1 {pct(met['top1'])}  auto {pct(met['auto_share'])} "
                  f"at {pct(met['auto_precision'])}  ({len(m.vocabulary)} features)")
        if base:
            print(f"  keyword rules alone (dispatch/data/routing_rules.yaml, text + kind): auto "
                  f"{pct(base['rules_auto'])} at {pct(base['rules_precision'])}")
            print(f"  rules (when >= 0.8) then classifier: auto {pct(base['both_auto'])} at {pct(base['both_precision'])}")

    curve = tradeoff(ev.confidences, ev.correct, levels=[i / 100 for i in range(0, 101)])
    plot(curve, ev, cf, args.plot)
    print(f"\ntrade-off curve: {args.plot}")
    for t, a, p in curve[::10]:
        print(f"  threshold {t:.2f}: {pct(a)} auto at {pct(p)}")

    if args.learning_curve:
        print("\nlearning curve (training groups kept, same held-out split):")
        groups = sorted({e.group for e in corpus.train})
        order = random.Random(1).sample(groups, len(groups))
        for frac in (0.4, 0.6, 0.8, 1.0):
            keep = set(order[:int(len(order) * frac)])
            part = [e for e in corpus.train if e.group in keep]
            met = metrics if frac == 1.0 else fit(part, corpus.heldout, vague=corpus.vague)[1]
            print(f"  {len(part):5d} requests: top-1 {pct(met['top1'])}  auto {pct(met['auto_share'])} "
                  f"at {pct(met['auto_precision'])}")

    times = timings(model, corpus.heldout, base["rules"] if base else None, args.rounds)
    print("\ndispatch time per ticket:")
    for what, xs in times.items():
        q = statistics.quantiles(xs, n=100)
        print(f"  {what:20s} p50 {q[49]:.3f} ms  p99 {q[98]:.3f} ms  ({len(xs)} proposals)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
