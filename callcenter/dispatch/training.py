"""Train on the corpus (and the hall's examples), choose the auto-dispatch threshold by
cross-validation of the training set, measure on the held-out split. Pure (CPU-bound: callers
run it off the event loop).

The threshold is chosen on out-of-fold predictions of the training examples (folds by
paraphrase group, so a request is never judged by a model that saw its paraphrases), never on
the held-out split: the held-out figures are then a measurement, not a fit. Hall examples have
no group: each is its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from callcenter.dispatch.model import Example, LinearModel, choose_threshold, evaluate, train

PRECISION_TARGET = 0.95
DEFAULT_C = 30.0
FOLDS = 10  # more folds: each fold model is trained on 90 % of the data, nearer the model in force


@dataclass(frozen=True)
class OutOfFold:
    """Every training example as judged by a model that never saw its paraphrase group."""

    confidences: list[float]
    correct: list[bool]
    units: list[str]  # the unit proposed ("" when its fold could not be trained)
    folds: list[int]


def out_of_fold(examples: Sequence[Example], *, analyzer: str = "char", c: float = DEFAULT_C,
                folds: int = FOLDS) -> tuple[list[float], list[bool]]:
    """(confidence, right) for every example, each predicted by a model trained on the other
    folds: the groups are dealt to `folds` folds in turn, largest first (deterministic)."""
    oof = out_of_fold_detail(examples, analyzer=analyzer, c=c, folds=folds)
    return oof.confidences, oof.correct


def out_of_fold_detail(examples: Sequence[Example], *, analyzer: str = "char", c: float = DEFAULT_C,
                       folds: int = FOLDS) -> OutOfFold:
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        groups.setdefault(e.group or f"#{i}", []).append(i)
    k = min(folds, len(groups))
    fold_of: dict[int, int] = {}
    for n, members in enumerate(sorted(groups.values(), key=lambda m: (-len(m), m[0]))):
        fold_of.update((i, n % k) for i in members)
    confs, right, units = [0.0] * len(examples), [False] * len(examples), [""] * len(examples)
    for f in range(k):
        part = [e for i, e in enumerate(examples) if fold_of[i] != f]
        if len({e.department for e in part}) < 2:
            continue  # too few units left to train on: these examples count as not automated
        model = train(part, analyzer=analyzer, c=c)
        for i in (i for i in range(len(examples)) if fold_of[i] == f):
            e = examples[i]
            p = model.predict(e.text, e.kind, e.district, top=2, words=0)
            confs[i], right[i], units[i] = p.confidence, p.best.department == e.department, p.best.department
    return OutOfFold(confs, right, units, [fold_of[i] for i in range(len(examples))])


def fit(train_set: Sequence[Example], heldout: Sequence[Example], *, analyzer: str = "char",
        c: float = DEFAULT_C, target: float = PRECISION_TARGET,
        folds: int = FOLDS, oof: OutOfFold | None = None) -> tuple[LinearModel, dict[str, Any]]:
    """A model whose threshold keeps precision >= `target` on cross-validation of `train_set`,
    and its figures on `heldout` (measured with that threshold, not chosen on it). `oof`: the
    out-of-fold predictions of `train_set` when the caller already has them."""
    oof = oof or out_of_fold_detail(train_set, analyzer=analyzer, c=c, folds=folds)
    confs, right = oof.confidences, oof.correct
    threshold = choose_threshold(confs, right, target)
    cv_auto = [ok for conf, ok in zip(confs, right, strict=True) if conf >= threshold]
    model = train(train_set, analyzer=analyzer, c=c)
    model.threshold = threshold
    ev = evaluate(model, heldout)
    metrics = {
        "heldout": ev.n, "train": len(train_set), "analyzer": analyzer, "c": c, "target": target,
        "confidence": model.confidence, "threshold": model.threshold, "threshold_from": f"{folds}-fold cross-validation",
        "cv_auto_share": round(len(cv_auto) / len(confs), 4) if confs else 0.0,
        "cv_precision": round(sum(cv_auto) / len(cv_auto), 4) if cv_auto else 1.0,
        "top1": round(ev.top1, 4), "top3": round(ev.top3, 4),
        "auto_share": round(ev.auto_share, 4), "auto_precision": round(ev.auto_precision, 4),
        "confusions": [list(x) for x in ev.confusions[:15]],
    }
    model.meta.update({k: metrics[k] for k in ("heldout", "train", "top1", "auto_share", "auto_precision",
                                               "cv_auto_share", "cv_precision")})
    return model, metrics
