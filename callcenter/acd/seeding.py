"""`callcenter seed` for the ACD: the seat roster and the shift plan into PostgreSQL.

Idempotent: seats are upserted (and seats no longer in the roster removed), the plan of each
team is rewritten for the days seeded. The controller reads the roster file itself; these
tables are for reports and the people who plan shifts.
"""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

from callcenter.acd.shifts import Roster

PLAN_DAYS = 32  # four 8-day cycles of 4班3倒


def shift_plan(roster: Roster, first: date, days: int = PLAN_DAYS) -> list[tuple]:
    """(team, day, code, name, starts_at, ends_at) for every team and day; rest days have no times."""
    rot, rows = roster.rotation, []
    for team in roster.teams:
        for n in range(days):
            day = first + timedelta(days=n)
            code = rot.code_for(team, day)
            sd = rot.shift_def(code)
            starts, ends = sd.window(day, rot.tz) if sd is not None else (None, None)
            rows.append((team, day, code, sd.name if sd else None, starts, ends))
    return rows


async def seed_roster(conn: asyncpg.Connection, roster: Roster, first: date) -> str:
    seats = [(s.id, s.team, sorted(s.skills), s.extension) for s in roster.seats]
    await conn.executemany(
        "INSERT INTO seats (seat_id, team, skills, extension) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (seat_id) DO UPDATE SET team = EXCLUDED.team, skills = EXCLUDED.skills, "
        "extension = EXCLUDED.extension, updated_at = now()", seats)
    await conn.execute("DELETE FROM seats WHERE NOT (seat_id = ANY($1::text[]))", [s[0] for s in seats])
    plan = shift_plan(roster, first)
    await conn.executemany(
        "INSERT INTO shift_plan (team, day, shift, name, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (team, day) DO UPDATE SET shift = EXCLUDED.shift, name = EXCLUDED.name, "
        "starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at", plan)
    return f"{len(seats)} seats in {len(roster.teams)} teams, shift plan {first} +{PLAN_DAYS} days"
