"""Supervisor live queue board in a real headless Chromium against the whole running app.

A citizen call waits, shows up on the board with its masked number and a ticking wait, then
an agent logs in, takes it, hangs up and pauses: each change must reach the page live over
the WebSocket (MQTT event -> hub -> snapshot push), checked on the DOM, never with sleeps.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from accounts_support import browser_login
from acd_support import Phone
from playwright.async_api import expect

from callcenter.acd.agents import AgentState
from callcenter.app import PLUGINS

pytestmark = pytest.mark.asterisk

VIEWPORT = {"width": 1600, "height": 1000}
SCREENSHOT = "/tmp/callcenter-board.png"


def base(settings) -> str:
    return f"http://127.0.0.1:{settings.http_port}"


async def test_board_shows_waiting_call_and_agent_changes_live(stack, settings, pool, browser_page):
    page, phone = browser_page, Phone(stack)
    await browser_login(page, base(settings), pool, "supervisor:li", "/board")
    await expect(page.locator("#live")).to_have_text("实时")
    kpis = page.locator("[data-testid=kpis]")
    await expect(kpis.locator("[data-kpi=answer_rate]")).to_contain_text("人工接通率")
    await expect(kpis.locator("[data-kpi=answer_rate]")).to_contain_text("目标 ≥95%")
    await expect(kpis.locator("[data-kpi=timely_rate]")).to_contain_text("应答及时率")
    await expect(kpis.locator("[data-kpi=timely_rate]")).to_contain_text("目标 ≥80%")
    await expect(kpis.locator("[data-kpi=missed_callback_rate]")).to_contain_text("漏话回拨率")
    await expect(kpis.locator("[data-kpi=missed_callback_rate] .value")).to_have_text("—")  # none eligible yet
    await expect(page.locator("[data-figure=overdue]")).to_have_text("0")

    # a citizen waits: no agent is logged in
    call = await phone.call(caller="13912345678")
    row = page.locator(f"[data-queue=general] [data-call-id={call}]")
    await expect(row).to_contain_text("139****5678")
    await expect(row.locator("td").first).to_have_text("1")  # position in its queue
    await expect(row.locator(".wait")).to_have_text(re.compile(r"^00:0[1-9]$"))  # the wait ticks
    await expect(page.locator("body")).not_to_contain_text("13912345678")  # the board never shows it in full

    # the supervisor moves it to the market queue with priority 3: it keeps its wait
    await row.locator("button[data-move]").click()
    form = page.locator("[data-queue=general] .move-form")
    await form.locator(".mv-queue").select_option("market")
    await form.locator(".mv-prio").select_option("3")
    await form.locator(".mv-ok").click()
    row = page.locator(f"[data-queue=market] [data-call-id={call}]")
    await expect(row).to_contain_text("优先 3")
    assert (phone.acd.book.get(call).queue, phone.acd.book.get(call).priority) == ("market", 3)

    # an agent logs in and takes it: the row leaves the queue, the agent tile shows the call
    await phone.login("1001", "seat01")
    tile = page.locator("[data-agent-id='1001']")
    await expect(tile).to_have_attribute("data-state", "on_call")
    await expect(tile).to_contain_text("通话中")
    await expect(tile).to_contain_text("139****5678")
    await expect(row).to_have_count(0)
    team = phone.agent("1001").team
    await expect(page.locator(f"[data-team={team}]")).to_contain_text("在线 1/5")

    # the call ends: wrap-up, then the KPI figures count it
    await phone.hangup(call)
    await expect(tile).to_have_attribute("data-state", "wrap_up")
    await expect(kpis.locator("[data-kpi=inbound] .value")).to_have_text("1")
    await expect(kpis.locator("[data-kpi=answer_rate] .value")).to_have_text("100.0%")

    # a state change reaches the page within a fraction of a second
    started = time.monotonic()
    await phone.acd.pause("1001", "meal")
    await expect(tile).to_have_attribute("data-state", "paused", timeout=3000)
    assert time.monotonic() - started < 1.5
    await expect(tile).to_contain_text("小休（用餐）")
    assert phone.agent("1001").state is AgentState.PAUSED

    # a repeat caller waits with priority while the only agent is paused
    second = await phone.call(caller="13600001111", priority=5)
    row2 = page.locator(f"[data-call-id={second}]")
    await expect(row2).to_contain_text("优先 5")
    await expect(row2.locator(".wait")).to_have_text(re.compile(r"^00:0[1-9]$"))

    # the first caller's rating of 1001 (坐席服务评价) shows on the team's line, live
    ratings = page.locator("[data-testid=ratings]")
    await expect(ratings).to_contain_text("今日暂无评价")
    store = stack[PLUGINS].surveys.service.get().store
    await store.record_rating(call, agent_id="1001", seat_id="seat01", team=team, rating="不满意", digit="4",
                              at=datetime.now(UTC))
    await expect(ratings.locator(f"[data-rating-team={team}] [data-figure=satisfaction]")).to_have_text("0.0%")
    await expect(ratings.locator(f"[data-rating-team={team}] [data-figure=rated]")).to_have_text("1")
    await page.screenshot(path=SCREENSHOT, full_page=True)


async def test_board_snapshot_json(stack, settings, logins):
    phone = Phone(stack)
    await phone.login("1002", "seat02")
    async with await logins.client("supervisor:li") as http:
        async with http.get("/api/board/snapshot") as resp:
            assert resp.status == 200
            snap = await resp.json()
        async with http.get("/api/callers/abc/history") as resp:
            assert resp.status == 422
    assert snap["type"] == "board" and snap["source"] == "acd"
    assert {q["name"] for q in snap["queues"]} >= {"general", "market"}
    agents = {a["agent_id"]: a for t in snap["teams"] for a in t["agents"]}
    assert agents["1002"]["state"] == "available" and agents["1002"]["seat_id"] == "seat02"
    assert [t["team"] for t in snap["teams"]] == ["A", "B", "C", "D"]
    assert snap["kpi"]["answer_rate_target"] == 0.95 and snap["kpi"]["timely_rate_target"] == 0.8
    assert snap["kpi"]["inbound"] == 0 and snap["kpi"]["answer_rate"] is None
    assert snap["tickets"]["overdue"] == 0
    assert snap["ratings"]["offered"] == 0 and snap["ratings"]["teams"] == []
    assert (snap["callbacks"]["rate"], snap["callbacks"]["eligible"], snap["callbacks"]["reached"]) == (None, 0, 0)


async def test_board_confirms_an_incidents_announcement(stack, settings, pool, browser_page):
    """The detector's incident is rendered but not spoken until a supervisor confirms it on the
    board's 热点诉求 panel (an automatic detection may be a false alarm)."""
    page = browser_page
    iid = await pool.fetchval(
        "INSERT INTO dispatch_incidents (district, title, keywords, master_ref, opened_at, prompt_text, prompt, prompt_s)"
        " VALUES ('西区', '西区：停水（8件）', '{停水}', 'PZH-20261128-000001', now(), '如果您反映西区停水问题请按1',"
        " 'incident_0123456789abcdef', 3.2) RETURNING id")
    await browser_login(page, base(settings), pool, "supervisor:li", "/board")
    incident = page.locator(f"#incidents [data-incident='{iid}']")
    await expect(incident.locator("[data-announce-state]")).to_have_text("待确认播报")
    await expect(incident).to_contain_text("如果您反映西区停水问题请按1")
    await incident.locator("button[data-announce]").click()
    await expect(incident.locator("[data-announce-state]")).to_have_text("语音播报中")
    assert await pool.fetchval("SELECT announce FROM dispatch_incidents WHERE id = $1", iid) is True
    await incident.locator("button[data-announce]").click()  # 停止播报
    await expect(incident.locator("[data-announce-state]")).to_have_text("待确认播报")  # back to unconfirmed
    await expect(incident.locator("button[data-announce]")).to_have_text("确认播报")
    assert await pool.fetchval("SELECT announce FROM dispatch_incidents WHERE id = $1", iid) is False
