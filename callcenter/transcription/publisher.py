"""Transcript results out: finals stored in `transcript_segments` and published, partials and
status only published, all through the outbox (topic ``calls/<call_id>/transcript``, which
the board hub forwards to the agent desktop on that call)."""

from __future__ import annotations

import asyncpg

from callcenter.infra.outbox import write_with_event
from callcenter.transcription.model import Utterance

UNAVAILABLE_TEXT = "转写不可用"


def topic(call_id: str) -> str:
    return f"calls/{call_id}/transcript"


class OutboxPublisher:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def utterance(self, u: Utterance) -> None:
        doc = u.document()
        if not u.final:
            await write_with_event(self.pool, [], [], topic(u.call_id), doc)
            return
        words = doc["words"]
        await write_with_event(self.pool, [
            "INSERT INTO transcript_segments(call_id, leg, seq, start_s, end_s, text, words, status, deferred)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"],
            [u.call_id, u.leg.value, u.seq, u.start, u.end, u.text, words, u.status, u.deferred],
            topic(u.call_id), doc)

    async def status(self, call_id: str, available: bool, reason: str = "") -> None:
        await write_with_event(self.pool, [], [], topic(call_id), {
            "type": "status", "call_id": call_id, "available": available,
            "text": "" if available else UNAVAILABLE_TEXT, "reason": reason})


async def segments(pool: asyncpg.Pool | asyncpg.Connection, call_id: str) -> list[dict]:
    rows = await pool.fetch(
        "SELECT leg, seq, start_s, end_s, text, words, status, deferred FROM transcript_segments"
        " WHERE call_id = $1 ORDER BY start_s, leg, seq", call_id)
    return [dict(r) for r in rows]


async def sweep(pool: asyncpg.Pool, retention_days: int) -> int:
    """Delete stored segments older than the retention period; returns how many."""
    status = await pool.execute(
        "DELETE FROM transcript_segments WHERE created_at < now() - make_interval(days => $1)", retention_days)
    return int(status.split()[-1])


async def ticket_texts(pool: asyncpg.Pool | asyncpg.Connection, call_id: str) -> tuple[str, str]:
    """(description, transcript) for the ticket filed from the call: the citizen's finals (the
    form's description prefill) and the whole dialogue as '市民：…\\n坐席：…' (the ticket's
    `transcript`, which routing already reads). Already masked."""
    rows = await segments(pool, call_id)
    citizen = " ".join(r["text"] for r in rows if r["leg"] == "citizen" and r["text"])
    lines = [f"{'市民' if r['leg'] == 'citizen' else '坐席'}：{r['text'] or '（未转写）'}" for r in rows]
    return citizen, "\n".join(lines)


async def calls_dialogue(pool: asyncpg.Pool | asyncpg.Connection, call_ids: list[str] | tuple[str, ...]) -> str:
    """The stored dialogue of the calls a ticket is filed from (the ticket's `transcript`, which
    its routing reads), '' when none was transcribed. Already masked."""
    parts = []
    for call_id in dict.fromkeys(call_ids):
        _, dialogue = await ticket_texts(pool, call_id)
        if dialogue:
            parts.append(dialogue)
    return "\n".join(parts)
