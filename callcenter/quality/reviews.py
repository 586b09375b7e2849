"""Quality reviews and appeals (use cases and their SQL): an inspector submits a call's review
(the automatic findings, confirmed or overridden item by item, and a comment); a review is never
edited, a change is a new revision with its reason; the call's agent sees their results and
appeals a call once; a supervisor decides. The inspectors' queue samples the week's recorded calls
(model.sample): every call with a complaint, 效能 or reopened ticket, a bad post-call rating (差评)
or a fatal automatic hit (一票否决), and a share of each agent's others; each says why it is there."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from callcenter.quality.http import Inspection
from callcenter.quality.model import (
    Candidate,
    Reviewed,
    appeal_refusal,
    decision_refusal,
    figures,
    reasons,
    revision_refusal,
    sample,
    week_of,
)
from callcenter.quality.scorecard import score

LOCAL = ZoneInfo("Asia/Shanghai")  # the hall's weeks

AgentOf = Callable[[Any, str], Awaitable[str | None]]  # recordings' call_agent
Recent = Callable[[Any, datetime], Awaitable[list[dict[str, Any]]]]  # recordings' recent_calls
Tickets = Callable[[Any, list[str]], Awaitable[list[dict[str, Any]]]]  # tickets' tickets_of_calls
Ratings = Callable[[Any, list[str]], Awaitable[dict[str, dict[str, Any]]]]  # surveys' call_ratings
TeamOf = Callable[[Any, str], Awaitable[str | None]]  # the team of the call's seat


async def reviewed(pool: Any, since: datetime, until: datetime | None = None) -> list[Reviewed]:
    """The latest revision of each call reviewed in [since, until), with its appeal's state."""
    rows = await pool.fetch(
        "WITH latest AS (SELECT DISTINCT ON (call_id) * FROM qa_reviews WHERE submitted_at >= $1"
        " AND ($2::timestamptz IS NULL OR submitted_at < $2) ORDER BY call_id, revision DESC)"
        " SELECT to_char(l.submitted_at AT TIME ZONE 'Asia/Shanghai', 'IYYY-\"W\"IW') AS week,"
        " (l.submitted_at AT TIME ZONE 'Asia/Shanghai')::date AS day, l.agent_id, l.team, l.score, l.fatal_hits,"
        " CASE WHEN a.id IS NULL THEN NULL ELSE coalesce(a.decision, 'pending') END AS appeal"
        " FROM latest l LEFT JOIN qa_appeals a ON a.call_id = l.call_id", since, until)
    return [Reviewed(r["week"], r["agent_id"], r["team"], float(r["score"]), tuple(r["fatal_hits"]), r["appeal"],
                     r["day"]) for r in rows]


