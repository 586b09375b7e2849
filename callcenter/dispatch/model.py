"""The learned dispatcher: a linear classifier over the request's features, the threshold.

Pure (no asyncio, aiohttp, asyncpg, redis). Training uses scikit-learn (TF-IDF over the
features of :mod:`callcenter.dispatch.features`, multinomial logistic regression, and
optionally a complement naive Bayes over which features are present, whose probabilities are
averaged with the regression's); the trained model is exported to plain arrays
(:class:`LinearModel`), so prediction is a few dictionary look-ups and one or two small matrix
products in numpy, and a stored model is data (``npz`` without pickle), never code. Models
stored before the segment-edge padding have no ``^``/``$`` features in their vocabulary, and
models stored before the naive Bayes have no second model, so they predict as they did.

Confidence (``CONFIDENCES``): ``ratio`` (1 - p2/p1: how far the second unit falls short of
the best, relative to the best; with the averaged pair it automated the most on
cross-validation of the training set at the same precision), ``margin`` (p1 - p2: models
stored before the ratio) or ``p1`` (the best unit's probability: models stored before the
margin).
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from callcenter.dispatch.catalogue import HALL
from callcenter.dispatch.features import (  # noqa: F401  (re-exported: the model's public names)
    ANALYZERS,
    KIND_LABELS,
    KINDS,
    ModelError,
    char_ngrams,
    features,
    highlights,
    jieba_tokens,
    normalise,
    segments,
)

CONFIDENCES = ("ratio", "margin", "p1")
PUSHED = 40  # features per candidate handed to highlights(): it reads the 12 strongest and widens from these


@dataclass(frozen=True)
class Example:
    """One labelled request: what the hall knew (text, kind, district) and where it went."""

    text: str
    department: str
    kind: str | None = None
    district: str | None = None
    group: str = ""


@dataclass(frozen=True)
class Candidate:
    department: str
    probability: float
    words: tuple[str, ...]  # the features that pushed this unit up most


@dataclass(frozen=True)
class Prediction:
    candidates: tuple[Candidate, ...]  # best first
    threshold: float
    score: float | None = None  # the confidence when the model measures it otherwise than p1

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    @property
    def confidence(self) -> float:
        return self.candidates[0].probability if self.score is None else self.score

    @property
    def auto(self) -> bool:
        """Confident enough to dispatch without a human (precision target met at this level)."""
        return self.confidence >= self.threshold


def confidence_of(p1: float, p2: float, how: str) -> float:
    """The confidence of a prediction from its first two probabilities, measured as `how`."""
    if how == "ratio":
        return 1.0 - p2 / p1 if p1 > 0 else 0.0
    if how == "margin":
        return p1 - p2
    if how == "p1":
        return p1
    raise ModelError(f"unknown confidence {how!r}; use one of {', '.join(CONFIDENCES)}")


def softmax(scores: np.ndarray) -> np.ndarray:
    p = np.exp(scores - scores.max())
    return p / p.sum()


@dataclass
class LinearModel:
    """TF-IDF (sublinear tf, l2) + multinomial linear scores, as plain arrays."""

    classes: list[str]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_classes, n_features)
    intercept: np.ndarray  # (n_classes,)
    analyzer: str = "char"
    threshold: float = 1.0  # auto-dispatch at or above; 1.0 = never until chosen
    meta: dict = field(default_factory=dict)
    confidence: str = "margin"  # how Prediction.confidence is measured (CONFIDENCES)
    # a second model averaged in: scores = second @ (which features are present), already
    # divided by its temperature; its probabilities weigh `blend` (0: the regression alone)
    second: np.ndarray | None = None  # (n_classes, n_features)
    blend: float = 0.0
    # below this probability of the best unit the confidence is 0, however far ahead of the
    # second it is: a request that names no unit spreads its probability thin (p1 0.12, p2 0.04
    # is a ratio of 0.67), and must go to a person (0: no floor, as models stored before it)
    floor: float = 0.0

    def _vector(self, toks: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter([i for i in map(self.vocabulary.get, toks) if i is not None])
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        w = (1.0 + np.log(tf)) * self.idf[idx]
        return idx, w / np.linalg.norm(w)

    def predict(self, text: str, kind: str | None = None, district: str | None = None,
                top: int = 3, words: int = 5) -> Prediction:
        idx, w = self._vector(features(text, kind, district, self.analyzer))
        sub = self.coef[:, idx]  # the request's features' weights, for every unit
        p = softmax(sub @ w + self.intercept)
        if self.blend and self.second is not None:
            p = (1.0 - self.blend) * p + self.blend * softmax(self.second[:, idx].sum(axis=1))
        ranked = np.argsort(-p)
        order = ranked[:max(top, 2)]
        p1 = float(p[order[0]])
        score = None if self.confidence == "p1" else round(confidence_of(p1, float(p[order[1]]), self.confidence), 4)
        if p1 < self.floor or self.classes[order[0]] == HALL:
            score = 0.0  # too thin, or the request names no unit: a person decides
        order = [c for c in ranked if self.classes[c] != HALL][:top]  # units only for the dispatcher
        names = self._names()
        norm = normalise(text) if words else ""
        # every candidate's feature contributions at once (the same products, row by row)
        contribs = sub[order] * w if words and order else None
        cands = []
        for row, c in enumerate(order):
            found: tuple[str, ...] = ()
            if contribs is not None:
                contrib = contribs[row]
                up = np.flatnonzero(contrib > 0)
                up = up[np.argsort(-contrib[up])[:PUSHED]]  # the strongest are all that highlights() reads
                pushed = list(zip(map(names.__getitem__, idx[up].tolist()), contrib[up].tolist(), strict=True))
                found = highlights(text, pushed, words, norm=norm)
            cands.append(Candidate(self.classes[c], round(float(p[c]), 4), found))
        return Prediction(tuple(cands), self.threshold, score)

    def _names(self) -> list[str]:
        names = self.__dict__.get("_names_cache")
        if names is None:
            names = [""] * len(self.vocabulary)
            for tok, i in self.vocabulary.items():
                names[i] = tok
            self.__dict__["_names_cache"] = names
        return names

    def to_bytes(self) -> bytes:
        """``npz`` of the arrays plus a JSON header; loadable without pickle."""
        header = json.dumps({"classes": self.classes, "analyzer": self.analyzer, "threshold": self.threshold,
                             "confidence": self.confidence, "blend": self.blend, "floor": self.floor, "meta": self.meta,
                             "vocabulary": self._names()}, ensure_ascii=False)
        arrays = {"idf": self.idf, "coef": self.coef, "intercept": self.intercept}
        if self.second is not None:
            arrays["second"] = self.second
        buf = io.BytesIO()
        np.savez_compressed(buf, header=np.frombuffer(header.encode("utf-8"), dtype=np.uint8),
                            **{k: v.astype(np.float32) for k, v in arrays.items()})
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LinearModel:
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as z:
                header = json.loads(z["header"].tobytes().decode("utf-8"))
                idf, coef, intercept = (z[k].astype(np.float64) for k in ("idf", "coef", "intercept"))
                second = z["second"].astype(np.float64) if "second" in z.files else None  # none before the pair
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"stored model unreadable: {exc}") from None
        vocab = {tok: i for i, tok in enumerate(header["vocabulary"])}
        if coef.shape != (len(header["classes"]), len(vocab)) or idf.shape != (len(vocab),):
            raise ModelError("stored model arrays do not match its vocabulary and classes")
        if second is not None and second.shape != coef.shape:
            raise ModelError("stored model's second model does not match its vocabulary and classes")
        confidence = header.get("confidence", "p1")  # stored before the margin: the best probability
        if confidence not in CONFIDENCES:
            raise ModelError(f"stored model measures confidence as {confidence!r}")
        return cls(header["classes"], vocab, idf, coef, intercept, header["analyzer"],
                   float(header["threshold"]), header.get("meta", {}), confidence, second,
                   float(header.get("blend", 0.0)) if second is not None else 0.0,
                   float(header.get("floor", 0.0)))  # none before the floor


def train(examples: Sequence[Example], *, analyzer: str = "char", c: float = 20.0,
          class_weight: str | None = "balanced", blend: float = 0.0, nb_alpha: float = 0.3,
          temperature: float = 2.0, confidence: str = "margin") -> LinearModel:
    """Fit TF-IDF + logistic regression (scikit-learn) and export it as a :class:`LinearModel`;
    with `blend` > 0, also a complement naive Bayes (smoothing `nb_alpha`) over which features
    are present, its scores divided by `temperature`, its probabilities weighing `blend`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = sorted({e.department for e in examples})
    if len(labels) < 2:
        raise ModelError("training needs examples of at least two units")
    confidence_of(1.0, 0.0, confidence)  # an unknown measure fails before the fitting
    docs = [features(e.text, e.kind, e.district, analyzer) for e in examples]
    y = [e.department for e in examples]
    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1, norm="l2", dtype=np.float64)
    x = vec.fit_transform(docs)
    # saga to a tolerance of 1e-3: probabilities within 0.04 of lbfgs run to convergence, the same
    # figures on cross-validation, in a fifteenth of the time (cross-validation trains six times)
    clf = LogisticRegression(C=c, solver="saga", tol=1e-3, max_iter=2000, class_weight=class_weight, random_state=0)
    clf.fit(x, y)
    vocab = {str(t): int(i) for t, i in vec.vocabulary_.items()}
    coef, intercept = clf.coef_.astype(np.float64), clf.intercept_.astype(np.float64)
    if len(labels) == 2:  # one row (the second class's log-odds): softmax over [0, z] is the same
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    second = None
    if blend > 0:
        from sklearn.naive_bayes import ComplementNB

        nb = ComplementNB(alpha=nb_alpha).fit((x > 0).astype(np.float64), y)
        if list(nb.classes_) != list(clf.classes_):
            raise ModelError("the two models disagree on the units")
        second = nb.feature_log_prob_.astype(np.float64) / temperature
    return LinearModel([str(k) for k in clf.classes_], vocab, vec.idf_.astype(np.float64), coef, intercept, analyzer,
                       meta={"c": c, "examples": len(examples), "features": len(vocab), "blend": blend},
                       confidence=confidence, second=second, blend=blend if second is not None else 0.0)


