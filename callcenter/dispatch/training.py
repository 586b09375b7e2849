"""Train on the corpus (and the hall's examples), choose the auto-dispatch threshold by
cross-validation of the training set, measure on the held-out split. Pure (CPU-bound: callers
run it off the event loop).

The threshold is chosen on out-of-fold predictions of the training examples (folds by
paraphrase group, so a request is never judged by a model that saw its paraphrases), never on
the held-out split: the held-out figures are then a measurement, not a fit. Hall examples have
no group: each is its own.

The recipe (chosen out of fold on the training split, scripts/bench/routing_experiments.py):
logistic regression averaged half and half with a complement naive Bayes over which features
are present (its scores at temperature 2), confidence the ratio 1 - p2/p1, and the catalogue's
category and unit names as pseudo-examples of their unit (three times each) in every model
trained: never judged, they teach the words of each unit's remit that the corpus lacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from callcenter.dispatch.catalogue import HALL, Catalogue, default_catalogue
from callcenter.dispatch.corpus import Corpus
from callcenter.dispatch.model import Example, LinearModel, ModelError, choose_threshold, evaluate, train

PRECISION_TARGET = 0.95
DEFAULT_C = 30.0
BLEND = 0.5  # weight of the naive Bayes's probabilities in the average
CONFIDENCE = "ratio"
CATALOGUE_REPEAT = 3  # each category name counts as this many pseudo-examples
FOLDS = 10  # more folds: each fold model is trained on 90 % of the data, nearer the model in force
FLOORS = tuple(round(0.05 * i, 2) for i in range(9))  # candidate floors of p1, lowest first (0 .. 0.4)


@dataclass(frozen=True)
class OutOfFold:
    """Every training example as judged by a model that never saw its paraphrase group."""

    confidences: list[float]
    correct: list[bool]
    units: list[str]  # the unit proposed ("" when its fold could not be trained)
    folds: list[int]
    p1: list[float] = field(default_factory=list)  # the best unit's probability

    def floored(self, floor: float) -> list[float]:
        """The confidences as a model with this floor measures them."""
        return [c if p >= floor else 0.0 for c, p in zip(self.confidences, self.p1 or [1.0] * len(self.confidences),
                                                          strict=True)]


def catalogue_examples(catalogue: Catalogue, units: Iterable[str], repeat: int = CATALOGUE_REPEAT) -> list[Example]:
    """Each category name and the unit's own name as `repeat` pseudo-examples of the unit, for
    the `units` given (those with real examples: the catalogue alone never adds a unit)."""
    out = []
    for unit in sorted(set(units)):
        if unit in catalogue:
            texts = [*catalogue.units[unit].categories, catalogue.name(unit)]
            out.extend(Example(t, unit, group=f"catalogue:{unit}") for t in texts)
    return out * repeat


def _model(examples: Sequence[Example], pseudo: Sequence[Example], analyzer: str, c: float) -> LinearModel:
    units = {e.department for e in examples}
    model = train([*examples, *(e for e in pseudo if e.department in units)], analyzer=analyzer, c=c,
                  blend=BLEND, confidence=CONFIDENCE)
    model.meta["pseudo"] = model.meta["examples"] - len(examples)
    return model


def _pseudo(examples: Sequence[Example], pseudo: Sequence[Example] | None) -> Sequence[Example]:
    units = {e.department for e in examples} - {HALL}
    return catalogue_examples(default_catalogue(), units) if pseudo is None else pseudo


def out_of_fold(examples: Sequence[Example], *, analyzer: str = "char", c: float = DEFAULT_C,
                folds: int = FOLDS, pseudo: Sequence[Example] | None = None) -> tuple[list[float], list[bool]]:
    """(confidence, right) for every example, each predicted by a model trained on the other
    folds: the groups are dealt to `folds` folds in turn, largest first (deterministic)."""
    oof = out_of_fold_detail(examples, analyzer=analyzer, c=c, folds=folds, pseudo=pseudo)
    return oof.confidences, oof.correct


def out_of_fold_detail(examples: Sequence[Example], *, analyzer: str = "char", c: float = DEFAULT_C,
                       folds: int = FOLDS, pseudo: Sequence[Example] | None = None) -> OutOfFold:
    """`pseudo`: examples added to every fold's training, never judged (None: the catalogue's)."""
    pseudo = _pseudo(examples, pseudo)
    fold_of = fold_assignment(examples, folds)
    k = max(fold_of, default=-1) + 1
    confs, right, units = [0.0] * len(examples), [False] * len(examples), [""] * len(examples)
    p1 = [0.0] * len(examples)
    for f in range(k):
        part = [e for i, e in enumerate(examples) if fold_of[i] != f]
        if len({e.department for e in part}) < 2:
            continue  # too few units left to train on: these examples count as not automated
        model = _model(part, pseudo, analyzer, c)
        for i in (i for i in range(len(examples)) if fold_of[i] == f):
            e = examples[i]
            p = model.predict(e.text, e.kind, e.district, top=2, words=0)
            confs[i], right[i], units[i] = p.confidence, p.best.department == e.department, p.best.department
            p1[i] = p.best.probability
    return OutOfFold(confs, right, units, fold_of, p1)


def choose_floor(oof: OutOfFold, target: float = PRECISION_TARGET) -> tuple[float, float]:
    """(floor, threshold): of the floors in :data:`FLOORS`, the one under which the threshold chosen
    on the out-of-fold predictions (as that floor leaves them) dispatches the most by itself, the
    lowest on a tie. A request that names no unit counts as wrong whenever it is dispatched, so a
    floor earns its place only by keeping such requests (and thin guesses) from a unit."""
    best: tuple[int, float, float] | None = None
    for floor in FLOORS:
        confs = oof.floored(floor)
        threshold = choose_threshold(confs, oof.correct, target)
        auto = sum(c >= threshold for c in confs)
        if best is None or auto > best[0]:
            best = (auto, floor, threshold)
    return best[1], best[2]


def fold_assignment(examples: Sequence[Example], folds: int = FOLDS) -> list[int]:
    """The fold of every example: paraphrase groups dealt to `folds` folds in turn, largest
    first (deterministic); an example without a group is its own."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        groups.setdefault(e.group or f"#{i}", []).append(i)
    k = min(folds, len(groups))
    fold_of = [0] * len(examples)
    for n, members in enumerate(sorted(groups.values(), key=lambda m: (-len(m), m[0]))):
        for i in members:
            fold_of[i] = n % k
    return fold_of


