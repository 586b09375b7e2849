"""How an unanswered outbound leg's Q.850 cause (set by the [outbound] dialplan) maps to the
attempt's outcome, which the policy reschedules on."""

from __future__ import annotations

import pytest

from callcenter.surveys.model import Outcome
from callcenter.surveys.stasis import unanswered_outcome


@pytest.mark.parametrize(("cause", "outcome"), [
    (17, Outcome.BUSY), (19, Outcome.NO_ANSWER), (18, Outcome.NO_ANSWER), (16, Outcome.NO_ANSWER),
    (None, Outcome.NO_ANSWER), (34, Outcome.FAILED), (21, Outcome.FAILED), (1, Outcome.FAILED),
])
def test_causes(cause, outcome):
    assert unanswered_outcome(cause) is outcome
