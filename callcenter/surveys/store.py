"""Durable outbound work in PostgreSQL (tables in migrations/0009_surveys.sql).

Why row locks and not the Redis lease: the pick of the next attempt must be atomic with the
record of that attempt. `claim` is ONE statement: it takes the next due pending row(s) with
`FOR UPDATE SKIP LOCKED` (a second dialler skips it, never waits on it), counts the attempt
and inserts the attempt row with its deterministic channel id `sv-<job>-<n>`, all committed
together. A lease (Redis or otherwise) can lapse while its old holder still runs; a row lock
cannot be held by two transactions, and the channel id makes Asterisk itself refuse a second
originate of the same attempt.

After a crash (kill -9): an attempt row without an outcome whose `lease_until` passed belongs
to a dead worker. If `dialled_at` is empty the call never left: it is dialled again under the
SAME attempt number and channel id (nothing lost, nothing repeated); if it was dialled, its
channel is hung up if still there and the attempt ends as `interrupted` (counted once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from callcenter.infra.outbox import Message, write, write_with_event
from callcenter.infra.phones import canonical_phone
from callcenter.surveys.model import Done, GiveUp, Outcome, Reason, Retry
from callcenter.surveys.rates import Record
from callcenter.surveys.store_sql import (
    CANCEL_SERVED,
    CLAIM,
    INCIDENT_CANDIDATES,
    MISSED_CANDIDATES,
    SERVED_SINCE,
    TICKET_CANDIDATES,
)

JOB_COLUMNS = (("kind", "text"), ("ticket_number", "text"), ("round", "int"), ("call_id", "text"),
               ("phone", "text"), ("department", "text"), ("district", "text"), ("state", "text"),
               ("max_attempts", "int"), ("due_at", "timestamptz"), ("deadline", "timestamptz"), ("reason", "text"),
               ("by_agent", "bool"), ("result_step", "smallint"))


@dataclass(frozen=True)
class Claimed:
    job_id: int
    kind: str
    channel_id: str
    attempt: int
    max_attempts: int
    phone: str
    ticket_number: str | None
    department: str | None
    deadline: datetime | None
    dialled: bool = False  # recovery: the attempt had already been originated
    by_agent: bool = False  # the ACD reserves an agent, then dials the citizen

    @classmethod
    def of(cls, row: Any, dialled: bool = False) -> Claimed:
        return cls(row["id"], row["kind"], row["channel_id"], row["attempts"], row["max_attempts"],
                   row["phone"], row["ticket_number"], row["department"], row["deadline"], dialled,
                   bool(row["by_agent"]))


def job_message(job_id: int, state: str, payload: dict[str, Any], now: datetime) -> Message:
    """The outbox event of a job's new state."""
    return f"surveys/{job_id}/{state}", {"job_id": job_id, "state": state, "at": now.isoformat(), **payload}


class SurveyStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def line_about(self, job_id: int) -> str:
        """The line of the call a callback is about: the missed call's, or the call the ticket was
        filed from ("" when there is none, e.g. a ticket filed on the web)."""
        line = await self.pool.fetchval(
            "SELECT coalesce(nullif(c.line, ''), c.dnis) FROM survey_jobs j LEFT JOIN tickets t ON t.number = j.ticket_number"
            " JOIN calls c ON c.call_id = coalesce(j.call_id, t.call_ids[1]) WHERE j.id = $1", job_id)
        return line or ""

    # ------------------------------------------------------------------ scheduling

    async def ticket_candidates(self, now: datetime, limit: int = 500) -> list[asyncpg.Record]:
        return await self.pool.fetch(TICKET_CANDIDATES, now, limit)

    async def incident_candidates(self, now: datetime, since: datetime, limit: int = 500) -> list[asyncpg.Record]:
        return await self.pool.fetch(INCIDENT_CANDIDATES, now, since, limit)

    async def missed_candidates(self, now: datetime, since: datetime, dispositions: list[str],
                                limit: int = 500) -> list[asyncpg.Record]:
        return await self.pool.fetch(MISSED_CANDIDATES, now, since, dispositions, limit)

    async def add_jobs(self, rows: list[dict[str, Any]], now: datetime) -> list[asyncpg.Record]:
        """Insert jobs (pending, or closed/cancelled at once with a reason) in one statement;
        duplicates (the same ticket round, the same missed call) are ignored. Returns those added."""
        if not rows:
            return []
        rows = [{"by_agent": False} | r for r in rows]
        cols = [[r.get(c) for r in rows] for c, _ in JOB_COLUMNS]
        at = f"${len(JOB_COLUMNS) + 1}::timestamptz"
        sql = (f"INSERT INTO survey_jobs ({', '.join(c for c, _ in JOB_COLUMNS)}, created_at, updated_at,"
               f" finished_at) SELECT *, {at}, {at}, CASE WHEN u.state = 'pending' THEN NULL ELSE {at} END FROM unnest("
               + ", ".join(f"${i + 1}::{t}[]" for i, (_, t) in enumerate(JOB_COLUMNS))
               + f") AS u({', '.join(c for c, _ in JOB_COLUMNS)}) ON CONFLICT DO NOTHING"
               " RETURNING id, kind, ticket_number, state, reason")
        return await self.pool.fetch(sql, *cols, now)

    async def open_missed_phones(self, phones: list[str]) -> set[str]:
        rows = await self.pool.fetch("SELECT DISTINCT phone FROM survey_jobs WHERE kind = 'missed'"
                                     " AND state IN ('pending', 'dialling') AND phone = ANY($1::text[])", phones)
        return {r["phone"] for r in rows}

    async def cancel_served(self, now: datetime) -> list[asyncpg.Record]:
        """Cancel the missed-call callbacks whose caller called in since, with their events, at once."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(CANCEL_SERVED, now, Reason.SERVED.value)
            await write(conn, [job_message(r["id"], "cancelled", {"reason": Reason.SERVED.value,
                                                                   "call_id": r["call_id"]}, now) for r in rows])
        return rows

    async def cancel_stale_tickets(self, now: datetime) -> int:
        """A ticket that left 办结 (closed by hand, reopened) no longer needs its pending survey."""
        rows = await self.pool.fetch(
            "UPDATE survey_jobs j SET state = 'cancelled', reason = 'ticket ' || t.status, updated_at = $1,"
            " finished_at = $1 FROM tickets t WHERE j.kind = 'ticket' AND j.state = 'pending'"
            " AND t.number = j.ticket_number AND t.status <> 'resolved' RETURNING j.id", now)
        return len(rows)

    # ------------------------------------------------------------------ dialling

    async def claim(self, now: datetime, worker: str, kinds: list[str], lease_s: float = 120) -> Claimed | None:
        found = await self.claim_many(now, worker, kinds, 1, lease_s)
        return found[0] if found else None

    async def claim_many(self, now: datetime, worker: str, kinds: list[str], limit: int,
                         lease_s: float = 120) -> list[Claimed]:
        """Up to `limit` due attempts, earliest due first, in one statement (one commit)."""
        if not kinds or limit < 1:
            return []
        rows = await self.pool.fetch(CLAIM, now, worker, float(lease_s), kinds, limit)
        return [Claimed.of(r) for r in rows]

    async def dialled(self, channel_id: str, now: datetime) -> None:
        await self.pool.execute("UPDATE survey_attempts SET dialled_at = $2 WHERE channel_id = $1",
                                channel_id, now)

    async def answered(self, channel_id: str, now: datetime) -> None:
        await self.pool.execute("UPDATE survey_attempts SET answered_at = coalesce(answered_at, $2)"
                                " WHERE channel_id = $1", channel_id, now)

    async def release(self, channel_ids: list[str], now: datetime) -> None:
        """Claimed attempts not originated (Asterisk unreachable): their lease ends now, so that
        `recover` dials them under the same attempt number (nothing spent)."""
        if channel_ids:
            await self.pool.execute("UPDATE survey_attempts SET lease_until = $2 WHERE channel_id = ANY($1)"
                                    " AND outcome IS NULL AND dialled_at IS NULL", channel_ids, now)

    async def renew(self, channel_ids: list[str], until: datetime) -> None:
        if channel_ids:
            await self.pool.execute("UPDATE survey_attempts SET lease_until = $2 WHERE channel_id = ANY($1)"
                                    " AND outcome IS NULL", channel_ids, until)

    async def finish(self, claimed: Claimed, outcome: Outcome, step: Done | Retry | GiveUp, now: datetime,
                     answers: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """End the attempt and move its job on, once: None when the attempt already had an end, else
        the answers it ended with. No answers given: those the desk stored on the attempt (a result
        committed after the dialler last read it is seen under the row's lock, not overwritten)."""
        async with self.pool.acquire() as conn, conn.transaction():
            ended = await conn.fetchrow(
                "UPDATE survey_attempts SET outcome = $2, ended_at = $3, answers = coalesce($4, answers)"
                " WHERE channel_id = $1 AND outcome IS NULL RETURNING job_id, answers",
                claimed.channel_id, outcome.value, now, answers or None)
            if ended is None:
                return None
            a = dict(ended["answers"] or {})
            owed = 0 if claimed.kind == "ticket" and claimed.ticket_number else None  # results.py applies it
            if isinstance(step, Done):
                state, extra = "done", {"resolved": a.get("resolved"), "rating": a.get("rating")}
                await conn.execute(
                    "UPDATE survey_jobs SET state = 'done', resolved = $2, rating = $3, result = $4,"
                    " updated_at = $5, finished_at = $5, result_step = $6 WHERE id = $1",
                    claimed.job_id, a.get("resolved"), a.get("rating"), a, now, owed)
            elif isinstance(step, Retry):
                state, extra = "pending", {"due_at": step.due.isoformat()}
                await conn.execute("UPDATE survey_jobs SET state = 'pending', due_at = $2, updated_at = $3"
                                   " WHERE id = $1", claimed.job_id, step.due, now)
            else:
                state, extra = "closed", {"reason": step.reason.value}
                await conn.execute("UPDATE survey_jobs SET state = 'closed', reason = $2, updated_at = $3,"
                                   " finished_at = $3, result_step = $4 WHERE id = $1",
                                   claimed.job_id, step.reason.value, now, owed)
            await self._event(conn, claimed.job_id, state, {
                "kind": claimed.kind, "ticket": claimed.ticket_number, "attempt": claimed.attempt,
                "outcome": outcome.value, **extra}, now)
        return a

    async def cancel_attempt(self, claimed: Claimed, outcome: Outcome, reason: str, now: datetime) -> bool:
        """The attempt was withdrawn before the citizen was dialled (they called in meanwhile):
        the job ends cancelled with the reason, as a pending one would."""
        async with self.pool.acquire() as conn, conn.transaction():
            ended = await conn.fetchval(
                "UPDATE survey_attempts SET outcome = $2, ended_at = $3 WHERE channel_id = $1 AND outcome IS NULL"
                " RETURNING job_id", claimed.channel_id, outcome.value, now)
            if ended is None:
                return False
            await conn.execute("UPDATE survey_jobs SET state = 'cancelled', reason = $2, updated_at = $3,"
                               " finished_at = $3 WHERE id = $1", claimed.job_id, reason, now)
            await self._event(conn, claimed.job_id, "cancelled", {
                "kind": claimed.kind, "attempt": claimed.attempt, "outcome": outcome.value, "reason": reason}, now)
        return True

    async def served_since(self, channel_ids: list[str]) -> set[str]:
        if not channel_ids:
            return set()
        return {r["channel_id"] for r in await self.pool.fetch(SERVED_SINCE, channel_ids)}

    async def agent_talked(self, channel_id: str, agent_id: str | None, now: datetime) -> None:
        await self.pool.execute("UPDATE survey_attempts SET answered_at = coalesce(answered_at, $2),"
                                " agent_id = coalesce($3, agent_id) WHERE channel_id = $1", channel_id, now, agent_id)

    async def desk_result(self, channel_id: str, agent_id: str, answers: dict[str, Any]) -> str | None:
        """The result of an agent-driven ticket callback, entered by the agent who talked: kept on
        the attempt until the dialler ends it. None when it was done; else why not. The attempt row
        is locked first (as by :meth:`finish`): a result racing the attempt's end waits, then is refused."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1 FROM survey_attempts WHERE channel_id = $1 FOR UPDATE", channel_id)
            why = await self._desk_refusal(conn, channel_id, agent_id)
            if why is None:
                await conn.execute("UPDATE survey_attempts SET answers = $2 WHERE channel_id = $1", channel_id, answers)
        return why

    @staticmethod
    async def _desk_refusal(conn: asyncpg.Connection, channel_id: str, agent_id: str) -> str | None:
        row = await conn.fetchrow(
            "SELECT a.agent_id, a.outcome, a.answers, j.kind, j.by_agent, j.state FROM survey_attempts a"
            " JOIN survey_jobs j ON j.id = a.job_id WHERE a.channel_id = $1", channel_id)
        if row is None or row["agent_id"] != agent_id:
            return "not_found"
        if row["kind"] != "ticket" or not row["by_agent"]:
            return "not_a_ticket_callback"
        if row["outcome"] is not None and row["answers"]:
            return "already_entered"
        if row["outcome"] is not None and row["state"] != "dialling":
            return "already_ended"
        return None

    async def desk_answers(self, channel_ids: list[str]) -> dict[str, dict[str, Any]]:
        rows = await self.pool.fetch("SELECT channel_id, answers FROM survey_attempts WHERE channel_id = ANY($1::text[])"
                                     " AND answers IS NOT NULL", channel_ids) if channel_ids else []
        return {r["channel_id"]: r["answers"] for r in rows}

    async def agent_callbacks(self, agent_id: str, since: datetime) -> list[asyncpg.Record]:
        """The ticket callbacks `agent_id` talked in since `since`, with the ticket's facts."""
        return await self.pool.fetch(
            "SELECT a.channel_id, a.n AS attempt, a.answered_at, a.ended_at, a.outcome, a.answers, j.id AS job_id,"
            " j.state, j.ticket_number, j.department, j.district, t.kind, t.category, t.description, t.address,"
            " t.status AS ticket_status, t.caller_phone, p.reason AS person_reason"
            " FROM survey_attempts a JOIN survey_jobs j ON j.id = a.job_id"
            " LEFT JOIN tickets t ON t.number = j.ticket_number"
            " LEFT JOIN survey_person_tickets p ON p.ticket_number = j.ticket_number"
            " WHERE a.agent_id = $1 AND j.kind = 'ticket' AND a.claimed_at >= $2 ORDER BY a.claimed_at DESC LIMIT 20",
            agent_id, since)

    async def flag_for_person(self, number: str, reason: str, by: str) -> bool:
        """A person makes this ticket's 回访 (flagged when it is filed or later): a callback already
        scheduled and not yet dialled goes to an agent too."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO survey_person_tickets (ticket_number, reason, created_by) SELECT number, $2, $3"
                " FROM tickets WHERE number = $1 ON CONFLICT (ticket_number) DO UPDATE SET reason = EXCLUDED.reason"
                " RETURNING ticket_number", number, reason, by)
            if row is not None:
                await conn.execute("UPDATE survey_jobs SET by_agent = true WHERE kind = 'ticket'"
                                   " AND ticket_number = $1 AND state = 'pending'", number)
        return row is not None

    async def stale_attempts(self, now: datetime) -> list[Claimed]:
        rows = await self.pool.fetch(
            "SELECT j.*, a.channel_id, a.n, a.dialled_at FROM survey_attempts a JOIN survey_jobs j ON j.id = a.job_id"
            " WHERE a.outcome IS NULL AND a.lease_until < $1 ORDER BY a.id", now)
        return [Claimed.of({**dict(r), "attempts": r["n"]}, dialled=r["dialled_at"] is not None) for r in rows]

    async def adopt(self, channel_id: str, worker: str, until: datetime, now: datetime) -> bool:
        """Take over a dead worker's attempt (one taker wins)."""
        row = await self.pool.fetchrow(
            "UPDATE survey_attempts SET worker = $2, lease_until = $3 WHERE channel_id = $1 AND outcome IS NULL"
            " AND lease_until < $4 RETURNING id", channel_id, worker, until, now)
        return row is not None

    async def _event(self, db: Any, job_id: int, state: str, payload: dict[str, Any], now: datetime) -> None:
        await write(db, [job_message(job_id, state, payload, now)])

    # ------------------------------------------------------------------ ratings, opt-outs, reads

    async def record_rating(self, call_id: str, *, agent_id: str | None, seat_id: str | None,
                            team: str | None, rating: str | None, digit: str | None, at: datetime) -> None:
        await write_with_event(
            self.pool, ["INSERT INTO survey_ratings (call_id, agent_id, seat_id, team, rating, digit, at)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (call_id) DO NOTHING"],
            [call_id, agent_id, seat_id, team, rating, digit, at], f"surveys/ratings/{call_id}",
            {"call_id": call_id, "agent_id": agent_id, "team": team, "rating": rating, "at": at.isoformat()})

    async def opt_out(self, phone: str, reason: str, by: str) -> None:
        phone = canonical_phone(phone)
        await self.pool.execute("INSERT INTO survey_optouts (phone, reason, created_by) VALUES ($1, $2, $3)"
                                " ON CONFLICT (phone) DO UPDATE SET reason = EXCLUDED.reason", phone, reason, by)

    async def job(self, job_id: int) -> asyncpg.Record | None:
        return await self.pool.fetchrow("SELECT * FROM survey_jobs WHERE id = $1", job_id)

    async def attempts(self, job_id: int) -> list[asyncpg.Record]:
        return await self.pool.fetch("SELECT * FROM survey_attempts WHERE job_id = $1 ORDER BY n", job_id)

    async def records(self, since: datetime, until: datetime) -> list[Record]:
        """Jobs created or finished in [since, until) and ratings in it, flattened for figures."""
        rows = await self.pool.fetch(
            "SELECT j.kind, j.state, j.reason, j.resolved, j.rating, j.department, j.district,"
            " (coalesce(j.finished_at, j.created_at) AT TIME ZONE 'Asia/Shanghai')::date AS day"
            " FROM survey_jobs j WHERE coalesce(j.finished_at, j.created_at) >= $1"
            " AND coalesce(j.finished_at, j.created_at) < $2", since, until)
        out = [Record(r["kind"], r["state"], r["reason"], r["resolved"], r["rating"], r["day"], r["department"],
                      r["district"]) for r in rows]
        return out + await self.ratings(since, until)

    async def ratings(self, since: datetime, until: datetime) -> list[Record]:
        """The post-call ratings (坐席服务评价) in [since, until), no-answers included (rating None)."""
        rows = await self.pool.fetch(
            "SELECT rating, agent_id, team, (at AT TIME ZONE 'Asia/Shanghai')::date AS day FROM survey_ratings"
            " WHERE at >= $1 AND at < $2", since, until)
        return [Record("rating", "done", None, None, r["rating"], r["day"], None, None, r["team"], r["agent_id"])
                for r in rows]


def lease_until(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
