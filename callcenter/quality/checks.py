"""The automatic quality checks (自动质检), pure functions over a call's transcript: each returns a
`Finding` (passed or not) with its evidence, the lines and times an inspector checks in one click.

A transcript is the call's final segments in time order (`Line`: the party, start and end in
seconds from the bridge, the text). The agent's lines are `agent`, the citizen's `citizen`.
Texts are compared without spaces and punctuation (the recognizer's spacing is not the agent's).
"""

from __future__ import annotations

import bisect
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

AGENT, CITIZEN = "agent", "citizen"
_NOISE = re.compile(r"[\s，。！？、,.!?~…：:；;\"'“”‘’（）()]+")


@dataclass(frozen=True)
class Line:
    leg: str
    start_s: float
    end_s: float
    text: str
    status: str = "ok"  # the segment's: 'ok', or '未转写' (voice the recognizer could not decode)


@dataclass(frozen=True)
class Evidence:
    line: int | None  # index in the transcript (None: about the whole call, or a gap)
    at_s: float
    text: str


@dataclass(frozen=True)
class Finding:
    check: str
    passed: bool
    detail: str
    evidence: tuple[Evidence, ...] = field(default=())


def plain(text: str) -> str:
    return _NOISE.sub("", text or "")


def _ev(lines: Sequence[Line], i: int) -> Evidence:
    return Evidence(i, lines[i].start_s, lines[i].text)


def _of(lines: Sequence[Line], leg: str) -> list[int]:
    return [i for i, ln in enumerate(lines) if ln.leg == leg and plain(ln.text)]


def opening(lines: Sequence[Line], phrases: Iterable[str], within_s: float = 10.0) -> Finding:
    """规范开头语: the agent says one of the opening phrases in their lines of the first `within_s`."""
    wanted = [plain(p) for p in phrases]
    early = [i for i in _of(lines, AGENT) if lines[i].start_s <= within_s]
    for i in early:
        said = plain(lines[i].text)
        if any(p and p in said for p in wanted):
            return Finding("opening", True, f"开头语在第 {lines[i].start_s:.0f} 秒", (_ev(lines, i),))
    first = _of(lines, AGENT)[:1]
    detail = f"前 {within_s:.0f} 秒内没有规范开头语" if early or not first else \
        f"坐席第一句在第 {lines[first[0]].start_s:.0f} 秒，晚于 {within_s:.0f} 秒"
    return Finding("opening", False, detail, tuple(_ev(lines, i) for i in (early or first)))


def closing(lines: Sequence[Line], phrases: Iterable[str], last_lines: int = 3) -> Finding:
    """结束语: one of the closing phrases among the agent's last `last_lines` lines."""
    wanted = [plain(p) for p in phrases]
    tail = _of(lines, AGENT)[-last_lines:]
    for i in reversed(tail):
        said = plain(lines[i].text)
        if any(p and p in said for p in wanted):
            return Finding("closing", True, "有规范结束语", (_ev(lines, i),))
    return Finding("closing", False, "结束时没有规范结束语", tuple(_ev(lines, i) for i in tail))


def forbidden_words(lines: Sequence[Line], words: Iterable[str]) -> Finding:
    """服务禁语: every agent line with a word of the hall's list is evidence; any fails the check."""
    banned = [(w, plain(w)) for w in words if plain(w)]
    hits = []
    said_words: list[str] = []
    for i in _of(lines, AGENT):
        said = plain(lines[i].text)
        found = [w for w, p in banned if p in said]
        if found:
            hits.append(_ev(lines, i))
            said_words += found
    if not hits:
        return Finding("forbidden_words", True, "没有服务禁语")
    return Finding("forbidden_words", False, f"服务禁语：{'、'.join(dict.fromkeys(said_words))}", tuple(hits))


def _bigrams(text: str) -> set[str]:
    t = plain(text)
    return {t[i:i + 2] for i in range(len(t) - 1)}


def restatement(lines: Sequence[Line], phrases: Iterable[str], min_overlap: float = 0.4) -> Finding:
    """复述诉求: after the citizen has told the matter, the agent confirms it back: a confirming
    phrase ("您反映的是…"), or an agent line repeating at least `min_overlap` of the character pairs
    of the citizen's longest line before it."""
    wanted = [plain(p) for p in phrases]
    citizen_said: list[int] = []
    for i, ln in enumerate(lines):
        text = plain(ln.text)
        if not text:
            continue
        if ln.leg == CITIZEN:
            citizen_said.append(i)
            continue
        if not citizen_said:
            continue
        if any(p and p in text for p in wanted):
            return Finding("restatement", True, "坐席复述了诉求", (_ev(lines, i),))
        longest = max(citizen_said, key=lambda j: len(plain(lines[j].text)))
        theirs = _bigrams(lines[longest].text)
        if len(theirs) >= 4 and len(theirs & _bigrams(ln.text)) / len(theirs) >= min_overlap:
            return Finding("restatement", True, "坐席复述了诉求", (_ev(lines, longest), _ev(lines, i)))
    return Finding("restatement", False, "坐席没有向市民复述、确认诉求",
                   tuple(_ev(lines, i) for i in citizen_said[:1]))


def _voiced(ln: Line) -> bool:
    """Voice activity of a leg: a segment the recognizer put words on, or one it could not decode
    (status 未转写: voice, no text). A segment with no words and status ok is noise, not speech."""
    return ln.end_s > ln.start_s and (bool(plain(ln.text)) or ln.status != "ok")


