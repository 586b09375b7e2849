from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from callcenter.tickets.errors import SlaConfigError
from callcenter.tickets.model import Action, Kind, Urgency
from callcenter.tickets.sla import (
    Overdue,
    SlaPolicy,
    WorkingCalendar,
    add_minutes,
    add_working_days,
    add_working_hours,
    compute_deadlines,
    default_policy,
    due_for_reminder,
    extend_deadlines,
    overdue,
    return_window_due,
)
from callcenter.tickets.transitions import apply, new_ticket

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()


def local(*args):
    return datetime(*args, tzinfo=SH)


def end_of(y, m, d):
    return datetime(y, m, d, 23, 59, 59, tzinfo=SH)


@pytest.mark.parametrize("day,workday", [
    (date(2025, 9, 28), True),  # Sunday, swapped working day before National Day 2025
    (date(2025, 10, 1), False), (date(2025, 10, 8), False), (date(2025, 10, 9), True),
    (date(2025, 10, 11), True),  # Saturday, swapped working day
    (date(2026, 2, 14), True),  # Saturday, Spring Festival 2026 swapped working day
    (date(2026, 2, 16), False), (date(2026, 2, 23), False), (date(2026, 2, 24), True),
    (date(2026, 3, 7), False),  # ordinary Saturday
])
def test_chinese_calendar_days(day, workday):
    assert CAL.is_workday(day) is workday and CAL.known(day)


def test_unknown_year_falls_back_to_monday_friday():
    assert not CAL.known(date(2099, 1, 1))
    assert CAL.is_workday(date(2099, 1, 1))  # Thursday; New Year unknown -> working day
    assert not CAL.is_workday(date(2099, 1, 3))  # Saturday
    assert add_working_days(local(2099, 1, 2, 10), 1) == end_of(2099, 1, 5)


def test_extra_days_override_calendar():
    cal = WorkingCalendar(extra_holidays=[date(2026, 3, 3)], extra_workdays=[date(2026, 3, 7)])
    assert not cal.is_workday(date(2026, 3, 3)) and cal.is_workday(date(2026, 3, 7))
    with pytest.raises(SlaConfigError):
        WorkingCalendar(extra_holidays=[date(2026, 3, 3)], extra_workdays=[date(2026, 3, 3)])


def test_acceptance_day_does_not_count_and_holidays_skipped():
    # accepted Wed 2026-09-30 evening; National Day 10-01..10-07 -> next working day is 10-08
    assert add_working_days(local(2026, 9, 30, 20, 0), 1) == end_of(2026, 10, 8)
    # 10-10 (Saturday) is a swapped working day, 10-11 (Sunday) is not
    assert add_working_days(local(2026, 9, 30, 20, 0), 3) == end_of(2026, 10, 10)
    assert add_working_days(local(2026, 9, 30, 20, 0), 4) == end_of(2026, 10, 12)


def test_national_day_2025_with_swapped_weekends():
    # Fri 2025-09-26 -> Sun 09-28 (working) is the first working day
    assert add_working_days(local(2025, 9, 26, 9), 1) == end_of(2025, 9, 28)
    # Tue 09-30 -> holiday 10-01..10-08 -> Thu 10-09, Fri 10-10, Sat 10-11 (working), Mon 10-13
    assert add_working_days(local(2025, 9, 30, 9), 1) == end_of(2025, 10, 9)
    assert add_working_days(local(2025, 9, 30, 9), 3) == end_of(2025, 10, 11)
    assert add_working_days(local(2025, 9, 30, 9), 4) == end_of(2025, 10, 13)


def test_spring_festival_2026():
    # Fri 2026-02-13 -> Sat 02-14 is a working day; then holiday until Mon 02-23
    assert add_working_days(local(2026, 2, 13, 16), 1) == end_of(2026, 2, 14)
    assert add_working_days(local(2026, 2, 13, 16), 2) == end_of(2026, 2, 24)


def test_utc_input_uses_shanghai_dates():
    # 2026-10-08 17:00 UTC is already Fri 10-09 01:00 in Shanghai; next working day is Sat 10-10
    assert add_working_days(datetime(2026, 10, 8, 17, tzinfo=UTC), 1) == end_of(2026, 10, 10)
    assert add_working_days(datetime(2026, 10, 8, 15, tzinfo=UTC), 1) == end_of(2026, 10, 9)
    assert add_working_days(local(2026, 10, 1, 10), 0) == end_of(2026, 10, 8)
    assert add_working_days(local(2026, 9, 30, 10), 0) == end_of(2026, 9, 30)
    assert add_working_days(local(2026, 9, 30, 10), 1).tzinfo is UTC
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 9, 30), 1)
    with pytest.raises(ValueError):
        add_working_days(local(2026, 9, 30), -1)


def test_add_minutes_counts_holidays_and_working_hours_do_not():
    start = local(2026, 9, 30, 16, 50)
    assert add_minutes(start, 30) == local(2026, 9, 30, 17, 20)
    assert add_working_hours(start, 1) == local(2026, 10, 8, 9, 50)
    assert add_working_hours(local(2026, 10, 8, 7, 0), 8) == local(2026, 10, 8, 17, 0)
    assert add_working_hours(local(2026, 10, 8, 7), 2, day=(time(8, 30), time(12))) == local(2026, 10, 8, 10, 30)


