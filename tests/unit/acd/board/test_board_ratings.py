"""The post-call rating on the board (by team) and the agent desktop (one's own), on hand-made
rating records: valid answers counted, no-answers offered but not rated, the satisfied share
on the configured scale."""

from __future__ import annotations

from datetime import date

from callcenter.acd.board.ratings import agent_ratings, missed_callbacks, team_ratings
from callcenter.surveys.api import Record
from callcenter.tickets.api import FIVE_LEVEL, THREE_LEVEL

DAY = "2026-11-28"


def rated(agent: str, team: str, rating: str | None) -> Record:
    return Record("rating", "done", rating=rating, day=date(2026, 11, 28), team=team, agent=agent)


RECORDS = [rated("1001", "A", "非常满意"), rated("1001", "A", "不满意"), rated("1001", "A", None),
           rated("1002", "A", "基本满意"), rated("1005", "B", "满意"), rated("1006", "", "非常不满意")]


def test_today_by_team_with_the_total_last_to_show() -> None:
    doc = team_ratings(RECORDS, FIVE_LEVEL, DAY)
    assert (doc["day"], doc["offered"], doc["rated"], doc["satisfaction"]) == (DAY, 6, 5, 0.6)
    assert doc["teams"] == [
        {"team": "A", "offered": 4, "rated": 3, "satisfaction": round(2 / 3, 4)},
        {"team": "B", "offered": 1, "rated": 1, "satisfaction": 1.0},
        {"team": "—", "offered": 1, "rated": 1, "satisfaction": 0.0},  # an agent without a team
    ]


def test_an_agent_sees_only_their_own_ratings() -> None:
    assert agent_ratings(RECORDS, FIVE_LEVEL, "1001", DAY) == {"day": DAY, "offered": 3, "rated": 2, "satisfaction": 0.5}
    assert agent_ratings(RECORDS, FIVE_LEVEL, "1009", DAY) == {"day": DAY, "offered": 0, "rated": 0, "satisfaction": None}


def test_no_ratings_today_gives_none_not_zero() -> None:
    doc = team_ratings([], FIVE_LEVEL, DAY)
    assert doc["teams"] == [] and doc["satisfaction"] is None


def test_a_three_level_hall_counts_its_own_satisfied_levels() -> None:
    labels = [lv.label for lv in THREE_LEVEL.levels]
    records = [rated("1001", "A", label) for label in labels]
    satisfied = sum(lv.satisfied for lv in THREE_LEVEL.levels)
    assert team_ratings(records, THREE_LEVEL, DAY)["satisfaction"] == round(satisfied / len(labels), 4)


def test_missed_call_callback_rate_counts_reached_over_eligible_whoever_called() -> None:
    """漏话回拨率 on the board: agent-driven callbacks are missed-call jobs like the others; the
    already served (cancelled) and still pending ones are not eligible; ticket surveys and
    ratings are not missed calls."""
    def missed(state: str, reason: str | None = None) -> Record:
        return Record("missed", state, reason=reason, day=date(2026, 11, 28))

    records = [missed("done"), missed("done"), missed("closed", "无法联系"), missed("cancelled", "已再次来电"),
               missed("pending"), Record("ticket", "done", rating="满意"), *RECORDS]
    assert missed_callbacks(records, FIVE_LEVEL, DAY) == {"day": DAY, "rate": round(2 / 3, 4), "eligible": 3,
                                                    "reached": 2, "already_served": 1}
    assert missed_callbacks(RECORDS, FIVE_LEVEL, DAY)["rate"] is None  # none eligible: no figure, not 0 %