def _spans(lines: Sequence[Line], leg: str) -> list[tuple[float, float]]:
    """The leg's voiced time as merged, sorted intervals."""
    out: list[tuple[float, float]] = []
    for s, e in sorted((ln.start_s, ln.end_s) for ln in lines if ln.leg == leg and _voiced(ln)):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _covered(spans: Sequence[tuple[float, float]], start: float, end: float) -> float:
    """The time of [start, end) the sorted, merged `spans` cover (from the first that may reach it)."""
    total = 0.0
    for s, e in spans[max(0, bisect.bisect_right(spans, (start, start)) - 1):]:
        if s >= end:
            break
        total += max(0.0, min(e, end) - max(s, start))
    return total


def _longest_quiet(spans: Sequence[tuple[float, float]], start: float, end: float) -> tuple[float, float]:
    """Where the longest stretch of [start, end) with no voice of `spans` begins, and its length."""
    best, cursor = (start, 0.0), start
    for s, e in [*spans, (end, end)]:
        if e <= cursor:
            continue
        stop = min(max(s, cursor), end)
        if stop - cursor > best[1]:
            best = (cursor, stop - cursor)
        cursor = max(cursor, e)
    return best


def long_silence(lines: Sequence[Line], max_gap_s: float = 20.0, duration_s: float | None = None,
                 citizen_share: float = 0.5) -> Finding:
    """静音与等待 (dead air, a hold): from the legs' voice activity, the agent says nothing for longer
    than `max_gap_s` while the citizen is not the one talking (their voice covers less than
    `citizen_share` of that time: silence, or a citizen on hold calling "喂？"), between the agent's
    words, before the first or after the last (up to `duration_s`). A citizen telling a long story
    is not a hold. Each gap is evidence, at the start of its longest stretch with no voice."""
    agent, citizen = _spans(lines, AGENT), _spans(lines, CITIZEN)
    end = duration_s if duration_s is not None else max([e for _, e in agent + citizen], default=0.0)
    edges = [0.0, *[x for span in agent for x in span], max(end, agent[-1][1] if agent else 0.0)]
    gaps: list[Evidence] = []
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        talked = _covered(citizen, start, stop)
        if stop - start <= max_gap_s or talked >= citizen_share * (stop - start):
            continue
        at, longest = _longest_quiet(citizen, start, stop)
        text = f"静音 {stop - start:.0f} 秒" if talked == 0 else \
            f"坐席 {stop - start:.0f} 秒未说话（市民说话 {talked:.0f} 秒，最长静音 {longest:.0f} 秒）"
        gaps.append(Evidence(None, at, text))
    if not gaps:
        return Finding("long_silence", True, f"没有超过 {max_gap_s:.0f} 秒的静音或等待")
    return Finding("long_silence", False, f"{len(gaps)} 处静音或等待超过 {max_gap_s:.0f} 秒", tuple(gaps))


def talk_over(lines: Sequence[Line], max_share: float = 0.15) -> Finding:
    """抢话: the share of the agent's speaking time (voice activity) spoken over the citizen's."""
    agent = [(ln.start_s, ln.end_s, i) for i, ln in enumerate(lines) if ln.leg == AGENT and _voiced(ln)]
    citizen = _spans(lines, CITIZEN)
    total = sum(max(0.0, e - s) for s, e, _ in agent)
    over, worst = 0.0, []
    for s, e, i in agent:
        mine = _covered(citizen, s, e)
        if mine > 0:
            over += mine
            worst.append((mine, i))
    share = over / total if total else 0.0
    evidence = tuple(_ev(lines, i) for _, i in sorted(worst, reverse=True)[:3])
    return Finding("talk_over", share <= max_share, f"抢话占坐席说话时间 {share:.0%}", evidence if share > max_share else ())


def anger(lines: Sequence[Line], words: Iterable[str]) -> Finding:
    """The citizen's anger words (for the inspector's attention and the sampling, not a fault of
    the agent by itself): fails when any is said, each line is evidence."""
    listed = [(w, plain(w)) for w in words if plain(w)]
    hits, said = [], []
    for i in _of(lines, CITIZEN):
        said_plain = plain(lines[i].text)
        found = [w for w, p in listed if p in said_plain]
        if found:
            hits.append(_ev(lines, i))
            said += found
    if not hits:
        return Finding("anger", True, "市民没有明显情绪词")
    return Finding("anger", False, f"市民情绪词：{'、'.join(dict.fromkeys(said))}", tuple(hits))


def length_outlier(duration_s: float, typical: Sequence[float], *, spread: float = 3.5,
                   min_s: float = 20.0) -> Finding:
    """Call length far from the agent's or hall's usual (median ± `spread` × the median absolute
    deviation of `typical`), or shorter than `min_s` (a call cut short)."""
    if duration_s < min_s:
        return Finding("length_outlier", False, f"通话 {duration_s:.0f} 秒，短于 {min_s:.0f} 秒",
                       (Evidence(None, duration_s, "通话时长"),))
    if len(typical) < 5:
        return Finding("length_outlier", True, "样本不足，不判断时长")
    median = statistics.median(typical)
    mad = statistics.median(abs(t - median) for t in typical) or max(1.0, median * 0.1)
    low, high = median - spread * mad, median + spread * mad
    if low <= duration_s <= high:
        return Finding("length_outlier", True, f"时长 {duration_s:.0f} 秒在常见范围内")
    return Finding("length_outlier", False,
                   f"时长 {duration_s:.0f} 秒，常见范围 {max(low, 0):.0f}–{high:.0f} 秒",
                   (Evidence(None, duration_s, "通话时长"),))