def test_default_policy_deadlines():
    accepted = local(2026, 9, 30, 20)
    complaint = compute_deadlines(Kind.COMPLAINT, Urgency.NORMAL, accepted)
    assert complaint.take_up_due == end_of(2026, 10, 8)
    assert complaint.resolve_due == end_of(2026, 10, 13)  # 5 working days: 8, 9, 10(Sat), 12, 13
    assert accepted < complaint.remind_at < complaint.resolve_due
    enquiry = compute_deadlines(Kind.ENQUIRY, Urgency.NORMAL, accepted)
    assert enquiry.resolve_due == end_of(2026, 10, 10)
    urgent = compute_deadlines(Kind.HELP, Urgency.URGENT, accepted)
    assert urgent.take_up_due == accepted + timedelta(minutes=15)
    assert urgent.resolve_due == end_of(2026, 10, 8)
    assert urgent.remind_at == urgent.resolve_due - timedelta(hours=2)
    utility = compute_deadlines(Kind.HELP, Urgency.UTILITY, accepted)
    assert utility.take_up_due == accepted + timedelta(minutes=30)
    assert utility.resolve_due == enquiry.resolve_due
    policy = default_policy()
    assert (policy.max_extension_working_days, policy.out_of_scope_return_working_days,
            policy.bad_review_redo_working_days) == (10, 2, 15)
    assert return_window_due(accepted) == end_of(2026, 10, 9)


def test_extension_moves_resolve_and_reminder():
    d = compute_deadlines(Kind.COMPLAINT, Urgency.NORMAL, local(2026, 9, 30, 20))
    moved = extend_deadlines(d, 2)
    assert moved.resolve_due == end_of(2026, 10, 15)
    assert moved.resolve_due - moved.remind_at == d.resolve_due - d.remind_at
    assert moved.take_up_due == d.take_up_due and extend_deadlines(d, 0) == d


def test_overdue_and_reminders():
    t = new_ticket(number="PZH-20260930-000001", kind=Kind.COMPLAINT, created_at=local(2026, 9, 30, 20))
    assert overdue(t, local(2026, 10, 8, 12)) == []
    assert overdue(t, local(2026, 10, 9, 0, 0, 1)) == [Overdue.TAKE_UP]
    assert not due_for_reminder(t, local(2026, 10, 8, 12))
    assert due_for_reminder(t, t.deadlines.remind_at)
    assert overdue(t, local(2026, 10, 14)) == [Overdue.TAKE_UP, Overdue.RESOLVE]
    assert not due_for_reminder(t, local(2026, 10, 14))
    apply(t, Action.DISPATCH, actor="a", at=local(2026, 10, 8, 9), lead="water")
    apply(t, Action.ACKNOWLEDGE, actor="w", at=local(2026, 10, 8, 10))
    assert overdue(t, local(2026, 10, 14)) == [Overdue.RESOLVE]
    apply(t, Action.RESOLVE, actor="w", at=local(2026, 10, 15))
    assert overdue(t, local(2026, 10, 16)) == []


MINIMAL = {"defaults": {"take_up": {"working_days": 1}, "resolve": {"working_days": 5},
                        "remind_before": {"fraction": 0.2}}}


def test_policy_precedence_and_custom_calendar():
    policy = SlaPolicy.from_dict(MINIMAL | {
        "kinds": {"complaint": {"resolve": {"working_days": 13}}},
        "urgency": {"urgent": {"resolve": {"minutes": 240}}},
        "extra_holidays": ["2026-03-03"],
    })
    start = local(2026, 3, 2, 10)
    assert compute_deadlines("complaint", "normal", start, policy=policy).take_up_due == end_of(2026, 3, 4)
    assert compute_deadlines("complaint", "urgent", start, policy=policy).resolve_due == local(2026, 3, 2, 14)
    assert policy.max_extension_working_days == 10


@pytest.mark.parametrize("data,field", [
    ({}, "defaults"),
    (MINIMAL | {"kinds": {"rant": {}}}, "kinds.rant"),
    (MINIMAL | {"max_extension_working_days": -1}, "max_extension_working_days"),
    (MINIMAL | {"urgency": {"urgent": {"take_up": {"minutes": 15, "working_days": 1}}}},
     "urgency.urgent.take_up"),
    (MINIMAL | {"defaults": MINIMAL["defaults"] | {"remind_before": {"fraction": 1.5}}},
     "defaults.remind_before.fraction"),
    (MINIMAL | {"typo": 1}, "typo"),
    ([1, 2], "mapping"),
])
def test_bad_policy_names_field(data, field):
    with pytest.raises(SlaConfigError, match=field.replace(".", r"\.")):
        SlaPolicy.from_dict(data)


def test_bad_yaml():
    with pytest.raises(SlaConfigError, match="YAML"):
        SlaPolicy.from_yaml("defaults: [")
