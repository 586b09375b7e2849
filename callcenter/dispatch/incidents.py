"""Mass-incident detection (热点诉求 / 批量诉求): a streaming detector over new tickets and live
transcripts. Pure: time comes from the signals (and `expire(now)`), so tests drive it with a
fake clock.

When `min_count` similar requests from the same district (and the same unit, when the
dispatcher knows it) arrive within `window`, the detector opens an incident; its first ticket
is the master (live transcripts count towards `min_count` but a master is always a ticket, so
an incident waits for the first ticket). Later similar requests from that district join the
incident without a window until it is closed, or until it has been quiet for `quiet`. A ticket
filed from a call whose transcript was already counted takes that call's place (`supersedes`)
instead of counting twice. Similarity is the cosine of
character-bigram counts against the running centroid of a cluster (leader clustering), so
"清香坪停水了" and "我们这边一直没水" meet through what the cluster has in common.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# bigrams every request has (greetings, fillers, pronouns): they say nothing about the topic
_COMMON = frozenset("""你好 喂你 我们 我想 想问 问一 一下 一哈 这边 那边 那个 就是 是不 不是 现在 还是 啥子
    咋个 怎么 为啥 什么 已经 没有 有人 一个 这个 哪个 我家 屋头 他们 你们 好多 麻烦 谢谢 请问 反映""".split())
_SPLIT = re.compile(r"[^\w]+|[\d_a-z]+")


def bigrams(text: str) -> Counter:
    text = unicodedata.normalize("NFKC", text).lower()
    out: Counter = Counter()
    for seg in _SPLIT.split(text):
        out.update(g for g in (seg[i:i + 2] for i in range(len(seg) - 1)) if g not in _COMMON)
    return out


def cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


@dataclass(frozen=True)
class Signal:
    """One request: a new ticket (ref = its number) or a live transcript (ref = the call id)."""

    ref: str
    at: datetime
    district: str | None
    text: str
    department: str | None = None
    source: str = "ticket"  # or "transcript"
    supersedes: tuple[str, ...] = ()  # earlier signals of the same request: the calls a ticket came from


@dataclass
class Incident:
    id: int
    district: str
    department: str | None
    master: str
    refs: list[str]
    opened_at: datetime
    last_at: datetime
    centroid: Counter = field(repr=False, default_factory=Counter)

    @property
    def keywords(self) -> tuple[str, ...]:
        """The bigrams most of its requests share, for the board and the IVR prompt."""
        words = [k for k, _ in self.centroid.most_common(8) if k not in self.district]
        return tuple(words[:3])

    def signature(self, size: int = 200) -> dict[str, int]:
        """Its most frequent bigrams, stored so that a restarted detector can take it back."""
        return dict(self.centroid.most_common(size))

    @property
    def title(self) -> str:
        return f"{self.district}：{'/'.join(self.keywords)}（{len(self.refs)}件）"


@dataclass(frozen=True)
class Opened:
    incident: Incident


@dataclass(frozen=True)
class Joined:
    incident: Incident
    ref: str
    replaces: str | None = None  # the call (counted from its transcript) this ticket takes the place of


@dataclass
class _Cluster:
    department: str | None = None  # the first unit a request of it named
    items: deque = field(default_factory=deque)  # (at, ref, bigram counts, source)
    centroid: Counter = field(default_factory=Counter)

    def add(self, at: datetime, ref: str, vec: Counter, source: str, department: str | None) -> None:
        self.items.append((at, ref, vec, source))
        self.centroid.update(vec)
        self.department = self.department or department

    def master(self) -> tuple[datetime, str] | None:
        return next(((at, ref) for at, ref, _, source in self.items if source == "ticket"), None)

    def prune(self, since: datetime) -> None:
        if not self.items or self.items[0][0] >= since:
            return  # nothing left the window: the centroid has only positive counts already
        while self.items and self.items[0][0] < since:
            self.centroid.subtract(self.items.popleft()[2])
        self.centroid = +self.centroid  # drop zero counts


class IncidentDetector:
    def __init__(self, *, min_count: int = 8, window: timedelta = timedelta(minutes=15),
                 similarity: float = 0.15, quiet: timedelta = timedelta(hours=6)) -> None:
        if min_count < 2:
            raise ValueError("min_count must be at least 2")
        self.min_count, self.window, self.similarity, self.quiet = min_count, window, similarity, quiet
        self._clusters: dict[str, list[_Cluster]] = {}  # by district
        self.incidents: dict[int, Incident] = {}
        self._seen: dict[str, datetime] = {}  # ref -> when, forgotten after the window
        self._seen_order: deque[tuple[datetime, str]] = deque()
        self._next_id = 1

    def observe(self, sig: Signal) -> Opened | Joined | None:
        """Feed one request; says whether it opened an incident or joined an open one."""
        if not sig.district or sig.ref in self._seen:
            return None
        self._seen[sig.ref] = sig.at
        self._seen_order.append((sig.at, sig.ref))
        for old in sig.supersedes:
            if old in self._seen and (found := self._replace(old, sig)) is not _ABSENT:
                return found  # type: ignore[return-value]
        vec = bigrams(sig.text)
        if not vec:
            return None
        self.expire(sig.at)
        best, score = None, self.similarity
        for inc in self.incidents.values():
            if inc.district == sig.district and _same_unit(inc.department, sig.department):
                if (s := cosine(vec, inc.centroid)) >= score:
                    best, score = inc, s
        if best is not None:
            best.refs.append(sig.ref)
            best.centroid.update(vec)
            best.last_at = max(best.last_at, sig.at)
            return Joined(best, sig.ref)
        return self._cluster(sig, vec)

    def _cluster(self, sig: Signal, vec: Counter) -> Opened | None:
        assert sig.district
        clusters = self._clusters.setdefault(sig.district, [])
        best, score = None, self.similarity
        for cl in clusters:
            if _same_unit(cl.department, sig.department) and (s := cosine(vec, cl.centroid)) >= score:
                best, score = cl, s
        if best is None:
            best = _Cluster()
            clusters.append(best)
        best.add(sig.at, sig.ref, vec, sig.source, sig.department)
        return self._open(sig.district, best, sig.at)

    def _open(self, district: str, cl: _Cluster, now: datetime) -> Opened | None:
        master = cl.master()
        if len(cl.items) < self.min_count or master is None:
            return None
        self._clusters[district].remove(cl)
        inc = Incident(self._next_id, district, cl.department, master[1], [ref for _, ref, _, _ in cl.items],
                       min(master[0], cl.items[0][0]), now, Counter(cl.centroid))
        self._next_id += 1
        self.incidents[inc.id] = inc
        return Opened(inc)

    def _replace(self, old: str, sig: Signal) -> Opened | Joined | None | object:
        """A ticket filed from call `old`, whose transcript was counted: it takes the call's place
        (the same request, not a second one); a cluster waiting for a ticket may open now."""
        for inc in self.incidents.values():
            if old in inc.refs:
                inc.refs[inc.refs.index(old)] = sig.ref
                inc.last_at = max(inc.last_at, sig.at)
                return Joined(inc, sig.ref, replaces=old)
        for district, clusters in self._clusters.items():
            for cl in clusters:
                for i, (at, ref, vec, _) in enumerate(cl.items):
                    if ref == old:
                        cl.items[i] = (at, sig.ref, vec, sig.source)
                        cl.department = cl.department or sig.department
                        return self._open(district, cl, sig.at)
        return _ABSENT  # forgotten (or said nothing on topic): the ticket counts on its own

    def restore(self, *, district: str, department: str | None, master: str, refs: list[str],
                opened_at: datetime, last_at: datetime, signature: dict[str, int]) -> Incident:
        """Take back an incident that was open before a restart (later requests join it again)."""
        inc = Incident(self._next_id, district, department, master, list(refs), opened_at, last_at,
                       Counter(signature))
        self._next_id += 1
        self.incidents[inc.id] = inc
        return inc

    def close(self, incident_id: int) -> Incident | None:
        """The master ticket was resolved: later requests start afresh."""
        return self.incidents.pop(incident_id, None)

    def expire(self, now: datetime) -> list[Incident]:
        """Forget requests older than the window and incidents quiet for longer than `quiet`."""
        since = now - self.window
        while self._seen_order and self._seen_order[0][0] < since:
            at, ref = self._seen_order.popleft()
            if self._seen.get(ref) == at:
                del self._seen[ref]
        for key, clusters in list(self._clusters.items()):
            for cl in clusters:
                cl.prune(since)
            clusters[:] = [cl for cl in clusters if cl.items]
            if not clusters:
                del self._clusters[key]
        gone = [i for i in self.incidents.values() if now - i.last_at > self.quiet]
        for inc in gone:
            del self.incidents[inc.id]
        return gone


_ABSENT = object()


def _same_unit(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


# ---- the IVR announcement ----------------------------------------------------------------

MAX_ANNOUNCEMENT = 30  # characters: spoken in well under 10 s (the IVR's menu limit is 15 s)
_TOPIC = re.compile(r"[\u4e00-\u9fff]{2,8}")


def announcement(district: str, keywords: tuple[str, ...] | list[str], digit: str = "1") -> str:
    """What the IVR says to callers from the district: "如果您反映西区停水问题请按1" (no comma:
    espeak pauses long at one, and the IVR's no-input limit counts every second). The topic is
    the incident's leading keyword; a supervisor may edit the text."""
    topic = next((k for k in keywords if _TOPIC.fullmatch(k)), "")
    return f"如果您反映{district}{topic}问题请按{digit}"


def topic(keywords: tuple[str, ...] | list[str]) -> str:
    """The incident's keywords for a reader: bigrams that overlap are joined ("南山", "山路",
    "燃气" -> "南山路/燃气")."""
    parts: list[str] = []
    for word in keywords:
        if parts and word and parts[-1][-1] == word[0]:
            parts[-1] += word[1:]
        elif word:
            parts.append(word)
    return "/".join(parts)


def check_announcement(text: str) -> str:
    """A supervisor's text for the announcement: one short line of speech."""
    text = " ".join(text.split())
    if not text:
        raise ValueError("the announcement is empty")
    if len(text) > MAX_ANNOUNCEMENT:
        raise ValueError(f"the announcement is longer than {MAX_ANNOUNCEMENT} characters")
    return text


PROMPT_FILE = re.compile(r"incident_[0-9a-f]{16}")  # the names `prompt_name` makes


def prompt_name(text: str) -> str:
    """The sound file's name, from its text: the same text is the same file on every node and
    every test run sharing the sounds directory; another text never overwrites it."""
    return "incident_" + hashlib.sha256(text.encode()).hexdigest()[:16]
