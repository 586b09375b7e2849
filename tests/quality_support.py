"""Recorded, transcribed calls as the quality feature finds them after a real call: the call
row (agent, seat), a stored stereo Ogg made with sox and its recording row, the final transcript
segments; and a logged-in request."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

from accounts_support import Sessions

# (leg, seq, start_s, end_s, text)
FORBIDDEN = (("agent", 1, 0.5, 2.5, "您好，12345 热线"), ("citizen", 1, 3.0, 6.0, "你们这个不归我管吗"),
             ("agent", 2, 7.0, 9.0, "这个不归我们管"))
CLEAN = (("agent", 1, 0.5, 2.5, "您好，12345 热线"), ("citizen", 1, 3.0, 6.0, "我家门口的路灯坏了"),
         ("agent", 2, 7.0, 9.0, "您反映的是路灯坏了，我们会转给住建部门，感谢您的来电"))


def _ogg(path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "2", str(path), "synth", "3", "sine", "440"], check=True)
    return path.stat().st_size


async def recorded(pool, root, call_id: str, agent: str, lines=FORBIDDEN, seat: str = "seat01") -> None:
    started = datetime.now(UTC) - timedelta(hours=2)
    key = f"{started:%Y/%m/%d}/{call_id}-1.ogg"
    size = _ogg(root / key)
    await pool.execute("INSERT INTO calls (call_id, caller, entered_at, agent_id, seat_id) VALUES"
                       " ($1, '13800000001', $2, $3, $4)", call_id, started, agent, seat)
    await pool.execute(
        "INSERT INTO recordings (call_id, part, caller_leg, agent_leg, agent_id, seat_id, state, started_at, ended_at,"
        " duration_s, bytes, sha256, format, storage_key) VALUES ($1, 1, $1, $1 || '-a', $2, $6, 'stored',"
        " $3::timestamptz, $3::timestamptz + interval '60 s', 60, $4, repeat('0', 64), 'ogg', $5)",
        call_id, agent, started, size, key, seat)
    for leg, seq, start, end, text in lines:
        await pool.execute("INSERT INTO transcript_segments(call_id, leg, seq, start_s, end_s, text, status)"
                           " VALUES ($1, $2, $3, $4, $5, $6, 'ok')", call_id, leg, seq, start, end, text)


async def call(sessions: Sessions, actor: str, method: str, path: str, body=None) -> tuple[int, dict]:
    async with await sessions.client(actor) as http, http.request(method, path, json=body) as r:
        return r.status, await r.json()
