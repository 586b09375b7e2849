"""Text features of a citizen's request, and the phrases of its text shown as the reasons.

Pure. Character 1-2-grams of the normalised text, each segment padded with ``^`` and ``$`` so
that how a phrase starts or ends counts too (Chinese needs no word segmentation for this), or
jieba words and word bigrams (``analyzer="jieba"``), plus the request kind (``k:complaint``)
and, when known, the district (``d:西区``).
"""

from __future__ import annotations

import re
import unicodedata

KINDS = ("enquiry", "help", "complaint", "report", "suggestion", "praise")
KIND_LABELS = {"enquiry": "咨询", "help": "求助", "complaint": "投诉", "report": "举报",
               "suggestion": "建议", "praise": "表扬"}
ANALYZERS = ("char", "jieba", "char+jieba")
_SPLIT = re.compile(r"[^\w]+|_")  # punctuation and spaces end a segment: no n-gram spans them


class ModelError(ValueError):
    """Training data or a stored model is unusable."""


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


def highlights(text: str, pushed: list[tuple[str, float]], n: int = 5, *, norm: str | None = None) -> tuple[str, ...]:
    """The phrases of the request's own text that pushed a unit up, strongest first: the
    strongest features are found in the text and overlapping ones joined (停水 + 水了 ->
    停水了); a single character is shown with its strongest neighbour n-gram; phrases weighing
    under a fifth of the best are left out. The kind and the district show as [投诉], [西区]
    when they weigh as much as a phrase shown. ``norm``: ``normalise(text)``, when the caller has it."""
    norm = normalise(text) if norm is None else norm
    shown = text if len(norm) == len(text) else norm
    spans: list[tuple[int, int, float]] = []
    labels: list[tuple[float, str]] = []
    wide: list[str] | None = None  # pushed n-grams of the text, strongest first (found when first needed)
    for tok, c in pushed[:12]:
        if tok.startswith(("k:", "d:")):
            labels.append((c, f"[{KIND_LABELS.get(tok[2:], tok[2:])}]"))
            continue
        tok = tok.removeprefix("w:").replace("_", "").strip("^$")  # segment edges are not text
        if not tok:
            continue
        if len(tok) == 1:  # widen to the strongest pushed n-gram around it
            if wide is None:
                wide = [t for t, _ in pushed if len(t) > 1 and t in norm]
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
