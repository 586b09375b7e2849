"""The knowledge search, pure and in memory: a ranked index (BM25) over jieba words and Han
character bigrams, with the synonym and dialect table of ``data/synonyms.yaml`` applied to the
articles and to every query alike.

Words carry the meaning; the bigrams catch what speech recognition splits or misspells (a
transcript's "公积金取" still shares 公积/积金 with "公积金提取"). Only articles the desk may
offer are returned (published, inside their validity window), filtered by district and unit.
The index is updated article by article (:meth:`Index.put`, :meth:`Index.drop`); scoring reads
document frequencies at query time, so an update never needs a rebuild.
"""

from __future__ import annotations

import functools
import heapq
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

import yaml

from callcenter.infra.words import segment, teach
from callcenter.knowledge.model import Article, Suggestion

SYNONYMS = Path(__file__).parent / "data" / "synonyms.yaml"
K1 = 1.2
B_LEAD, B_BODY = 0.75, 0.75  # length normalisation of each field
W_LEAD, W_BODY = 1.0, 0.2  # the title and questions weigh more than the answer
BIGRAM_WEIGHT = 0.6    # a bigram counts for a little over half a word (chosen on the dev set)
FREQUENT = 0.04        # a term in more than this share only adds to the articles other terms found
CANDIDATES = 3000      # past this many articles found, later (more frequent) terms only rank them
PREFER = 1.5           # the IVR's unit: a boost, never a filter (the citizen may ask about something else)
DRIFT = 0.1            # re-weigh every posting when an average field length moved this much
COMMON = 0.25          # a term in more than this share of the articles is not scored (no meaning, much work)
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
STOP = frozenset("""我 你 他 她 们 的 了 吗 呢 吧 啊 呀 嘛 哦 噢 嗯 喂 是 有 在 就 都 也 还 要 想 能 会 可以 一下 这个
那个 这样 那样 怎么 什么 哪里 知道 问 一个 没有 现在 那么 然后 就是 如果 因为 所以 还是 或者 以及 并且 您 好 谢谢 请
麻烦 一些 这些 那些 给 对 和 与 及 把 被 让 从 到 去 来 说 办 做 用 下 上 里 中 个 些 多 少 很 太 更 最 已经 需要
可能 应该 时候 情况 问题 关于 方面 市民 同志 喂喂""".split())


