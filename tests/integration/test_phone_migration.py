"""Migration 0015 rewrites the numbers stored before the canonical form in that form: its SQL
agrees with callcenter/infra/phones.py on every sample, opt-outs and blacklist entries of one
number become one row, and a blacklisted local landline gets its area code back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcenter.infra import db
from callcenter.infra.phones import canonical_caller

MIGRATION = next(m for m in db.discover() if m.name == "canonical_phones")
FIXED = ["+8613812345678", "008613812345678", "8613812345678", "013812345678", "0812-3334444", "+86 812 3334444",
         "0086 10 12345678", "12345", "3334444", "+1 202 555 0100", "seat01", "", "12", "(0812) 333 4444",
         "+86 0812 3334444", "0086008613812345678"]
SAMPLES = st.lists(st.text(alphabet="0123456789+-() ", max_size=20) | st.sampled_from(FIXED), max_size=40)


async def _migrate_again(pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(MIGRATION.sql)


async def test_the_migration_agrees_with_the_normaliser(pool):
    @settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(SAMPLES)
    def check(values: list[str]) -> None:
        checks.append(values)
    checks: list[list[str]] = []
    check()
    values = FIXED + [v for vs in checks for v in vs]
    await pool.executemany("INSERT INTO calls (call_id, caller) VALUES ($1, $2)",
                           [(f"mig-{i}", v) for i, v in enumerate(values)])
    await _migrate_again(pool)
    stored = {r["call_id"]: r["caller"] for r in await pool.fetch("SELECT call_id, caller FROM calls")}
    wrong = [(v, stored[f"mig-{i}"], canonical_caller(v)) for i, v in enumerate(values)
             if stored[f"mig-{i}"] != canonical_caller(v)]
    assert wrong == []


async def test_opt_outs_and_blacklist_entries_of_one_number_become_one_row(pool):
    now = datetime.now(UTC)
    await pool.executemany("INSERT INTO survey_optouts (phone, reason, created_at) VALUES ($1, $2, $3)", [
        ("8613812345678", "first", now - timedelta(days=2)), ("+8613812345678", "second", now - timedelta(days=1)),
        ("13912345678", "canonical already", now)])
    await pool.executemany(
        "INSERT INTO ivr_blacklist (number, reason, created_at, expires_at) VALUES ($1, $2, $3, $4)", [
            ("8613812345678", "short", now, now + timedelta(days=1)),
            ("13812345678", "long", now, now + timedelta(days=30)),
            ("3334444", "local landline stored without 0812", now, now + timedelta(days=1))])
    await _migrate_again(pool)
    assert {r["phone"]: r["reason"] for r in await pool.fetch("SELECT phone, reason FROM survey_optouts")} == {
        "13812345678": "first", "13912345678": "canonical already"}
    assert {r["number"]: r["reason"] for r in await pool.fetch("SELECT number, reason FROM ivr_blacklist")} == {
        "13812345678": "long", "08123334444": "local landline stored without 0812"}