class Refused(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _doc(r: asyncpg.Record) -> dict[str, Any]:
    d = dict(r)
    for k in ("marks", "items"):
        if isinstance(d.get(k), str):
            d[k] = json.loads(d[k])
    for k in ("submitted_at", "filed_at", "decided_at"):
        if d.get(k) is not None:
            d[k] = d[k].isoformat()
    return d


class Reviews:
    def __init__(self, inspection: Inspection, agent_of: AgentOf, recent: Recent, tickets: Tickets,
                 *, share: float = 0.05, ratings: Ratings | None = None, team_of: TeamOf | None = None) -> None:
        self.inspection, self.agent_of, self.recent, self.tickets = inspection, agent_of, recent, tickets
        self.ratings, self.team_of = ratings, team_of
        self.pool = inspection.pool
        self.share = share

    async def submit(self, call_id: str, inspector: str, marks: dict[str, bool], comment: str,
                     reason: str | None) -> dict[str, Any]:
        card = self.inspection.card
        unknown = sorted(set(marks) - {i.id for i in card.items})
        if unknown:
            raise Refused(422, f"not items of the scorecard: {', '.join(unknown)}")
        manual = [i.id for i in card.items if i.check is None and i.id not in marks]
        if manual:
            raise Refused(422, f"score every item no check decides: {', '.join(manual)}")
        auto = await self.inspection.findings(call_id)
        result = score(card, auto, marks)
        assert result.score is not None and result.passed is not None
        items = [{"id": r.item, "name": r.name, "passed": r.passed, "by": r.by, "fatal": r.fatal,
                  "finding": asdict(r.finding) if r.finding else None} for r in result.items]
        agent = await self.agent_of(self.pool, call_id)
        team = await self.team_of(self.pool, call_id) if self.team_of is not None else None
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('qa ' || $1))", call_id)
            n = await conn.fetchval("SELECT count(*) FROM qa_reviews WHERE call_id=$1", call_id)
            pending = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM qa_appeals WHERE call_id=$1"
                                          " AND decision IS NULL)", call_id)
            why = revision_refusal(n, reason, pending)
            if why:
                raise Refused(409, why)
            row = await conn.fetchrow(
                "INSERT INTO qa_reviews(call_id, revision, agent_id, inspector, scorecard, marks, items, score, passed,"
                " fatal_hits, comment, reason, team) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $11,"
                " $12, $13) RETURNING *", call_id, n + 1, agent, inspector, card.name, json.dumps(marks),
                json.dumps(items), result.score, result.passed, list(result.fatal_hits), comment, reason if n else None,
                team)
        return _doc(row)

    async def of_call(self, call_id: str) -> dict[str, Any]:
        rows = await self.pool.fetch("SELECT * FROM qa_reviews WHERE call_id=$1 ORDER BY revision", call_id)
        appeal = await self.pool.fetchrow("SELECT * FROM qa_appeals WHERE call_id=$1", call_id)
        return {"call_id": call_id, "reviews": [_doc(r) for r in rows], "appeal": _doc(appeal) if appeal else None}

    async def of_agent(self, agent_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The agent's calls' latest revisions, newest first, with their appeal."""
        rows = await self.pool.fetch(
            "SELECT DISTINCT ON (r.call_id) r.*, a.id AS appeal_id, a.decision AS appeal_decision"
            " FROM qa_reviews r LEFT JOIN qa_appeals a ON a.call_id = r.call_id WHERE r.agent_id=$1"
            " ORDER BY r.call_id, r.revision DESC", agent_id)
        docs = sorted((_doc(r) for r in rows), key=lambda d: d["submitted_at"], reverse=True)
        return docs[:limit]

    async def appeal(self, call_id: str, agent_id: str, reason: str) -> dict[str, Any]:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('qa ' || $1))", call_id)
            last = await conn.fetchrow("SELECT * FROM qa_reviews WHERE call_id=$1 ORDER BY revision DESC LIMIT 1",
                                       call_id)
            if last is None:
                raise Refused(404, "this call has no review")
            appealed = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM qa_appeals WHERE call_id=$1)", call_id)
            why = appeal_refusal(agent_id, last["agent_id"], appealed, reason)
            if why:
                raise Refused(403 if "only the call's agent" in why else 409 if appealed else 422, why)
            row = await conn.fetchrow("INSERT INTO qa_appeals(call_id, review_id, agent_id, reason) VALUES"
                                      " ($1, $2, $3, $4) RETURNING *", call_id, last["id"], agent_id, reason.strip())
        return _doc(row)

    async def decide(self, appeal_id: int, supervisor: str, decision: str, note: str) -> dict[str, Any]:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow("SELECT * FROM qa_appeals WHERE id=$1 FOR UPDATE", appeal_id)
            if row is None:
                raise Refused(404, "no such appeal")
            why = decision_refusal(row["decision"] is not None)
            if why:
                raise Refused(409, why)
            row = await conn.fetchrow("UPDATE qa_appeals SET decision=$2, decided_by=$3, decided_at=now(), note=$4"
                                      " WHERE id=$1 RETURNING *", appeal_id, decision, supervisor, note)
        return _doc(row)

    async def figures(self, since: datetime, until: datetime | None = None) -> dict[str, Any]:
        """The figures (model.figures) of the calls reviewed in [since, until), their latest revisions."""
        return figures(await reviewed(self.pool, since, until), {i.id: i.name for i in self.inspection.card.items})

    async def open_appeals(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self.pool.fetch("SELECT a.*, r.score, r.passed, r.revision FROM qa_appeals a JOIN qa_reviews r"
                                     " ON r.id = a.review_id WHERE a.decision IS NULL ORDER BY a.filed_at LIMIT $1",
                                     limit)
        return [_doc(r) for r in rows]

    async def queue(self, now: datetime, days: int = 7) -> list[dict[str, Any]]:
        """The week's recorded calls not yet reviewed that the sample takes, each with why."""
        calls = await self.recent(self.pool, now - timedelta(days=days))
        reviewed = {r["call_id"] for r in await self.pool.fetch(
            "SELECT DISTINCT call_id FROM qa_reviews WHERE call_id = ANY($1)", [c["call_id"] for c in calls])}
        calls = [c for c in calls if c["call_id"] not in reviewed]
        ids = [c["call_id"] for c in calls]
        tickets: dict[str, list[dict[str, Any]]] = {}
        for t in await self.tickets(self.pool, ids):
            tickets.setdefault(t["call_id"], []).append(t)
        rated = await self.ratings(self.pool, ids) if self.ratings is not None else {}
        fatal = await self.inspection.fatal(ids)
        why = {c: reasons(tickets.get(c, []), (rated.get(c) or {}).get("rating"), bool((rated.get(c) or {}).get("bad")),
                          fatal.get(c, ())) for c in ids}
        picked = sample([Candidate(c["call_id"], c["agent_id"], why[c["call_id"]]) for c in calls],
                        self.share, week_of(now.astimezone(LOCAL).date()))  # the hall's week, as figures
        started = {c["call_id"]: c["started_at"].isoformat() for c in calls}
        return [{"call_id": s.call_id, "agent_id": s.agent_id, "why": list(s.why), "started_at": started[s.call_id]}
                for s in picked]
