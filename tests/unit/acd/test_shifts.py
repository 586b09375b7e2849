from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.acd.model import Roster, RosterError, Rotation, ShiftDef, ShiftOverride

SH = ZoneInfo("Asia/Shanghai")
ROSTER = Roster.default()
ROT = ROSTER.rotation
TEAMS = ["A", "B", "C", "D"]

instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                        timezones=st.just(UTC))
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
fast = settings(max_examples=200, deadline=None)


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def test_default_roster_seats_and_skills() -> None:
    assert [s.id for s in ROSTER.seats] == [f"seat{i:02d}" for i in range(1, 21)]
    assert {t: [s.id for s in ROSTER.seats_of(t)] for t in TEAMS} == {
        "A": [f"seat{i:02d}" for i in range(1, 6)], "B": [f"seat{i:02d}" for i in range(6, 11)],
        "C": [f"seat{i:02d}" for i in range(11, 16)], "D": [f"seat{i:02d}" for i in range(16, 21)]}
    assert all("general" in s.skills and s.extension == s.id for s in ROSTER.seats)
    for team in TEAMS:
        held = set().union(*(s.skills for s in ROSTER.seats_of(team)))
        assert {"market", "housing_fund", "hr_social", "transport", "dialect"} <= held
    assert ROSTER.seat("seat01").skills >= {"market", "transport"}
    assert ROSTER.seat("seat07").skills >= {"housing_fund", "hr_social"}
    assert "dialect" in ROSTER.seat("seat13").skills
    assert {q.name for q in ROSTER.queues} == {"general", "market", "housing_fund", "hr_social", "transport",
                                               "dialect"}
    assert ROT.start_date == date(2026, 1, 1) and ROT.pattern == "EEMMNNOO"


def test_known_days() -> None:
    # 2026-01-01 (day 0): A early, B middle, C night (00-08 on 01-02), D rest
    assert [ROT.code_for(t, date(2026, 1, 1)) for t in TEAMS] == ["E", "M", "N", "O"]
    assert ROT.shift_of("A", sh(2026, 1, 1, 8)).code == "E"
    assert ROT.shift_of("A", sh(2026, 1, 1, 7, 59)) is None
    assert ROT.shift_of("B", sh(2026, 1, 1, 23, 59)).code == "M"
    assert ROT.shift_of("C", sh(2026, 1, 2, 0, 0)).code == "N"
    assert ROT.shift_of("C", sh(2026, 1, 2, 8, 0)) is None
    assert ROT.shift_window("A", sh(2026, 1, 1, 9)) == (sh(2026, 1, 1, 8), sh(2026, 1, 1, 16))
    # same instant expressed in UTC
    assert ROT.on_shift_teams(datetime(2026, 1, 1, 1, tzinfo=UTC)) == {"A"}  # 09:00 Shanghai
    assert ROT.shift_of("D", sh(2026, 1, 1, 3)).code == "N"  # the night of 2025-12-31
    assert all(ROT.shift_of("D", sh(2026, 1, 1, h)) is None for h in range(8, 24))  # then rests


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ROT.shift_of("A", datetime(2026, 1, 1, 9))


@fast
@given(instants)
def test_exactly_one_team_on_shift_at_any_instant_and_three_work_each_day(at: datetime) -> None:
    teams = ROT.on_shift_teams(at)
    assert len(teams) == 1
    day = at.astimezone(SH).date()
    codes = Counter(ROT.code_for(t, day) for t in TEAMS)
    assert codes == Counter({"E": 1, "M": 1, "N": 1, "O": 1})  # 3 teams work one shift each, 1 rests
    assert ROSTER.is_on_shift(next(iter(teams)), at)
    assert len(ROSTER.on_shift_seats(at)) == 5


@fast
@given(days, st.sampled_from(TEAMS))
def test_every_team_works_six_of_eight_days(start: date, team: str) -> None:
    worked = [ROT.code_for(team, start + timedelta(days=i)) for i in range(8)]
    assert sum(c != "O" for c in worked) == 6
    assert sorted(worked) == sorted("EEMMNNOO")


def test_at_least_24h_rest_between_shifts() -> None:
    for team in TEAMS:
        windows = []
        for i in range(24):
            d = date(2026, 1, 1) + timedelta(days=i)
            sd = ROT.shift_def(ROT.code_for(team, d))
            if sd:
                windows.append(sd.window(d, ROT.tz))
        gaps = [(b[0] - a[1]) for a, b in zip(windows, windows[1:], strict=False)]
        assert min(gaps) >= timedelta(hours=16)  # E->E, M->M, N->N: 16 h
        assert all(g >= timedelta(hours=24) for a, b, g in zip(windows, windows[1:], gaps, strict=False)
                   if a[0].time() != b[0].time())