def _identity(tokens: list[str]) -> list[str]:
    return tokens


# ---- the threshold and the figures --------------------------------------------------------

def choose_threshold(confidences: Sequence[float], correct: Sequence[bool], target: float = 0.95) -> float:
    """The lowest confidence level at which the requests at or above it are right at least
    `target` of the time (most automation for the precision); 1.0 if no level reaches it."""
    pairs = sorted(zip(confidences, correct, strict=True), key=lambda p: -p[0])
    best, right = 1.0, 0
    for i, (conf, ok) in enumerate(pairs, 1):
        right += ok
        tie_follows = i < len(pairs) and pairs[i][0] == conf
        if not tie_follows and right / i >= target:
            best = conf
    return best


def tradeoff(confidences: Sequence[float], correct: Sequence[bool],
             levels: Iterable[float] | None = None) -> list[tuple[float, float, float]]:
    """(threshold, share auto-dispatched, precision among them) for each level."""
    levels = sorted(set(levels if levels is not None else confidences))
    n = len(confidences)
    out = []
    for t in levels:
        auto = [ok for conf, ok in zip(confidences, correct, strict=True) if conf >= t]
        out.append((t, len(auto) / n if n else 0.0, sum(auto) / len(auto) if auto else 1.0))
    return out


@dataclass
class Evaluation:
    n: int
    threshold: float
    top1: float  # accuracy of the best candidate over every request
    top3: float
    auto_share: float
    auto_precision: float
    per_department: dict[str, dict[str, float]]
    confusions: list[tuple[str, str, int]]  # (true, predicted, count), most first
    confidences: list[float]
    correct: list[bool]


