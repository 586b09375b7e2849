"""Per-unit thresholds: chosen on out-of-fold predictions for an overall precision, with a
minimum support per unit, and judged fold by fold against the single threshold."""

from __future__ import annotations

from callcenter.dispatch.model import choose_threshold
from callcenter.dispatch.unit_thresholds import UnitThresholds, choose_unit_thresholds, nested, single

# "clean": right down to 0.1. "mixed": right down to 0.6, a coin toss below.
CLEAN = [(c / 20, True, "clean") for c in range(2, 20)]
MIXED = [(c / 20, True, "mixed") for c in range(12, 20)] + [(c / 20, c % 2 == 0, "mixed") for c in range(2, 12)]
ROWS = CLEAN + MIXED


def split(rows):
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def kept(th: UnitThresholds, rows):
    return [ok for c, ok, u in rows if c >= th.of(u)]


def test_each_unit_keeps_what_it_gets_right_and_the_overall_precision_holds():
    th = choose_unit_thresholds(*split(ROWS), 0.9, prior=0.0, min_support=5)
    # the clean unit goes all the way down; its surplus pays for a little of the mixed one's coin toss
    assert th.of("clean") == 0.1 and th.of("mixed") == 0.3
    took = kept(th, ROWS)
    assert sum(took) / len(took) >= 0.9
    one = choose_threshold(*split(ROWS)[:2], 0.9)
    assert one == 0.4 and len(took) == 32 > sum(c >= one for c, _, _ in ROWS) == 24


def test_a_unit_under_the_minimum_support_takes_the_single_threshold():
    th = choose_unit_thresholds(*split(ROWS), 0.9, prior=0.0, min_support=len(MIXED) + 1)
    assert "mixed" not in th.by_unit and th.of("mixed") == th.fallback == choose_threshold(*split(ROWS)[:2], 0.9)
    assert th.of("never-predicted") == th.fallback


def test_shrinking_towards_all_predictions_pulls_the_units_thresholds_together():
    alone = choose_unit_thresholds(*split(ROWS), 0.9, prior=0.0, min_support=5)
    shrunk = choose_unit_thresholds(*split(ROWS), 0.9, prior=1000.0, min_support=5)
    assert alone.of("clean") == 0.1 and shrunk.of("clean") == 0.2 and shrunk.of("mixed") == 0.3


def test_no_level_reaches_the_target_means_never_automatic():
    rows = [(c / 10, False, "u") for c in range(10)]
    th = choose_unit_thresholds(*split(rows), 0.95, min_support=1)
    assert th.of("u") == 1.0 and th.fallback == 1.0


def test_nested_judges_each_fold_with_thresholds_chosen_on_the_others():
    confs, right, units = split(ROWS)
    folds = [i % 3 for i in range(len(ROWS))]
    seen = []

    def spy(c, ok, u, target):
        seen.append(len(c))
        return UnitThresholds({}, 0.5)

    auto, precision = nested(confs, right, units, folds, spy, 0.9)
    assert sorted(seen) == sorted(len(ROWS) - folds.count(f) for f in range(3))
    took = [ok for c, ok in zip(confs, right, strict=True) if c >= 0.5]
    assert auto == len(took) / len(ROWS) and precision == sum(took) / len(took)
    a1, p1 = nested(confs, right, units, folds, single, 0.9)
    assert 0.0 < a1 <= 1.0 and 0.0 <= p1 <= 1.0