def fit(train_set: Sequence[Example], heldout: Sequence[Example], *, analyzer: str = "char",
        c: float = DEFAULT_C, target: float = PRECISION_TARGET,
        folds: int = FOLDS, oof: OutOfFold | None = None,
        pseudo: Sequence[Example] | None = None,
        vague: Sequence[Example] = ()) -> tuple[LinearModel, dict[str, Any]]:
    """A model whose threshold keeps precision >= `target` on cross-validation of `train_set`,
    and its figures on `heldout` (measured with that threshold, not chosen on it). `vague`:
    requests that name no unit (unit HALL): trained on as the hall's, and judged out of fold as
    wrong whenever dispatched to a unit. `oof`: the out-of-fold predictions of `train_set` then
    `vague` when the caller already has them; `pseudo`: examples added to every model's training
    (None: the catalogue's category names)."""
    examples = [*train_set, *vague]
    pseudo = _pseudo(examples, pseudo)
    oof = oof or out_of_fold_detail(examples, analyzer=analyzer, c=c, folds=folds, pseudo=pseudo)
    if len(oof.correct) != len(examples):
        raise ModelError("the out-of-fold predictions are not of these examples")
    floor, threshold = choose_floor(oof, target)
    confs, right = oof.floored(floor), oof.correct
    cv_auto = [ok for conf, ok in zip(confs, right, strict=True) if conf >= threshold]
    vague_auto = sum(conf >= threshold for conf in confs[len(train_set):])
    model = _model(examples, pseudo, analyzer, c)
    model.threshold, model.floor = threshold, floor
    ev = evaluate(model, heldout)
    metrics = {
        "heldout": ev.n, "train": len(train_set), "pseudo": model.meta["pseudo"], "analyzer": analyzer, "c": c,
        "blend": model.blend, "target": target,
        "confidence": model.confidence, "threshold": model.threshold, "threshold_from": f"{folds}-fold cross-validation",
        "floor": floor, "vague": len(vague), "vague_auto": vague_auto,
        "cv_auto_share": round(len(cv_auto) / len(confs), 4) if confs else 0.0,
        "cv_precision": round(sum(cv_auto) / len(cv_auto), 4) if cv_auto else 1.0,
        "top1": round(ev.top1, 4), "top3": round(ev.top3, 4),
        "auto_share": round(ev.auto_share, 4), "auto_precision": round(ev.auto_precision, 4),
        "confusions": [list(x) for x in ev.confusions[:15]],
    }
    model.meta.update({k: metrics[k] for k in ("heldout", "train", "top1", "auto_share", "auto_precision",
                                               "cv_auto_share", "cv_precision")})
    return model, metrics


def fit_corpus(corpus: Corpus, hall: Sequence[Example] = (), **kwargs: Any) -> tuple[LinearModel, dict[str, Any]]:
    """The model the service puts in force: the corpus's training requests and the hall's own
    decisions, its requests that name no unit, measured on its held-out split (`fit`)."""
    return fit([*corpus.train, *hall], corpus.heldout, vague=corpus.vague, **kwargs)
