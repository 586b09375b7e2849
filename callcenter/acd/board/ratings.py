"""The post-call rating (坐席服务评价) on the board and the agent desktop, and the board's
漏话回拨率 (pure: no I/O).

Figures come from :mod:`callcenter.surveys.rates` (one definition of 满意率 for the API, the
daily report and here): ``rated`` counts valid answers, ``satisfaction`` is the satisfied
share of them (None with none), ``offered`` counts callers handed to the rating, no-answers
included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callcenter.surveys.api import Record, figures
from callcenter.tickets.api import SatisfactionScale


def _doc(records: Sequence[Record], scale: SatisfactionScale) -> dict[str, Any]:
    f = figures(records, scale)
    return {"offered": len(records), "rated": f["agent_ratings"], "satisfaction": f["agent_rating"]}


def team_ratings(records: Sequence[Record], scale: SatisfactionScale, day: str) -> dict[str, Any]:
    """Today's agent satisfaction in total and by team (teams in name order)."""
    by_team: dict[str, list[Record]] = {}
    for r in records:
        by_team.setdefault(r.team or "—", []).append(r)
    return {"day": day, **_doc(records, scale),
            "teams": [{"team": t, **_doc(rs, scale)} for t, rs in sorted(by_team.items())]}


def agent_ratings(records: Sequence[Record], scale: SatisfactionScale, agent_id: str, day: str) -> dict[str, Any]:
    """One agent's own ratings today."""
    return {"day": day, **_doc([r for r in records if r.agent == agent_id], scale)}


def missed_callbacks(records: Sequence[Record], scale: SatisfactionScale, day: str) -> dict[str, Any]:
    """Today's 漏话回拨率: missed-call callbacks that reached the caller ÷ eligible missed calls
    that finished (reached or unreachable), whether an agent or a message made the callback;
    those cancelled because the caller called in first are "already served", not counted."""
    f = figures([r for r in records if r.kind == "missed"], scale)
    return {"day": day, "rate": f["missed_callback_rate"], "eligible": f["missed_eligible"],
            "reached": f["missed_reached"], "already_served": f["missed_already_served"]}
