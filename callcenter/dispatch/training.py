"""Train on the corpus (and the hall's examples), measure on the held-out split, set the
threshold from it. Pure (CPU-bound: callers run it off the event loop)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callcenter.dispatch.model import Example, LinearModel, choose_threshold, evaluate, train

PRECISION_TARGET = 0.95
DEFAULT_C = 30.0


def fit(train_set: Sequence[Example], heldout: Sequence[Example], *, analyzer: str = "char",
        c: float = DEFAULT_C, target: float = PRECISION_TARGET) -> tuple[LinearModel, dict[str, Any]]:
    """A model whose threshold keeps precision >= `target` on `heldout`, and its figures."""
    model = train(train_set, analyzer=analyzer, c=c)
    ev = evaluate(model, heldout, threshold=1.0)
    model.threshold = choose_threshold(ev.confidences, ev.correct, target)
    ev = evaluate(model, heldout)
    metrics = {
        "heldout": ev.n, "train": len(train_set), "analyzer": analyzer, "c": c, "target": target,
        "threshold": model.threshold, "top1": round(ev.top1, 4), "top3": round(ev.top3, 4),
        "auto_share": round(ev.auto_share, 4), "auto_precision": round(ev.auto_precision, 4),
        "confusions": [list(x) for x in ev.confusions[:15]],
    }
    model.meta.update({k: metrics[k] for k in ("heldout", "train", "top1", "auto_share", "auto_precision")})
    return model, metrics
