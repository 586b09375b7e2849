"""The learned dispatcher: text features, a linear classifier, the auto-dispatch threshold.

Pure (no asyncio, aiohttp, asyncpg, redis). Training uses scikit-learn (TF-IDF over the
features below, multinomial logistic regression); the trained model is exported to plain
arrays (:class:`LinearModel`), so prediction is a few dictionary look-ups and one small
matrix product in numpy, and a stored model is data (``npz`` without pickle), never code.

Features of a request: character 1-2-grams of the normalised text, each segment padded with
``^`` and ``$`` so that how a phrase starts or ends counts too (Chinese needs no word
segmentation for this), or jieba words and word bigrams (``analyzer="jieba"``), plus the
request kind (``k:complaint``) and, when known, the district (``d:西区``). Models stored before
the padding have no ``^``/``$`` features in their vocabulary, so they predict as they did.

Confidence: ``margin`` (probability of the best unit minus that of the second; chosen on
cross-validation of the training set, where it automated slightly more than the best unit's
probability at the same precision) or ``p1`` (the best unit's probability: models stored
before the margin).
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

KINDS = ("enquiry", "help", "complaint", "report", "suggestion", "praise")
KIND_LABELS = {"enquiry": "咨询", "help": "求助", "complaint": "投诉", "report": "举报",
               "suggestion": "建议", "praise": "表扬"}
ANALYZERS = ("char", "jieba", "char+jieba")
CONFIDENCES = ("margin", "p1")
PUSHED = 40  # features per candidate handed to highlights(): it reads the 12 strongest and widens from these
_SPLIT = re.compile(r"[^\w]+|_")  # punctuation and spaces end a segment: no n-gram spans them


class ModelError(ValueError):
    """Training data or a stored model is unusable."""


@dataclass(frozen=True)
class Example:
    """One labelled request: what the hall knew (text, kind, district) and where it went."""

    text: str
    department: str
    kind: str | None = None
    district: str | None = None
    group: str = ""


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, digits folded to 0."""
    return re.sub(r"\d", "0", unicodedata.normalize("NFKC", text).lower())


def segments(text: str) -> list[str]:
    return [s for s in _SPLIT.split(normalise(text)) if s]


def char_ngrams(text: str, n_max: int = 2) -> list[str]:
    out: list[str] = []
    for seg in segments(text):
        seg = f"^{seg}$"
        for n in range(1, n_max + 1):
            out.extend(seg[i:i + n] for i in range(len(seg) - n + 1))
    return out


def jieba_tokens(text: str) -> list[str]:
    import jieba  # imported here: only the jieba analyzer needs it

    words = [w for seg in segments(text) for w in jieba.lcut(seg) if w.strip()]
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


def features(text: str, kind: str | None = None, district: str | None = None,
             analyzer: str = "char") -> list[str]:
    if analyzer == "char":
        toks = char_ngrams(text)
    elif analyzer == "jieba":
        toks = jieba_tokens(text)
    elif analyzer == "char+jieba":
        toks = char_ngrams(text) + ["w:" + w for w in jieba_tokens(text)]
    else:
        raise ModelError(f"unknown analyzer {analyzer!r}; use one of {', '.join(ANALYZERS)}")
    if kind:
        toks.append(f"k:{kind}")
    if district:
        toks.append(f"d:{district}")
    return toks


@dataclass(frozen=True)
class Candidate:
    department: str
    probability: float
    words: tuple[str, ...]  # the features that pushed this unit up most


@dataclass(frozen=True)
class Prediction:
    candidates: tuple[Candidate, ...]  # best first
    threshold: float
    margin: float | None = None  # the confidence when the model measures it as p1 - p2

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    @property
    def confidence(self) -> float:
        return self.candidates[0].probability if self.margin is None else self.margin

    @property
    def auto(self) -> bool:
        """Confident enough to dispatch without a human (precision target met at this level)."""
        return self.confidence >= self.threshold


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

    def _vector(self, toks: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(i for t in toks if (i := self.vocabulary.get(t)) is not None)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        w = (1.0 + np.log(tf)) * self.idf[idx]
        return idx, w / np.linalg.norm(w)

    def predict(self, text: str, kind: str | None = None, district: str | None = None,
                top: int = 3, words: int = 5) -> Prediction:
        idx, w = self._vector(features(text, kind, district, self.analyzer))
        scores = self.coef[:, idx] @ w + self.intercept
        p = np.exp(scores - scores.max())
        p /= p.sum()
        order = np.argsort(-p)[:max(top, 2)]
        margin = round(float(p[order[0]] - p[order[1]]), 4) if self.confidence == "margin" else None
        order = order[:top]
        names = self._names()
        cands = []
        for c in order:
            contrib = self.coef[c, idx] * w
            up = np.flatnonzero(contrib > 0)
            up = up[np.argsort(-contrib[up])[:PUSHED]]  # the strongest are all that highlights() reads
            pushed = [(names[idx[j]], float(contrib[j])) for j in up]
            cands.append(Candidate(self.classes[c], round(float(p[c]), 4),
                                   highlights(text, pushed, words) if words else ()))
        return Prediction(tuple(cands), self.threshold, margin)

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
                             "confidence": self.confidence, "meta": self.meta, "vocabulary": self._names()}, ensure_ascii=False)
        buf = io.BytesIO()
        np.savez_compressed(buf, header=np.frombuffer(header.encode("utf-8"), dtype=np.uint8),
                            idf=self.idf.astype(np.float32), coef=self.coef.astype(np.float32),
                            intercept=self.intercept.astype(np.float32))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LinearModel:
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as z:
                header = json.loads(z["header"].tobytes().decode("utf-8"))
                idf, coef, intercept = (z[k].astype(np.float64) for k in ("idf", "coef", "intercept"))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"stored model unreadable: {exc}") from None
        vocab = {tok: i for i, tok in enumerate(header["vocabulary"])}
        if coef.shape != (len(header["classes"]), len(vocab)) or idf.shape != (len(vocab),):
            raise ModelError("stored model arrays do not match its vocabulary and classes")
        confidence = header.get("confidence", "p1")  # stored before the margin: the best probability
        if confidence not in CONFIDENCES:
            raise ModelError(f"stored model measures confidence as {confidence!r}")
        return cls(header["classes"], vocab, idf, coef, intercept, header["analyzer"],
                   float(header["threshold"]), header.get("meta", {}), confidence)


