"""Live transcript on the agent desktop in a real headless Chromium: transcript events written
through the real outbox (as callcenter/transcription/publisher.py does) reach the page over the
agent WebSocket; partials show greyed as the speaker's current line, finals append as
"市民：…" / "坐席：…" in order of start, a reload during the call refills the stored finals,
an unavailable status shows 转写不可用 beside the call (the real controller sends one at call
start, transcription being switched off in the test stack), and the ticket form's description is
prefilled from the citizen's finals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from accounts_support import browser_login
from acd_support import Phone
from helpers import until
from playwright.async_api import expect

from callcenter.infra.outbox import write_with_event
from callcenter.transcription.publisher import topic

pytestmark = pytest.mark.asterisk

INSERT = ("INSERT INTO transcript_segments(call_id, leg, seq, start_s, end_s, text, words, status, deferred)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")


def utterance(call_id: str, kind: str, leg: str, seq: int, start: float, end: float, text: str) -> dict:
    return {"type": kind, "call_id": call_id, "leg": leg, "speaker": "市民" if leg == "citizen" else "坐席",
            "seq": seq, "start": start, "end": end, "text": text, "words": [], "deferred": False, "status": "ok"}


async def publish(pool, doc: dict) -> None:
    """As the transcription publisher: a final is stored and published, anything else only published."""
    if doc.get("type") == "final":
        await write_with_event(pool, [INSERT], [doc["call_id"], doc["leg"], doc["seq"], doc["start"], doc["end"],
                                               doc["text"], doc["words"], doc["status"], doc["deferred"]],
                               topic(doc["call_id"]), doc)
    else:
        await write_with_event(pool, [], [], topic(doc["call_id"]), doc)


def status(call_id: str, available: bool) -> dict:
    return {"type": "status", "call_id": call_id, "available": available,
            "text": "" if available else "转写不可用", "reason": "" if available else "test"}


async def test_agent_desktop_live_transcript(stack, settings, pool, browser_page):
    page, phone = browser_page, Phone(stack)
    base = f"http://127.0.0.1:{settings.http_port}"
    now = datetime.now(UTC)
    seat = next(s.id for s in phone.acd.roster.seats if phone.acd.roster.is_on_shift(s, now))
    await phone.agent_mode(seat, "answer")
    await browser_login(page, base, pool, "agent:1001", f"/agent?seat={seat}")
    await expect(page.locator("#live")).to_have_text("实时")
    await page.click("#btn-login")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")
    await expect(page.locator("#transcript")).to_contain_text("接通来电后显示通话转写")

    call = await phone.call(caller="13812345678", queue="general")
    await until(lambda: phone.acd.calls.get(call) and phone.acd.calls[call].state == "bridged", what="bridged")
    await expect(page.locator("#caller")).to_have_attribute("data-call-id", call)
    box, note = page.locator("#transcript"), page.locator("#transcript-status")
    badge = page.locator("#call-transcription")  # beside the call
    # the test stack runs with transcription switched off: the controller says so for this call,
    # over the desk's socket, and the page shows it beside the call and above the transcript
    told = await until(lambda: pool.fetchrow("SELECT payload FROM outbox WHERE topic = $1", f"calls/{call}/transcript"),
                       what="the call's transcription status")
    assert told["payload"]["available"] is False and "switched off" in told["payload"]["reason"]
    await expect(note).to_have_text("转写不可用")
    await expect(badge).to_have_text("转写不可用")
    await publish(pool, status(call, True))
    await expect(note).to_have_text("")
    await expect(badge).to_have_text("转写中")
    await expect(box).to_contain_text("暂无转写内容")

    # a partial of the citizen: the current line, greyed; then its final replaces it
    await publish(pool, utterance(call, "partial", "citizen", 0, 0.4, 1.6, "我要反映<b>噪音</b>"))
    partial = box.locator(".line.partial[data-leg='citizen']")
    await expect(partial).to_have_text("市民：我要反映<b>噪音</b>")  # escaped, not markup
    assert await box.locator("b").count() == 0
    # at the early end of the utterance its text so far, provisional: plain, in the partial's place
    await publish(pool, utterance(call, "provisional", "citizen", 0, 0.4, 2.7, "我要反映施工噪音"))
    provisional = box.locator(".line.provisional[data-leg='citizen']")
    await expect(provisional).to_have_text("市民：我要反映施工噪音")
    await expect(box.locator(".line.partial")).to_have_count(0)
    await publish(pool, utterance(call, "final", "citizen", 0, 0.4, 2.9, "我要反映夜间施工噪音"))
    await expect(provisional).to_have_count(0)
    await publish(pool, utterance(call, "partial", "agent", 0, 3.1, 3.8, "好的请"))
    await expect(box.locator(".line.partial")).to_have_text(["坐席：好的请"])
    await publish(pool, utterance(call, "final", "agent", 0, 3.1, 5.0, "好的，请问具体地址在哪里"))
    lines = box.locator(".line")
    expected = ["市民：我要反映夜间施工噪音", "坐席：好的，请问具体地址在哪里"]
    await expect(lines).to_have_text(expected)
    await expect(box.locator(".line.partial")).to_have_count(0)
    await expect(box.locator(".line.agent")).to_have_text(["坐席：好的，请问具体地址在哪里"])

    # the ticket form's description, prefilled from what the citizen said (not the agent)
    await page.click("#t-prefill")
    await expect(page.locator("#t-description")).to_have_value("我要反映夜间施工噪音")

    # reloading during the call: the stored finals come back from GET /api/calls/{id}/transcript
    await page.reload()
    await expect(page.locator("#caller")).to_have_attribute("data-call-id", call)
    await expect(lines).to_have_text(expected)

    # transcription goes away for this call
    await publish(pool, status(call, True))
    await expect(note).to_have_text("")
    await publish(pool, status(call, False))
    await expect(note).to_have_text("转写不可用")
    await expect(badge).to_have_text("转写不可用")
    await expect(lines).to_have_text(expected)
    await phone.hangup(call)
    await expect(page.locator("#state")).to_have_attribute("data-state", "wrap_up")
