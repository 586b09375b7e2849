"""Result figures: the definitions of 满意率, 回访率, 解决率, 漏话回拨率 on hand-made records."""

from __future__ import annotations

from datetime import date

import pytest

from callcenter.surveys.model import Reason
from callcenter.surveys.rates import Record, figures, grouped
from callcenter.tickets.api import FIVE_LEVEL


def rec(**kw) -> Record:
    return Record(**({"kind": "ticket", "state": "done", "day": date(2026, 11, 27)} | kw))


RECORDS = [
    rec(rating="非常满意", resolved=True, department="market"),
    rec(rating="满意", resolved=True, department="market"),
    rec(rating="基本满意", resolved=False, department="housing"),
    rec(rating="不满意", resolved=False, department="housing"),
    rec(state="closed", reason=Reason.UNREACHABLE.value, department="housing"),
    rec(state="closed", reason=Reason.ANONYMOUS.value),
    rec(state="pending", department="market"),
    rec(kind="missed", state="done"),
    rec(kind="missed", state="closed", reason=Reason.UNREACHABLE.value),
    rec(kind="missed", state="cancelled", reason=Reason.SERVED.value),
    rec(kind="rating", state="done", rating="满意", agent="1001", team="A"),
    rec(kind="rating", state="done", rating="不满意", agent="1001", team="A"),
]


def test_figures():
    f = figures(RECORDS, FIVE_LEVEL)
    assert f["satisfaction_rate"] == 0.75  # 3 of 4 valid ratings
    assert f["satisfaction_rate_strict"] == 0.5
    assert f["bad_reviews"] == 1
    assert f["revisit_rate"] == 0.8  # 4 reached of 5 due (anonymous not due, pending not finished)
    assert f["no_callback"] == 1
    assert f["resolution_rate"] == 0.5
    assert f["agent_rating"] == 0.5
    assert f["missed_callback_rate"] == 0.5 and f["missed_already_served"] == 1


def test_grouped_by_department_and_agent():
    by_dept = grouped(RECORDS, "department", FIVE_LEVEL)
    assert by_dept["market"]["satisfaction_rate"] == 1.0
    assert by_dept["housing"]["revisit_rate"] == round(2 / 3, 4)
    assert grouped(RECORDS, "agent", FIVE_LEVEL)["1001"]["agent_rating"] == 0.5
    with pytest.raises(ValueError):
        grouped(RECORDS, "colour", FIVE_LEVEL)


def test_no_data_gives_none_not_zero():
    f = figures([], FIVE_LEVEL)
    assert f["satisfaction_rate"] is None and f["revisit_rate"] is None
