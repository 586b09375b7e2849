"""Who reads a call's transcript, with real logins against the whole controller and a real call
bridged to agent 1001 on the sandbox Asterisk: the call's agent and the hall read it, another
agent and an admin do not, a department only once a ticket of the call is its own. The desk's
ticket-form prefill gives the citizen's (masked) finals, and the ticket filed from the call
carries the stored dialogue, which routing reads. With transcription switched off, the desk's
socket is told 转写不可用 when the call is bridged."""

from __future__ import annotations

import aiohttp
import pytest
from accounts_support import Sessions
from acd_support import Phone
from helpers import until

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(90)]

SEGMENTS = [("citizen", 1, 0.4, 3.0, "我想问一下公积金贷款怎么办理 我的电话是138******78"),
            ("agent", 1, 3.2, 4.5, "好的 请您稍等"),
            ("citizen", 2, 5.0, 6.0, "")]


async def status_of(sessions: Sessions, actor: str, path: str) -> tuple[int, dict]:
    async with await sessions.client(actor) as http, http.get(path) as r:
        return r.status, await r.json()


async def transcript_event(ws: aiohttp.ClientWebSocketResponse, call_id: str) -> dict:
    """The first transcript event of ``call_id`` on an agent desk socket (snapshots skipped)."""
    while True:
        msg = await ws.receive_json(timeout=15)
        if msg.get("type") == "event" and msg.get("topic") == f"calls/{call_id}/transcript":
            return msg["payload"]


async def test_transcript_access_by_role_prefill_and_the_ticket_filed_from_the_call(stack, settings, pool):
    phone = Phone(stack)
    await phone.login("1001", "seat01")
    base = f"http://127.0.0.1:{settings.http_port}"
    sessions = Sessions(pool, base)
    desk = await sessions.headers("agent:1001")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http, \
            http.ws_connect(f"{base}/ws/agent/1001", headers={"Cookie": desk["Cookie"], "Origin": base}) as ws:
        call = await phone.call(caller="13812345678")
        await until(lambda: (c := phone.acd.calls.get(call)) is not None and c.state == "bridged", what="bridged")
        # transcription is switched off in this stack: the controller tells the desk at call start
        status = await transcript_event(ws, call)
    assert status["type"] == "status" and status["available"] is False and status["text"] == "转写不可用"
    assert "switched off" in status["reason"]
    await until(lambda: pool.fetchval("SELECT agent_id = '1001' FROM calls WHERE call_id = $1", call),
                what="the call record names its agent")
    for leg, seq, start, end, text in SEGMENTS:
        await pool.execute("INSERT INTO transcript_segments(call_id, leg, seq, start_s, end_s, text, status)"
                           " VALUES ($1, $2, $3, $4, $5, $6, $7)", call, leg, seq, start, end, text,
                           "ok" if text else "未转写")
    path = f"/api/calls/{call}/transcript"

    status, body = await status_of(sessions, "agent:1001", path)
    assert status == 200 and [s["text"] for s in body["segments"]][:2] == [SEGMENTS[0][4], SEGMENTS[1][4]]
    assert (await status_of(sessions, "supervisor:li", path))[0] == 200
    status, body = await status_of(sessions, "agent:1002", path)
    assert status == 403 and "own calls" in body["message"]
    assert (await status_of(sessions, "admin:root", path))[0] == 403
    assert (await status_of(sessions, "dept:housing_fund", path))[0] == 403  # no ticket of the call yet
    assert (await status_of(sessions, "agent:1001", "/api/calls/c-not-mine/transcript"))[0] == 403
    # an agent the call was bridged to before it was requeued keeps reading it (its state history)
    await pool.execute("INSERT INTO agent_states(agent_id, seat_id, from_state, to_state, reason, at)"
                       " VALUES ('1003', 'seat03', 'ringing', 'on_call', $1, now())", f"answer {call}")
    assert (await status_of(sessions, "agent:1003", path))[0] == 200

    # the desk's prefill: the citizen's finals only, already masked; for the call's agent only
    status, prefill = await status_of(sessions, "agent:1001", f"/api/calls/{call}/ticket-prefill")
    assert status == 200 and prefill["description"] == SEGMENTS[0][4]
    assert "13812345678" not in str(prefill)
    assert prefill["transcript"].splitlines() == [f"市民：{SEGMENTS[0][4]}", "坐席：好的 请您稍等", "市民：（未转写）"]
    assert (await status_of(sessions, "agent:1002", f"/api/calls/{call}/ticket-prefill"))[0] == 403
    assert (await status_of(sessions, "dept:housing_fund", f"/api/calls/{call}/ticket-prefill"))[0] == 403

    # the ticket filed from the call, with a vague description: routing reads the stored dialogue
    async with await sessions.client("agent:1001") as http:
        async with http.post("/api/tickets", json={"kind": "enquiry", "description": "市民来电咨询",
                                                   "channel": "call", "call_ids": [call]},
                             headers={"Idempotency-Key": f"t-{call}"}) as r:
            assert r.status == 201, await r.text()
            ticket = await r.json()
    assert ticket["routing"]["lead"] == "housing_fund" and ticket["lead_department"] == "housing_fund"
    stored = await pool.fetchrow("SELECT transcript, call_ids FROM tickets WHERE number = $1", ticket["number"])
    assert stored["call_ids"] == [call] and stored["transcript"] == prefill["transcript"]

    # now the department handling that ticket reads the call's transcript; another does not
    assert (await status_of(sessions, "dept:housing_fund", path))[0] == 200
    status, body = await status_of(sessions, "dept:market", path)
    assert status == 403 and "ticket" in body["message"]
    await phone.hangup(call)
