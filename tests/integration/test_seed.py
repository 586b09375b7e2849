"""`callcenter seed` writes the reference data, and running it again changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

from callcenter.acd.seeding import PLAN_DAYS, shift_plan
from callcenter.acd.shifts import Roster
from callcenter.dispatch import store as dispatch_store
from callcenter.seed import seed


async def _counts(pool) -> dict[str, int]:
    return {t: await pool.fetchval(f"SELECT count(*) FROM {t}")
            for t in ("departments", "ticket_routing_rules", "seats", "shift_plan")}


async def test_seed_loads_catalogue_rules_roster_and_plan_idempotently(settings, pool):
    line = await seed(settings)
    assert line.startswith("seeded: ") and "dispatch: " in line and "departments, dispatch rules" in line and "acd: 20 seats in 4 teams" in line, line
    assert "first admin 'root' created, password " in line  # printed this once
    assert await pool.fetchval("SELECT role FROM users WHERE username = 'root'") == "admin"
    async with pool.acquire() as conn:  # the first dispatch model knows what names no unit
        _, model = await dispatch_store.active_model(conn)
    assert "hall" in model.classes and not model.predict("喂 你好 我想问一下", "enquiry").auto
    first = await _counts(pool)
    assert first["departments"] >= 20 and first["ticket_routing_rules"] == 1
    assert first["seats"] == 20 and first["shift_plan"] == 4 * PLAN_DAYS
    # the stored rules are the bundled ones, and a second seed keeps them (no new version)
    again = await seed(settings)
    assert "kept as stored" in again and "an admin exists" in again
    assert await _counts(pool) == first
    teams = dict(await pool.fetch("SELECT team, count(*) FROM seats GROUP BY team"))
    assert teams == {"A": 5, "B": 5, "C": 5, "D": 5}


def test_shift_plan_follows_the_8_day_rotation():
    roster = Roster.default()
    start = roster.rotation.start_date
    plan = {(team, day): code for team, day, code, *_ in shift_plan(roster, start, 8)}
    # 早早中中夜夜休休, team B two days ahead of A
    assert "".join(plan[("A", start + timedelta(days=n))] for n in range(8)) == "EEMMNNOO"
    assert plan[("B", start)] == "M" and plan[("D", start)] == "O"
    night = next(r for r in shift_plan(roster, date(2026, 3, 1), 8) if r[2] == "N")
    assert night[4].date() > night[1]  # the night shift of a rotation day starts after midnight
