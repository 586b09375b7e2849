"""Quality reviews and appeals (use cases and their SQL): an inspector submits a call's review
(the automatic findings, confirmed or overridden item by item, and a comment); a review is never
edited, a change is a new revision with its reason; the call's agent sees their results and
appeals a call once; a supervisor decides. The inspectors' queue samples the week's recorded calls
(model.sample): every call with a complaint, 效能 or reopened ticket, and a share of each agent's
others."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from callcenter.quality.http import Inspection
from callcenter.quality.model import (
    Candidate,
    appeal_refusal,
    decision_refusal,
    revision_refusal,
    sample,
    week_of,
)
from callcenter.quality.scorecard import score

AgentOf = Callable[[Any, str], Awaitable[str | None]]  # recordings' call_agent
Recent = Callable[[Any, datetime], Awaitable[list[dict[str, Any]]]]  # recordings' recent_calls
Tickets = Callable[[Any, list[str]], Awaitable[list[dict[str, Any]]]]  # tickets' tickets_of_calls


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
                 *, share: float = 0.05) -> None:
        self.inspection, self.agent_of, self.recent, self.tickets = inspection, agent_of, recent, tickets
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
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('qa ' || $1))", call_id)
            n = await conn.fetchval("SELECT count(*) FROM qa_reviews WHERE call_id=$1", call_id)
            why = revision_refusal(n, reason)
            if why:
                raise Refused(409, why)
            row = await conn.fetchrow(
                "INSERT INTO qa_reviews(call_id, revision, agent_id, inspector, scorecard, marks, items, score, passed,"
                " fatal_hits, comment, reason) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $11, $12)"
                " RETURNING *", call_id, n + 1, agent, inspector, card.name, json.dumps(marks), json.dumps(items),
                result.score, result.passed, list(result.fatal_hits), comment, reason if n else None)
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

    async def figures(self, since: datetime) -> list[dict[str, Any]]:
        """Per agent and ISO week since ``since``: reviewed calls, average score (latest revisions),
        fatal hits, appeals filed / upheld / rejected."""
        rows = await self.pool.fetch(
            "WITH latest AS (SELECT DISTINCT ON (call_id) * FROM qa_reviews WHERE submitted_at >= $1"
            " ORDER BY call_id, revision DESC)"
            " SELECT l.agent_id, to_char(l.submitted_at AT TIME ZONE 'Asia/Shanghai', 'IYYY-\"W\"IW') AS week,"
            " count(*) AS reviewed, round(avg(l.score)::numeric, 1)::float AS average,"
            " count(*) FILTER (WHERE cardinality(l.fatal_hits) > 0) AS fatal,"
            " count(a.id) AS appeals, count(*) FILTER (WHERE a.decision = 'upheld') AS upheld,"
            " count(*) FILTER (WHERE a.decision = 'rejected') AS rejected"
            " FROM latest l LEFT JOIN qa_appeals a ON a.call_id = l.call_id"
            " GROUP BY 1, 2 ORDER BY 2 DESC, 1", since)
        return [dict(r) for r in rows]

    async def open_appeals(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self.pool.fetch("SELECT a.*, r.score, r.passed, r.revision FROM qa_appeals a JOIN qa_reviews r"
                                     " ON r.id = a.review_id WHERE a.decision IS NULL ORDER BY a.filed_at LIMIT $1",
                                     limit)
        return [_doc(r) for r in rows]

    async def queue(self, now: datetime, days: int = 7) -> list[dict[str, Any]]:
        calls = await self.recent(self.pool, now - timedelta(days=days))
        ids = [c["call_id"] for c in calls]
        reasons: dict[str, set[str]] = {}
        for t in await self.tickets(self.pool, ids):
            why = reasons.setdefault(t["call_id"], set())
            if t["kind"] == "complaint":
                why.add("投诉工单")
            if t.get("lead_department") == "efficiency" or "efficiency" in (t.get("assisting") or ()):
                why.add("效能工单")
            if t.get("reopen_count"):
                why.add("重办工单")
        reviewed = {r["call_id"] for r in await self.pool.fetch(
            "SELECT DISTINCT call_id FROM qa_reviews WHERE call_id = ANY($1)", ids)}
        picked = sample([Candidate(c["call_id"], c["agent_id"], tuple(sorted(reasons.get(c["call_id"], ()))))
                         for c in calls if c["call_id"] not in reviewed], self.share, week_of(now.date()))
        started = {c["call_id"]: c["started_at"].isoformat() for c in calls}
        return [{"call_id": s.call_id, "agent_id": s.agent_id, "why": list(s.why), "started_at": started[s.call_id]}
                for s in picked]