@fast
@given(days, st.sampled_from(TEAMS), st.sampled_from(TEAMS), st.integers(0, 23), st.integers(0, 59))
def test_team_override_swaps(day: date, t1: str, t2: str, hh: int, mm: int) -> None:
    c1, c2 = ROT.code_for(t1, day), ROT.code_for(t2, day)
    rot = ROT.with_overrides([ShiftOverride(team=t1, date=day, shift=c2, reason="swap"),
                              ShiftOverride(team=t2, date=day, shift=c1, reason="swap")])
    assert rot.code_for(t1, day) == c2 and rot.code_for(t2, day) == c1
    # an instant inside rotation day ``day``'s window (night shift runs on the next calendar day)
    for code in "EMN":
        sd = rot.shift_def(code)
        start, end = sd.window(day, rot.tz)
        at = start + timedelta(minutes=(hh * 60 + mm) % int((end - start).total_seconds() // 60))
        before = {t for t in TEAMS if ROT.shift_of(t, at) is not None}
        after = rot.on_shift_teams(at)
        assert len(after) == 1
        swap = {t1: t2, t2: t1}
        assert after == {swap.get(t, t) for t in before}
    # other days untouched
    other = day + timedelta(days=1)
    assert rot.code_for(t1, other) == ROT.code_for(t1, other)


def test_agent_override_sick_leave_and_swap() -> None:
    at = sh(2026, 1, 1, 9)  # team A on E
    a_agent = ROSTER.make_agent("1001", "seat01")
    assert ROSTER.is_on_shift(a_agent, at) and ROSTER.is_on_shift(ROSTER.seat("seat01"), at)
    rot = ROT.with_overrides([ShiftOverride(agent_id="1001", date=date(2026, 1, 1), shift="O", reason="sick"),
                              ShiftOverride(agent_id="2001", date=date(2026, 1, 1), shift="E", reason="cover")])
    assert not rot.is_on_shift(a_agent, at)
    assert rot.is_on_shift("A", at)  # the rest of the team still works
    d_agent = ROSTER.make_agent("2001", "seat16")  # team D rests on day 0
    assert not ROT.is_on_shift(d_agent, at) and rot.is_on_shift(d_agent, at)


def test_override_validation() -> None:
    with pytest.raises(ValueError, match="exactly one of team or agent_id"):
        ShiftOverride(date=date(2026, 1, 1), shift="O")
    with pytest.raises(ValueError, match=r"overrides\.0\.shift"):
        ROT.with_overrides([ShiftOverride(team="A", date=date(2026, 1, 1), shift="X")])
    with pytest.raises(ValueError, match="unknown team"):
        ROT.with_overrides([ShiftOverride(team="Z", date=date(2026, 1, 1), shift="O")])


def test_custom_rotation_crossing_midnight() -> None:
    rot = Rotation(start_date=date(2026, 1, 1), pattern="DN", team_offsets={"X": 0, "Y": 1},
                   shifts=(ShiftDef(code="D", name="day", start=time(8), end=time(20)),
                           ShiftDef(code="N", name="night", start=time(20), end=time(8))))
    assert rot.on_shift_teams(sh(2026, 1, 1, 21)) == {"Y"}
    assert rot.on_shift_teams(sh(2026, 1, 2, 7)) == {"Y"}  # Y's night from day 0
    assert rot.on_shift_teams(sh(2026, 1, 2, 9)) == {"Y"}  # day 1: Y works D
    assert rot.on_shift_teams(sh(2026, 1, 2, 21)) == {"X"}


YAML_OK = """
rotation: {start_date: 2026-01-01}
seats:
  - {id: seat01, team: A, skills: [general]}
queues:
  - {name: general, skill: general}
"""


def test_from_yaml_minimal_uses_defaults() -> None:
    r = Roster.from_yaml(YAML_OK)
    assert r.seat("seat01").extension == "seat01"
    assert r.rotation.pattern == "EEMMNNOO" and r.queue("general").overflow_after_s == 30
    assert r.queue("nope") is None


@pytest.mark.parametrize(("text", "needle"), [
    (YAML_OK.replace("team: A", "team: Q"), "seats.0.team"),
    (YAML_OK.replace("seat01", "desk1"), "seats.0.id"),
    (YAML_OK.replace("start_date: 2026-01-01", "start_date: soon"), "rotation.start_date"),
    (YAML_OK.replace("skill: general}", "skill: tax}"), "queues.0"),
    (YAML_OK + "  - {name: general, skill: general}\n", "duplicate"),
    (YAML_OK.replace("{start_date: 2026-01-01}", "{start_date: 2026-01-01, pattern: EEXO}"), "pattern"),
    (YAML_OK.replace("{start_date: 2026-01-01}",
                     "{start_date: 2026-01-01, shifts: [{code: E, name: e, start: 08:00, end: 16:00}]}"),
     "rotation.shifts.0.end"),
    (YAML_OK + "agents: {missed_call_policy: sometimes}\n", "agents.missed_call_policy"),
    (YAML_OK + "colour: blue\n", "colour"),
    ("seats: [", "not valid YAML"),
    ("- 1\n", "mapping"),
])
def test_from_yaml_errors_name_the_field(text: str, needle: str) -> None:
    with pytest.raises(RosterError, match=needle):
        Roster.from_yaml(text)
