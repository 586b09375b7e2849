"""Quality inspection's rules (pure): which calls go into the inspectors' queue, and what may
happen to a submitted review (never edited: a new revision with its reason) and its appeal
(the call's agent, once; a supervisor decides)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

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


def revision_refusal(revisions: int, reason: str | None) -> str | None:
    """Why a review of a call that already has `revisions` may not be submitted (None: it may)."""
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