def evaluate(model: LinearModel, examples: Sequence[Example], threshold: float | None = None,
             predict: Callable[[Example], Prediction] | None = None) -> Evaluation:
    t = model.threshold if threshold is None else threshold
    run = predict or (lambda e: model.predict(e.text, e.kind, e.district))
    confs, correct, top3 = [], [], 0
    per: dict[str, Counter] = {}
    confusions: Counter = Counter()
    for e in examples:
        p = run(e)
        ok = p.best.department == e.department
        confs.append(p.confidence)
        correct.append(ok)
        top3 += any(c.department == e.department for c in p.candidates[:3])
        d = per.setdefault(e.department, Counter())
        d["n"] += 1
        d["right"] += ok
        if p.confidence >= t:
            d["auto"] += 1
            d["auto_right"] += ok
        if not ok:
            confusions[(e.department, p.best.department)] += 1
    n = len(examples)
    auto = [ok for conf, ok in zip(confs, correct, strict=True) if conf >= t]
    table = {dep: {"n": c["n"], "top1": c["right"] / c["n"], "auto": c["auto"],
                   "auto_precision": c["auto_right"] / c["auto"] if c["auto"] else math.nan}
             for dep, c in sorted(per.items())}
    return Evaluation(n, t, sum(correct) / n if n else 0.0, top3 / n if n else 0.0,
                      len(auto) / n if n else 0.0, sum(auto) / len(auto) if auto else 1.0, table,
                      [(a, b, k) for (a, b), k in confusions.most_common()], confs, correct)
