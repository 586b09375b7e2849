"""Quality inspection's rules (pure): which calls go into the inspectors' queue, and what may
happen to a submitted review (never edited: a new revision with its reason) and its appeal
(the call's agent, once; a supervisor decides)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from callcenter.quality.checks import plain

MIN_REASON = 4  # characters: a revision or an appeal says why


@dataclass(frozen=True)
class Candidate:
    """A recorded call of the week, with what makes it worth an inspector's time."""

    call_id: str
    agent_id: str | None
    reasons: tuple[str, ...] = ()  # "投诉工单", "效能工单", "重办工单", ... (always inspected)


@dataclass(frozen=True)
class Sampled:
    call_id: str
    agent_id: str | None
    why: tuple[str, ...] = field(default=())


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _draw(call_id: str, week: str) -> float:
    """A number in [0, 1) fixed per call and week: the same queue on every page load and process."""
    digest = hashlib.sha256(f"{week}:{call_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def reasons(tickets: list[dict], rating: str | None = None, bad_rating: bool = False,
            fatal: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Why a call is inspected whatever the draw, in a fixed order: its tickets (a complaint, a
    效能 ticket led or assisted by the efficiency office, a reopened one), a bad post-call rating
    (差评, with the level the citizen chose), each fatal item an automatic check failed."""
    out: list[str] = []
    for t in tickets:
        if t.get("kind") == "complaint":
            out.append("投诉工单")
        if t.get("lead_department") == "efficiency" or "efficiency" in (t.get("assisting") or ()):
            out.append("效能工单")
        if t.get("reopen_count"):
            out.append("重办工单")
    if bad_rating:
        out.append(f"差评：{rating}" if rating else "差评")
    out += [f"一票否决：{name}" for name in fatal]
    return tuple(dict.fromkeys(out))


def sample(candidates: list[Candidate], share: float, week: str) -> list[Sampled]:
    """Every call with a reason, plus `share` of each agent's other calls of the week (at least one
    per agent who had any), in a draw fixed per call and week."""
    out: list[Sampled] = []
    by_agent: dict[str | None, list[Candidate]] = {}
    for c in candidates:
        if c.reasons:
            out.append(Sampled(c.call_id, c.agent_id, c.reasons))
        else:
            by_agent.setdefault(c.agent_id, []).append(c)
    for agent, calls in by_agent.items():
        ranked = sorted(calls, key=lambda c: _draw(c.call_id, week))
        take = max(1, round(share * len(calls))) if agent is not None else 0
        out += [Sampled(c.call_id, agent, (f"抽检 {share:.0%}",)) for c in ranked[:take]]
    return out


def revision_refusal(revisions: int, reason: str | None, appeal_pending: bool = False) -> str | None:
    """Why a review of a call that already has `revisions` may not be submitted (None: it may).
    While the agent's appeal waits for a supervisor the review stands as appealed: a revision
    would leave the supervisor deciding on a score that is no longer the call's."""
    if appeal_pending:
        return "the agent's appeal of this review waits for a supervisor's decision: revise it after that"
    if revisions and len((reason or "").strip()) < MIN_REASON:
        return "a submitted review is never edited: a new revision needs its reason (at least 4 characters)"
    return None


def appeal_refusal(agent_id: str | None, review_agent: str | None, appealed: bool, reason: str) -> str | None:
    """Why this agent may not appeal the call's review (None: they may)."""
    if agent_id is None or agent_id != review_agent:
        return "only the call's agent appeals its review"
    if appealed:
        return "a call's review is appealed once"
    if len(reason.strip()) < MIN_REASON:
        return "an appeal says why (at least 4 characters)"
    return None


def decision_refusal(decided: bool) -> str | None:
    return "this appeal is already decided" if decided else None


MAX_WORDS, MAX_WORD = 300, 20  # a word list the hall edits: at most 300 words of 1 to 20 characters


def clean_words(words: list[str]) -> tuple[list[str], str | None]:
    """The hall's edited word list trimmed and each word once (in the order given), or why it is
    refused (an empty list would switch the check off: the scorecard says which checks run)."""
    out = list(dict.fromkeys(w.strip() for w in words if w and w.strip()))
    if not out:
        return [], "a word list needs at least one word"
    if len(out) > MAX_WORDS:
        return [], f"at most {MAX_WORDS} words"
    long = [w for w in out if len(w) > MAX_WORD]
    if long:
        return [], f"words are 1 to {MAX_WORD} characters: {long[0][:30]}"
    if any(not plain(w) for w in out):
        return [], "a word of only spaces and punctuation matches nothing"
    return out, None


@dataclass(frozen=True)
class Reviewed:
    """A reviewed call's latest revision, for the figures."""

    week: str  # ISO week of the review, 2026-W50
    agent_id: str | None
    team: str | None
    score: float
    fatal_hits: tuple[str, ...] = ()  # the fatal items failed (ids)
    appeal: str | None = None  # None (not appealed), 'pending', 'upheld' (the agent was right), 'rejected'
    day: date | None = None  # the review's day (Asia/Shanghai), for the daily report


def _tally(rows: list[Reviewed]) -> dict[str, object]:
    appeals = [r.appeal for r in rows if r.appeal is not None]
    return {"reviewed": len(rows), "average": round(sum(r.score for r in rows) / len(rows), 1),
            "fatal": sum(1 for r in rows if r.fatal_hits), "appeals": len(appeals),
            "upheld": appeals.count("upheld"), "rejected": appeals.count("rejected"),
            "pending": appeals.count("pending")}


def figures(rows: list[Reviewed], names: dict[str, str] | None = None) -> dict[str, object]:
    """Average score (the latest revisions), calls with a fatal hit and the appeals' outcomes, per
    agent and week, per team and week, per week for the hall; the fatal items' hits; the appeals
    in total. Newest week first, then by agent / team. `names`: item id -> name."""
    def grouped(key) -> list[dict[str, object]]:
        groups: dict[tuple, list[Reviewed]] = {}
        for r in rows:
            groups.setdefault(key(r), []).append(r)
        ordered = sorted(groups.items(), key=lambda kv: tuple(str(v or "") for _, v in kv[0]))
        return [{**dict(k), **_tally(v)} for k, v in ordered]

    def newest_first(docs: list[dict[str, object]]) -> list[dict[str, object]]:
        return sorted(docs, key=lambda d: str(d["week"]), reverse=True)

    hits: dict[str, int] = {}
    for r in rows:
        for item in r.fatal_hits:
            hits[item] = hits.get(item, 0) + 1
    names = names or {}
    appealed = [r.appeal for r in rows if r.appeal is not None]
    return {"agents": newest_first(grouped(lambda r: (("week", r.week), ("agent_id", r.agent_id)))),
            "teams": newest_first(grouped(lambda r: (("week", r.week), ("team", r.team)))),
            "weeks": newest_first(grouped(lambda r: (("week", r.week),))),
            "fatal_items": [{"item": k, "name": names.get(k, k), "hits": n}
                            for k, n in sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))],
            "appeals": {"filed": len(appealed), "pending": appealed.count("pending"),
                        "upheld": appealed.count("upheld"), "rejected": appealed.count("rejected")}}
