"""The callback policy with a fake clock: calling hours, working-day windows across a public
holiday, attempts and spacing, no-callback reasons, missed-call eligibility."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from callcenter.surveys.model import (
    SHANGHAI,
    CallingHours,
    Done,
    GiveUp,
    MissedCall,
    MissedCallPolicy,
    NoCallback,
    Outcome,
    Plan,
    Reason,
    ResolvedTicket,
    Retry,
    SurveyPolicy,
    end_of_working_days,
    is_bad_review,
)
from callcenter.tickets.api import FIVE_LEVEL, THREE_LEVEL, SatisfactionScale
from callcenter.tickets.sla import WorkingCalendar

CAL = WorkingCalendar()  # the SLA calendar: 2026 National Day holiday is Oct 1-7, Oct 10 is a working Saturday


def local(y, mo, d, h=0, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


def ticket(at: datetime, phone: str = "13800000001", **kw) -> ResolvedTicket:
    return ResolvedTicket("PZH-20261127-000001", phone, at, department="market", **kw)


def test_inside_calling_hours_is_due_at_once():
    plan = SurveyPolicy().plan(ticket(local(2026, 11, 27, 10, 0)), opted_out=False, blacklisted=False,
                               calendar=CAL)
    assert isinstance(plan, Plan)
    assert plan.due == local(2026, 11, 27, 10, 0)
    assert plan.due.tzinfo is UTC


def test_lunch_break_moves_to_afternoon():
    plan = SurveyPolicy().plan(ticket(local(2026, 11, 27, 12, 30)), opted_out=False, blacklisted=False,
                               calendar=CAL)
    assert plan.due == local(2026, 11, 27, 14, 0)


def test_resolved_late_evening_crosses_midnight_and_a_weekend():
    # Friday 2026-11-27 21:30 -> Monday 09:00 (Sat/Sun are rest days)
    plan = SurveyPolicy().plan(ticket(local(2026, 11, 27, 21, 30)), opted_out=False, blacklisted=False,
                               calendar=CAL)
    assert plan.due == local(2026, 11, 30, 9, 0)
    # the window is 3 working days after the resolve day: Mon, Tue, Wed -> end of Wednesday
    assert plan.deadline == local(2026, 12, 3, 0, 0)


def test_national_day_holiday_is_skipped_and_the_working_saturday_counts():
    # resolved 2026-09-30 20:30: Oct 1-7 holiday, Oct 8 Thursday first working day
    plan = SurveyPolicy(window_working_days=2).plan(ticket(local(2026, 9, 30, 20, 30)), opted_out=False,
                                                    blacklisted=False, calendar=CAL)
    assert plan.due == local(2026, 10, 8, 9, 0)
    assert plan.deadline == local(2026, 10, 10, 0, 0)  # Oct 8, Oct 9 -> end of Oct 9
    # Oct 10 2026 is a swapped working Saturday: a retry from Friday evening lands there
    policy = SurveyPolicy(window_working_days=5, retry_minutes=60)
    step = policy.after_attempt(Outcome.NO_ANSWER, 1, local(2026, 10, 15), local(2026, 10, 9, 19, 30), CAL)
    assert step == Retry(local(2026, 10, 10, 9, 0))


def test_calling_hours_contains_and_rest_days():
    hours = CallingHours()
    assert hours.contains(local(2026, 11, 27, 9, 0), CAL)
    assert not hours.contains(local(2026, 11, 27, 12, 0), CAL)
    assert not hours.contains(local(2026, 11, 28, 10, 0), CAL)  # Saturday
    assert CallingHours(rest_days=True).contains(local(2026, 11, 28, 10, 0), CAL)
    assert CallingHours.parse("08:30-11:00, 13:00-21:00").spans == ((time(8, 30), time(11)), (time(13), time(21)))
    with pytest.raises(ValueError):
        CallingHours.parse("10:00-09:00")
    with pytest.raises(ValueError):
        CallingHours.parse("09:00-12:00,11:00-13:00")


@pytest.mark.parametrize(("kw", "reason"), [
    ({"phone": ""}, Reason.ANONYMOUS),
    ({"declined": True}, Reason.DECLINED),
])
def test_tickets_without_callback_close_with_a_reason(kw, reason):
    plan = SurveyPolicy().plan(ticket(local(2026, 11, 27, 10), **kw), opted_out=False, blacklisted=False,
                               calendar=CAL)
    assert plan == NoCallback(reason)


def test_opted_out_and_blacklisted_numbers_are_never_called():
    t = ticket(local(2026, 11, 27, 10))
    assert SurveyPolicy().plan(t, opted_out=True, blacklisted=False, calendar=CAL) == NoCallback(Reason.OPTED_OUT)
    assert SurveyPolicy().plan(t, opted_out=True, blacklisted=True, calendar=CAL) == NoCallback(Reason.BLACKLISTED)


def test_attempts_are_spaced_and_limited():
    policy = SurveyPolicy(max_attempts=3, retry_minutes=90)
    deadline = local(2026, 12, 3)
    now = local(2026, 11, 30, 9, 5)
    assert policy.after_attempt(Outcome.NO_ANSWER, 1, deadline, now, CAL) == Retry(local(2026, 11, 30, 10, 35))
    # 11:00 + 90 min = 12:30, lunch -> 14:00
    assert policy.after_attempt(Outcome.BUSY, 2, deadline, local(2026, 11, 30, 11), CAL) == Retry(
        local(2026, 11, 30, 14))
    assert policy.after_attempt(Outcome.HUNG_UP, 3, deadline, now, CAL) == GiveUp(Reason.UNREACHABLE)
    assert policy.after_attempt(Outcome.COMPLETED, 3, deadline, now, CAL) == Done()


PERSON = SurveyPolicy(person_kinds=frozenset({"complaint"}), person_after_reopens=1)


@pytest.mark.parametrize(("kw", "by_person"), [
    ({"kind": "complaint"}, True),  # 投诉: a person calls back
    ({"kind": "enquiry"}, False),
    ({"kind": "enquiry", "reopens": 1}, True),  # re-handled once (重办) after a bad review
    ({"kind": "report", "reopens": 2}, True),
    ({"kind": "enquiry", "needs_person": True}, True),  # flagged on the desk or by the hall
    ({}, False),  # an incident's linked citizen: no kind of its own, the automated survey
])
def test_complaints_and_rehandled_tickets_get_a_person(kw, by_person):
    resolved = local(2026, 11, 27, 21, 30)  # Friday night: the person callback waits for Monday 09:00 too
    plan = PERSON.plan(ticket(resolved, **kw), opted_out=False, blacklisted=False, calendar=CAL)
    assert isinstance(plan, Plan) and plan.by_person is by_person
    assert plan.due == local(2026, 11, 30, 9, 0)
    assert PERSON.by_person(ticket(resolved, **kw)) is by_person


def test_the_person_rule_is_a_setting_and_never_overrides_a_no_callback():
    t = ticket(local(2026, 11, 27, 10), kind="complaint", reopens=3)
    off = SurveyPolicy()  # the pure default: only flagged tickets get a person
    assert off.plan(t, opted_out=False, blacklisted=False, calendar=CAL).by_person is False
    twice = SurveyPolicy(person_after_reopens=2)
    assert not twice.by_person(ticket(local(2026, 11, 27, 10), reopens=1))
    assert twice.by_person(ticket(local(2026, 11, 27, 10), reopens=2))
    assert PERSON.plan(t, opted_out=True, blacklisted=False, calendar=CAL) == NoCallback(Reason.OPTED_OUT)
    assert PERSON.plan(ticket(local(2026, 11, 27, 10), phone="", kind="complaint"), opted_out=False,
                       blacklisted=False, calendar=CAL) == NoCallback(Reason.ANONYMOUS)
    with pytest.raises(ValueError):
        SurveyPolicy(person_after_reopens=-1)


def test_a_retry_past_the_window_gives_up():
    policy = SurveyPolicy(max_attempts=5, retry_minutes=60)
    deadline = local(2026, 12, 3)
    assert policy.after_attempt(Outcome.NO_ANSWER, 1, deadline, local(2026, 12, 2, 19, 30), CAL) == GiveUp(
        Reason.UNREACHABLE)


def test_end_of_working_days_zero_is_same_or_next_working_day():
    assert end_of_working_days(local(2026, 11, 27, 10), 0, CAL) == local(2026, 11, 28)
    assert end_of_working_days(local(2026, 11, 28, 10), 0, CAL) == local(2026, 12, 1)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        CallingHours().next_open(datetime(2026, 11, 27, 10), CAL)


# ------------------------------------------------------------------ missed calls


def missed(entered: datetime, seconds: float, caller: str = "13900000002", disposition: str = "abandoned"):
    return MissedCall("c1", caller, entered, entered + timedelta(seconds=seconds), disposition)


def test_short_abandons_and_bad_numbers_are_not_called_back():
    p = MissedCallPolicy(short_abandon_s=10)
    at = local(2026, 11, 27, 10)
    assert p.eligible(missed(at, 12), blacklisted=False, opted_out=False)
    assert not p.eligible(missed(at, 9.9), blacklisted=False, opted_out=False)
    assert not p.eligible(missed(at, 30, caller="anonymous"), blacklisted=False, opted_out=False)
    assert not p.eligible(missed(at, 30, disposition="answered"), blacklisted=False, opted_out=False)
    assert not p.eligible(missed(at, 30), blacklisted=True, opted_out=False)


def test_missed_call_due_within_30_minutes_of_calling_hours():
    p = MissedCallPolicy()
    plan = p.plan(missed(local(2026, 11, 28, 10), 20), CAL)  # a Saturday: the hotline is 7x24
    assert plan.due == local(2026, 11, 28, 10, 0, ) + timedelta(seconds=20)
    assert plan.deadline == plan.due + timedelta(minutes=30)
    night = p.plan(missed(local(2026, 11, 28, 23, 40), 20), CAL)  # across midnight -> 09:00
    assert night.due == local(2026, 11, 29, 9, 0)


def test_missed_call_cancelled_when_the_caller_calls_again():
    p = MissedCallPolicy()
    m = missed(local(2026, 11, 27, 10), 20)
    assert p.cancelled_by(m, local(2026, 11, 27, 10, 5))
    assert not p.cancelled_by(m, None)
    assert not p.cancelled_by(m, local(2026, 11, 27, 9, 0))


# ------------------------------------------------------------------ scales


def test_scales_are_configuration():
    assert [lv.label for lv in FIVE_LEVEL.levels if lv.bad] == ["不满意", "非常不满意"]
    assert [lv.label for lv in THREE_LEVEL.levels if lv.strict] == ["满意"]
    assert SatisfactionScale.named("three") is THREE_LEVEL
    with pytest.raises(ValueError):
        SatisfactionScale.named("seven")
    assert is_bad_review(FIVE_LEVEL.by_digit("4"), True)
    assert is_bad_review(FIVE_LEVEL.by_digit("1"), False)  # 未解决 reopens too
    assert not is_bad_review(FIVE_LEVEL.by_digit("3"), True)
    assert not is_bad_review(None, None)


def test_calendar_is_the_sla_one():
    assert not CAL.is_workday(date(2026, 10, 1))
    assert CAL.is_workday(date(2026, 10, 10))