@functools.cache
def table() -> tuple[tuple[str, str], ...]:
    """(variant, standard) pairs, longest variant first."""
    raw = yaml.safe_load(SYNONYMS.read_text(encoding="utf-8")) or {}
    pairs = {str(k): str(v) for group in raw.values() for k, v in (group or {}).items() if str(k) != str(v)}
    teach({v for v in pairs.values() if len(v) > 1} | {"公积金", "公积金提取", "居住证", "社保卡"})
    return tuple(sorted(pairs.items(), key=lambda kv: -len(kv[0])))


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, and every variant of the table to its standard word
    (one pass, longest first, so a replaced word is not replaced again)."""
    text = unicodedata.normalize("NFKC", text).lower()
    firsts = _by_first()
    out, i = [], 0
    while i < len(text):
        for variant, standard in firsts.get(text[i], ()):
            if text.startswith(variant, i):
                out.append(standard)
                i += len(variant)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@functools.cache
def _by_first() -> dict[str, tuple[tuple[str, str], ...]]:
    grouped: dict[str, list[tuple[str, str]]] = {}
    for variant, standard in table():
        grouped.setdefault(variant[0], []).append((variant, standard))
    return {ch: tuple(pairs) for ch, pairs in grouped.items()}


def terms(text: str) -> list[str]:
    """The index terms of a text: words (no stop words, no single characters) and ``#``-marked
    Han bigrams of the normalised text."""
    norm = normalise(text)
    words = [w for w in segment(norm) if w.isalnum() and len(w) > 1 and w not in STOP]
    grams = [f"#{run[i:i + 2]}" for run in _HAN_RUN.findall(norm) for i in range(len(run) - 1)]
    return words + grams


Analyser = Callable[[str], list[str]]
Terms = tuple[list[str], list[str]]  # (the lead: title and questions; the body: category and answer)


def article_terms(a: Article, analyse: Analyser = terms) -> Terms:
    """The lead (title and questions: what the citizen's words should meet) and the body."""
    return analyse(" ".join((a.title, *a.questions))), analyse(f"{a.category} {a.answer}")


class Index:
    """BM25F over two fields, the lead and the body, each with its own length normalisation.

    Each posting holds the article's saturated term weight, computed with the average field
    lengths of the last rebuild (`reweigh`): a query only adds them up. The averages are taken
    again when they have drifted by more than `DRIFT` since (an update never waits for more)."""

    def __init__(self, articles: Iterable[Article] = (), analyse: Analyser = terms) -> None:
        """``analyse``: text -> terms (another one only for comparisons, e.g. the benchmark's baseline)."""
        self.analyse = analyse
        self.articles: dict[str, Article] = {}
        self.postings: dict[str, dict[str, float]] = {}
        self.counts: dict[str, tuple[int, int, dict[str, tuple[int, int]]]] = {}  # id -> lengths, tfs
        self.totals = [0, 0]
        self.averages = (0.0, 0.0)
        for a in articles:
            self.put(a, reweigh=False)
        self.reweigh()

    def __len__(self) -> int:
        return len(self.articles)

    def put(self, a: Article, tokens: Terms | None = None, *, reweigh: bool = True) -> None:
        """Add or replace an article (``tokens``: its `article_terms`, when already cut)."""
        self.drop(a.id)
        lead, body = tokens if tokens is not None else article_terms(a, self.analyse)
        tl, tb = Counter(lead), Counter(body)
        tfs = {term: (tl.get(term, 0), tb.get(term, 0)) for term in tl.keys() | tb.keys()}
        self.articles[a.id] = a
        self.counts[a.id] = (len(lead), len(body), tfs)
        self.totals[0] += len(lead)
        self.totals[1] += len(body)
        if reweigh and not self._drifted():
            self._weigh(a.id)
        elif reweigh:
            self.reweigh()

    def drop(self, article_id: str) -> None:
        if article_id not in self.articles:
            return
        del self.articles[article_id]
        lead, body, tfs = self.counts.pop(article_id)
        for term in tfs:
            posting = self.postings.get(term)
            if posting is not None:
                posting.pop(article_id, None)
                if not posting:
                    del self.postings[term]
        self.totals[0] -= lead
        self.totals[1] -= body

    def _current(self) -> tuple[float, float]:
        n = max(len(self.articles), 1)
        return max(self.totals[0] / n, 1e-9), max(self.totals[1] / n, 1e-9)

    def _drifted(self) -> bool:
        now, then = self._current(), self.averages
        return any(t <= 0 or abs(c - t) > DRIFT * t for c, t in zip(now, then, strict=True))

    def reweigh(self) -> None:
        """Take the average field lengths again and weigh every posting with them."""
        self.averages = self._current()
        self.postings = {}
        for doc in self.counts:
            self._weigh(doc)

    def _weigh(self, doc: str) -> None:
        ll, lb, tfs = self.counts[doc]
        avg_l, avg_b = self.averages
        nl = W_LEAD / (1 - B_LEAD + B_LEAD * ll / avg_l)
        nb = W_BODY / (1 - B_BODY + B_BODY * lb / avg_b)
        postings = self.postings
        for term, (tl, tb) in tfs.items():
            x = tl * nl + tb * nb
            postings.setdefault(term, {})[doc] = x * (K1 + 1) / (x + K1)

    def search(self, query: str, *, today: date, district: str | None = None, unit: str | None = None,
               prefer: str | None = None, limit: int = 3) -> list[Suggestion]:
        """``unit`` keeps that unit's articles only; ``prefer`` (the unit the caller chose in the IVR,
        or a merged line's department) ranks that unit's articles `PREFER` times higher."""
        n = len(self.articles)
        if not n or not query.strip():
            return []
        wanted = Counter(self.analyse(query))
        scores: dict[str, float] = {}
        # rarest first; a term far more frequent than the candidates so far only adds to them
        # (an article that shares nothing but common terms with the query ranks last anyway)
        found = sorted(((len(p), term, p) for term in wanted if (p := self.postings.get(term))), key=lambda x: x[0])
        for df, term, posting in found:
            if df > max(COMMON * n, 50):
                continue
            weight = math.log(1 + (n - df + 0.5) / (df + 0.5)) * (BIGRAM_WEIGHT if term[0] == "#" else 1.0)
            weight *= 1 + 0.2 * (wanted[term] - 1)
            get = scores.get
            if not scores or (df <= max(FREQUENT * n, 200) and len(scores) < CANDIDATES):
                for doc, w in posting.items():  # may add articles
                    scores[doc] = get(doc, 0.0) + weight * w
            elif df <= len(scores):
                for doc, w in posting.items():
                    if doc in scores:
                        scores[doc] += weight * w
            else:
                for doc in scores:
                    if (w := posting.get(doc)) is not None:
                        scores[doc] += weight * w
        if prefer:
            articles = self.articles
            for doc in scores:
                if articles[doc].unit == prefer:
                    scores[doc] *= PREFER
        hits: list[Suggestion] = []
        for doc, score in _descending(scores):
            a = self.articles[doc]
            if not a.offered(today) or not a.applies_to(district) or (unit and a.unit != unit):
                continue
            hits.append(Suggestion(a, score, self._matched(doc, wanted)))
            if len(hits) >= limit:
                break
        return hits

    def _matched(self, doc: str, wanted: Counter[str]) -> list[str]:
        words = [t for t in wanted if t[0] != "#" and doc in self.postings.get(t, ())]
        if words:
            return words
        return [t[1:] for t in wanted if t[0] == "#" and doc in self.postings.get(t, ())][:6]


def _descending(scores: dict[str, float]) -> Iterable[tuple[str, float]]:
    """The scores best first, without sorting them all when the first few are enough."""
    top = heapq.nlargest(32, scores.items(), key=lambda kv: kv[1])
    yield from top
    if len(top) < len(scores):
        seen = {doc for doc, _ in top}
        yield from sorted(((d, s) for d, s in scores.items() if d not in seen), key=lambda kv: -kv[1])
