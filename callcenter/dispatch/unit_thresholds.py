"""Per-unit auto-dispatch thresholds, and the honest test of whether they beat one threshold.

Measured, not in force: the service keeps the single threshold of :func:`choose_threshold`.
On the corpus, per-unit thresholds chosen on the training set's out-of-fold predictions
automate more on those same predictions, but judged fold by fold (thresholds chosen on the
other nine folds' predictions, applied to the tenth) their precision falls under the target
and, at equal precision, they automate less than the single threshold: a unit has ~40
out-of-fold predictions, too few for its own curve. ``scripts/bench/bench_routing.py`` prints
both. Pure.

Chooser (greedy on a calibrated score): each out-of-fold prediction is scored by the precision
of its predicted unit's predictions at or above its confidence, shrunk towards the precision
of all predictions at or above it (`prior` pseudo-counts) and made non-increasing as the
confidence falls; all predictions are sorted by that score and cut where the precision of
those kept still reaches `target`. A unit's threshold is the lowest confidence it keeps; a
unit with fewer than `min_support` predictions takes the single threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from callcenter.dispatch.model import choose_threshold

Chooser = Callable[[Sequence[float], Sequence[bool], Sequence[str], float], "UnitThresholds"]


@dataclass(frozen=True)
class UnitThresholds:
    by_unit: dict[str, float]
    fallback: float  # units not in `by_unit` (too little support, or never predicted)

    def of(self, unit: str) -> float:
        return self.by_unit.get(unit, self.fallback)


def single(confidences: Sequence[float], correct: Sequence[bool], units: Sequence[str],
           target: float) -> UnitThresholds:
    """The single threshold, as a chooser (the baseline)."""
    return UnitThresholds({}, choose_threshold(confidences, correct, target))


def choose_unit_thresholds(confidences: Sequence[float], correct: Sequence[bool], units: Sequence[str],
                           target: float = 0.95, *, prior: float = 20.0, min_support: int = 10) -> UnitThresholds:
    rows = sorted(zip(confidences, correct, units, strict=True), key=lambda r: -r[0])
    fallback = choose_threshold(confidences, correct, target)
    overall: dict[float, float] = {}  # precision of every prediction at or above a confidence
    right = 0
    for i, (conf, ok, _) in enumerate(rows, 1):
        right += ok
        overall[conf] = right / i  # ties: the last (widest) count wins
    per: dict[str, list[tuple[float, bool]]] = {}
    for conf, ok, unit in rows:
        per.setdefault(unit, []).append((conf, ok))
    scored: list[tuple[float, float, str, bool]] = []  # (score, confidence, unit, right)
    for unit, preds in per.items():
        if len(preds) < min_support:
            continue
        right, floor, level = 0, 1.0, {}
        for i, (conf, ok) in enumerate(preds, 1):
            right += ok
            floor = min(floor, (right + prior * overall[conf]) / (i + prior))
            level[conf] = floor
        scored.extend((level[conf], conf, unit, ok) for conf, ok in preds)
    scored.sort(key=lambda r: (-r[0], -r[1]))
    cut, right = None, 0
    for i, (score, _, _, ok) in enumerate(scored, 1):
        right += ok
        if (i == len(scored) or scored[i][0] != score) and right / i >= target:
            cut = score
    by_unit = {unit: 1.0 for unit, preds in per.items() if len(preds) >= min_support}
    for score, conf, unit, _ in scored:
        if cut is not None and score >= cut:
            by_unit[unit] = min(by_unit[unit], conf)
    return UnitThresholds(by_unit, fallback)


def nested(confidences: Sequence[float], correct: Sequence[bool], units: Sequence[str], folds: Sequence[int],
           chooser: Chooser, target: float = 0.95) -> tuple[float, float]:
    """(share automated, precision among them) when each fold's predictions are judged by
    thresholds chosen on the other folds' predictions only."""
    n = len(confidences)
    auto = right = 0
    for f in sorted(set(folds)):
        rest = [i for i in range(n) if folds[i] != f]
        th = chooser([confidences[i] for i in rest], [correct[i] for i in rest], [units[i] for i in rest], target)
        took = [correct[i] for i in range(n) if folds[i] == f and confidences[i] >= th.of(units[i])]
        auto += len(took)
        right += sum(took)
    return (auto / n if n else 0.0), (right / auto if auto else 1.0)