def highlights(text: str, pushed: list[tuple[str, float]], n: int = 5) -> tuple[str, ...]:
    """The phrases of the request's own text that pushed a unit up, strongest first: the
    strongest features are found in the text and overlapping ones joined (停水 + 水了 ->
    停水了); a single character is shown with its strongest neighbour n-gram; phrases weighing
    under a fifth of the best are left out. The kind and the district show as [投诉], [西区]
    when they weigh as much as a phrase shown."""
    norm = normalise(text)
    shown = text if len(norm) == len(text) else norm
    spans: list[tuple[int, int, float]] = []
    labels: list[tuple[float, str]] = []
    wide = [t for t, _ in pushed if len(t) > 1 and t in norm]  # pushed n-grams of the text, strongest first
    for tok, c in pushed[:12]:
        if tok.startswith(("k:", "d:")):
            labels.append((c, f"[{KIND_LABELS.get(tok[2:], tok[2:])}]"))
            continue
        tok = tok.removeprefix("w:").replace("_", "").strip("^$")  # segment edges are not text
        if not tok:
            continue
        if len(tok) == 1:  # widen to the strongest pushed n-gram around it
            tok = next((t for t in wide if tok in t), tok)
        at = norm.find(tok)
        if at >= 0:
            spans.append((at, at + len(tok), c))
    phrases: list[tuple[float, str]] = []
    for a, b, c in sorted(spans):
        if phrases and a <= phrases[-1][2]:  # overlaps or touches the previous phrase
            score, start, end = phrases[-1][0] + c, phrases[-1][1], max(phrases[-1][2], b)
            phrases[-1] = (score, start, end)
        else:
            phrases.append((c, a, b))
    out = [(score, shown[a:b]) for score, a, b in phrases if b - a > 1]
    top = max((sc for sc, _ in out), default=0.0)
    out = [(sc, p) for sc, p in out if sc >= top / 5]  # what is left weighs little next to the best
    floor = min((sc for sc, _ in sorted(out, reverse=True)[:n]), default=0.0)
    out += [lb for lb in labels if lb[0] >= floor]
    return tuple(dict.fromkeys(label for _, label in sorted(out, key=lambda r: -r[0])))[:n]


def train(examples: Sequence[Example], *, analyzer: str = "char", c: float = 20.0,
          class_weight: str | None = "balanced") -> LinearModel:
    """Fit TF-IDF + logistic regression (scikit-learn) and export it as a :class:`LinearModel`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = sorted({e.department for e in examples})
    if len(labels) < 2:
        raise ModelError("training needs examples of at least two units")
    docs = [features(e.text, e.kind, e.district, analyzer) for e in examples]
    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1, norm="l2", dtype=np.float64)
    x = vec.fit_transform(docs)
    # saga to a tolerance of 1e-3: probabilities within 0.04 of lbfgs run to convergence, the same
    # figures on cross-validation, in a fifteenth of the time (cross-validation trains six times)
    clf = LogisticRegression(C=c, solver="saga", tol=1e-3, max_iter=2000, class_weight=class_weight, random_state=0)
    clf.fit(x, [e.department for e in examples])
    vocab = {str(t): int(i) for t, i in vec.vocabulary_.items()}
    coef, intercept = clf.coef_.astype(np.float64), clf.intercept_.astype(np.float64)
    if len(labels) == 2:  # one row (the second class's log-odds): softmax over [0, z] is the same
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    return LinearModel([str(k) for k in clf.classes_], vocab, vec.idf_.astype(np.float64), coef, intercept, analyzer,
                       meta={"c": c, "examples": len(examples), "features": len(vocab)})


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
