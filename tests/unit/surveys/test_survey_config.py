"""Survey settings: validated at start, one line naming the bad variable."""

from __future__ import annotations

import pytest

from callcenter.infra.errors import StartupError
from callcenter.surveys.config import load_survey_settings


def test_defaults_build_the_policies():
    s = load_survey_settings()
    assert s.survey_policy().max_attempts == 3 and not s.survey_policy().hours.rest_days
    assert s.missed_policy().hours.rest_days and s.missed_policy().within_minutes == 30
    assert s.scale_().name == "five"
    # 人工回访 by default for complaints (投诉) and tickets re-handled once (重办)
    assert (s.survey_policy().person_kinds, s.survey_policy().person_after_reopens) == (frozenset({"complaint"}), 1)


def test_person_kinds_take_values_or_labels(monkeypatch):
    monkeypatch.setenv("CALLCENTER_SURVEY_PERSON_KINDS", "投诉, report")
    monkeypatch.setenv("CALLCENTER_SURVEY_PERSON_AFTER_REOPENS", "0")
    policy = load_survey_settings().survey_policy()
    assert (policy.person_kinds, policy.person_after_reopens) == (frozenset({"complaint", "report"}), 0)
    monkeypatch.setenv("CALLCENTER_SURVEY_PERSON_KINDS", "")
    assert load_survey_settings().survey_policy().person_kinds == frozenset()


@pytest.mark.parametrize(("var", "value"), [
    ("CALLCENTER_SURVEY_HOURS", "20:00-09:00"),
    ("CALLCENTER_SURVEY_SCALE", "seven"),
    ("CALLCENTER_SURVEY_MAX_ATTEMPTS", "0"),
    ("CALLCENTER_SURVEY_PERSON_KINDS", "complaint,gossip"),
])
def test_a_bad_value_names_the_variable(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(StartupError, match=var):
        load_survey_settings()


def test_three_level_scale_from_the_environment(monkeypatch):
    monkeypatch.setenv("CALLCENTER_SURVEY_SCALE", "three")
    assert [lv.label for lv in load_survey_settings().scale_().levels] == ["满意", "基本满意", "不满意"]
