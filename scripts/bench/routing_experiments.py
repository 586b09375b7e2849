#!/usr/bin/env python3
"""Model and confidence experiments for the dispatch classifier, judged out of fold on the
training split only (never the held-out): the same folds as the service's threshold (10, by
paraphrase group). Each configuration's out-of-fold probabilities are cached under --cache, so
ensembles and confidence measures can be compared without training again.

For each configuration (and each confidence measure): top-1, the share auto-dispatched at
>= 95 % precision with the threshold chosen on all out-of-fold predictions (in-sample), and
judged fold by fold (threshold from the other nine folds: nested, as routing_oof prints).

    .venv/bin/python scripts/bench/routing_experiments.py [CONFIG ...] [--ensemble A+B ...]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callcenter.dispatch.catalogue import default_catalogue  # noqa: E402
from callcenter.dispatch.corpus import load_corpus  # noqa: E402
from callcenter.dispatch.model import Example, char_ngrams, choose_threshold  # noqa: E402
from callcenter.dispatch.training import PRECISION_TARGET, fold_assignment  # noqa: E402
from callcenter.dispatch.unit_thresholds import nested, single  # noqa: E402


def skip_bigrams(text: str) -> list[str]:
    from callcenter.dispatch.model import segments
    out = []
    for seg in segments(text):
        out.extend(f"{seg[i]}_{seg[i + 2]}" for i in range(len(seg) - 2))
    return out


def docs_of(examples, n_max, with_kind: bool = True) -> list[list[str]]:
    """n_max: 2 or 3 (char n-grams), "2s" (plus skip-bigrams), "2j" (plus jieba words)."""
    from callcenter.dispatch.model import jieba_tokens
    out = []
    for e in examples:
        toks = char_ngrams(e.text, int(str(n_max)[0]))
        if str(n_max).endswith("s"):
            toks += skip_bigrams(e.text)
        if str(n_max).endswith("j"):
            toks += ["w:" + w for w in jieba_tokens(e.text)]
        if with_kind and e.kind:
            toks.append(f"k:{e.kind}")
        if e.district:
            toks.append(f"d:{e.district}")
        out.append(toks)
    return out


def ident(x):
    return x


def catalogue_examples() -> list[Example]:
    cat = default_catalogue()
    return [Example(c, code) for c, code in cat.category_unit.items()] + \
        [Example(cat.name(code), code) for code in cat.dispatchable]


# ---- configurations: name -> (n_max, min_df, model spec, extras) ------------------------------

def lr(c: float, cw: str | None = "balanced", solver: str = "saga", tol: float = 1e-3):
    from sklearn.linear_model import LogisticRegression
    return lambda: LogisticRegression(C=c, solver=solver, tol=tol, max_iter=2000, class_weight=cw, random_state=0)


def sgd_mh(alpha: float):
    from sklearn.linear_model import SGDClassifier
    return lambda: SGDClassifier(loss="modified_huber", alpha=alpha, max_iter=50, tol=1e-4,
                                 class_weight="balanced", random_state=0)


def cnb(alpha: float):
    from sklearn.naive_bayes import ComplementNB
    return lambda: ComplementNB(alpha=alpha)


CONFIGS = {
    "c12_C30": (2, 1, lr(30), {}),
    "c12_C3": (2, 1, lr(3), {}),
    "c12_C10": (2, 1, lr(10), {}),
    "c12_C100": (2, 1, lr(100), {}),
    "c12_C30_nocw": (2, 1, lr(30, None), {}),
    "c12_C30_lbfgs": (2, 1, lr(30, solver="lbfgs", tol=1e-4), {}),
    "c13_C30": (3, 1, lr(30), {}),
    "c13_C30_df2": (3, 2, lr(30), {}),
    "c13_C10": (3, 1, lr(10), {}),
    "c13_C100": (3, 1, lr(100), {}),
    "c13_C100_df2": (3, 2, lr(100), {}),
    "c12_C30_cat": (2, 1, lr(30), {"catalogue": True}),
    "c13_C30_cat": (3, 1, lr(30), {"catalogue": True}),
    "c12_sgd1e-4": (2, 1, sgd_mh(1e-4), {}),
    "c12_sgd3e-5": (2, 1, sgd_mh(3e-5), {}),
    "c13_sgd1e-4": (3, 1, sgd_mh(1e-4), {}),
    "c12_cnb0.3": (2, 1, cnb(0.3), {"scores": True}),
    "c13_cnb0.3": (3, 1, cnb(0.3), {"scores": True}),
    "c12_cnb0.1": (2, 1, cnb(0.1), {"scores": True}),
    "c12_cnb0.03": (2, 1, cnb(0.03), {"scores": True}),
    "c12_cnb0.1_counts": (2, 1, cnb(0.1), {"scores": True, "counts": True}),
    "c12_cnb0.3_counts": (2, 1, cnb(0.3), {"scores": True, "counts": True}),
    "c12_cnb0.5_counts": (2, 1, cnb(0.5), {"scores": True, "counts": True}),
    "c12_cnb1_counts": (2, 1, cnb(1.0), {"scores": True, "counts": True}),
    "c12_cnb0.3_counts_cat": (2, 1, cnb(0.3), {"scores": True, "counts": True, "catalogue": True}),
    "c12_C30_cat3": (2, 1, lr(30), {"catalogue": 3}),
    "c12_cnb0.3_counts_cat3": (2, 1, cnb(0.3), {"scores": True, "counts": True, "catalogue": 3}),
    "c12_C100_cat": (2, 1, lr(100), {"catalogue": True}),
    "c12s_C30": ("2s", 1, lr(30), {}),
    "c12j_C30": ("2j", 1, lr(30), {}),
    "c12s_cnb0.1": ("2s", 1, cnb(0.1), {"scores": True}),
    "c12_C30_bag5": (2, 1, lr(30), {"bag": 5}),
}


def run(name: str, train, fold_of, labels) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    n_max, min_df, make, extra = CONFIGS[name]
    col = {u: j for j, u in enumerate(labels)}
    docs = docs_of(train, n_max)
    y = np.array([e.department for e in train])
    cat = catalogue_examples() * int(extra.get("catalogue", 0))  # True: once
    cat_docs, cat_y = docs_of(cat, n_max), [e.department for e in cat]
    proba = np.zeros((len(train), len(labels)))
    for f in sorted(set(fold_of)):
        tr = [i for i, g in enumerate(fold_of) if g != f]
        te = [i for i, g in enumerate(fold_of) if g == f]
        if extra.get("counts"):
            from sklearn.feature_extraction.text import CountVectorizer
            vec = CountVectorizer(analyzer=ident, min_df=min_df, binary=True)
        else:
            vec = TfidfVectorizer(analyzer=ident, sublinear_tf=True, min_df=min_df, norm="l2", dtype=np.float64)
        x = vec.fit_transform([docs[i] for i in tr] + cat_docs)
        ytr = np.array(list(y[tr]) + cat_y)
        xt = vec.transform([docs[i] for i in te])
        if extra.get("bag"):  # average of models each trained without a share of the groups
            p = bagged(make, x, ytr, [train[i].group for i in tr] + [""] * len(cat), xt, extra["bag"], labels)
            for r, i in enumerate(te):
                proba[i] = p[r]
            continue
        clf = make().fit(x, ytr)
        if extra.get("scores"):  # naive Bayes: its own probabilities are near 0/1; softmax of its scores
            s = clf.predict_joint_log_proba(xt) if hasattr(clf, "predict_joint_log_proba") else clf.decision_function(xt)
            s = s - s.max(axis=1, keepdims=True)
            p = np.exp(s)
            p /= p.sum(axis=1, keepdims=True)
        else:
            p = clf.predict_proba(xt)
        cols = [col[c] for c in clf.classes_]
        for r, i in enumerate(te):
            proba[i, cols] = p[r]
    return proba


def bagged(make, x, y, groups, xt, bags: int, labels) -> np.ndarray:
    """Mean probabilities of `bags` models, model b trained without the b-th of `bags` slices
    of the groups (dealt as the folds are: every example is left out of exactly one model)."""
    col = {u: j for j, u in enumerate(labels)}
    order = sorted(set(groups))
    slice_of = {g: n % bags for n, g in enumerate(order)}
    out = np.zeros((xt.shape[0], len(labels)))
    for b in range(bags):
        keep = np.array([slice_of[g] != b for g in groups])
        clf = make().fit(x[keep], y[keep])
        out[:, [col[c] for c in clf.classes_]] += clf.predict_proba(xt)
    return out / bags


def kind_prior(train, fold_of, labels, alpha: float = 1.0) -> np.ndarray:
    """log P(unit | kind) from the other folds, for every example (Laplace smoothed)."""
    col = {u: j for j, u in enumerate(labels)}
    out = np.zeros((len(train), len(labels)))
    for f in sorted(set(fold_of)):
        counts: dict[str | None, np.ndarray] = {}
        for e, g in zip(train, fold_of, strict=True):
            if g != f:
                counts.setdefault(e.kind, np.zeros(len(labels)))[col[e.department]] += 1
        for i, (e, g) in enumerate(zip(train, fold_of, strict=True)):
            if g == f:
                c = counts.get(e.kind, np.zeros(len(labels))) + alpha
                out[i] = np.log(c / c.sum())
    return out


def tempered(p: np.ndarray, t: float) -> np.ndarray:
    if t == 1:
        return p
    lp = np.log(np.clip(p, 1e-300, 1)) / t
    q = np.exp(lp - lp.max(axis=1, keepdims=True))
    return q / q.sum(axis=1, keepdims=True)


def confidences(p: np.ndarray, how: str) -> np.ndarray:
    s = -np.sort(-p, axis=1)
    if how == "margin":
        return s[:, 0] - s[:, 1]
    if how == "p1":
        return s[:, 0]
    if how == "ratio":  # log p1/p2 squashed
        return 1 - s[:, 1] / s[:, 0]
    if how == "entropy":
        h = -(p * np.log(np.clip(p, 1e-12, 1))).sum(axis=1)
        return 1 - h / math.log(p.shape[1])
    raise ValueError(how)


def report(label: str, p: np.ndarray, y: np.ndarray, labels, fold_of, how: str = "margin",
           conf: np.ndarray | None = None, pred: np.ndarray | None = None) -> tuple[float, float, float]:
    pred = p.argmax(axis=1) if pred is None else pred
    units = [labels[j] for j in pred]
    ok = [labels[j] == t for j, t in zip(pred, y, strict=True)]
    c = [round(float(v), 4) for v in (confidences(p, how) if conf is None else conf)]
    t = choose_threshold(c, ok, PRECISION_TARGET)
    took = [k for v, k in zip(c, ok, strict=True) if v >= t]
    a, prec = nested(c, ok, units, fold_of, single, PRECISION_TARGET)
    top1 = sum(ok) / len(ok)
    print(f"  {label:38s} {how:8s} top-1 {100 * top1:5.1f}  t {t:.3f} auto {100 * len(took) / len(ok):5.1f} "
          f"(in-sample)  nested {100 * a:5.1f} at {100 * prec:5.1f}", flush=True)
    return top1, len(took) / len(ok), a


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("configs", nargs="*", default=[])
    ap.add_argument("--ensemble", nargs="*", default=[], help="A+B[*w]: average of cached probabilities")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/routing_oof_cache"))
    ap.add_argument("--confidences", default="margin,p1,entropy")
    ap.add_argument("--prior", nargs="*", type=float, default=[], help="weights of a kind x unit log prior")
    args = ap.parse_args()
    train = load_corpus().train
    fold_of = fold_assignment(train, 10)
    labels = sorted({e.department for e in train})
    y = np.array([e.department for e in train])
    args.cache.mkdir(exist_ok=True)
    hows = args.confidences.split(",")

    def get(name: str) -> np.ndarray:
        path = args.cache / f"{name}.npy"
        if path.exists():
            return np.load(path)
        t0 = time.perf_counter()
        p = run(name, train, fold_of, labels)
        np.save(path, p)
        print(f"  ({name}: out of fold in {time.perf_counter() - t0:.1f} s)", flush=True)
        return p

    for name in args.configs:
        p = get(name)
        for how in hows:
            report(name, p, y, labels, fold_of, how)
        for w in args.prior:
            lp = np.log(np.clip(p, 1e-12, 1)) + w * kind_prior(train, fold_of, labels)
            q = np.exp(lp - lp.max(axis=1, keepdims=True))
            report(f"{name} + {w:g} x kind prior", q / q.sum(axis=1, keepdims=True), y, labels, fold_of)
    for spec in args.ensemble:
        parts, ps = [], []
        for s in spec.split("+"):  # NAME[@T][*W]: probabilities at temperature T, weight W
            s, w = (s.split("*") + ["1"])[:2]
            n, t = (s.split("@") + ["1"])[:2]
            parts.append((n, float(w)))
            ps.append(tempered(get(n), float(t)))
        wsum = sum(w for _, w in parts)
        avg = sum(w * p for (_, w), p in zip(parts, ps, strict=True)) / wsum
        for how in hows:
            report(spec, avg, y, labels, fold_of, how)
        if len(ps) == 2:  # auto only when the two models agree on the unit
            agree = ps[0].argmax(axis=1) == ps[1].argmax(axis=1)
            report(spec + " agree", avg, y, labels, fold_of, "margin", confidences(avg, "margin") * agree)
            report(spec + " min", avg, y, labels, fold_of, "margin",
                   np.minimum(confidences(ps[0], "margin"), confidences(ps[1], "margin")) * agree)
    return 0


if __name__ == "__main__":
    sys.exit(main())
