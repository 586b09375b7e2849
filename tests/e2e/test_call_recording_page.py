"""The call's page in real headless Chromium (issue 21): a quality inspector opens a recorded
call, the <audio> element plays it (its own `playing` event), a click on a transcript line seeks
the player there and that line is highlighted while it plays; the playback is in the audit log.
An agent opening another agent's call sees the server's reason instead of a player."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime

import pytest
from accounts_support import browser_login
from playwright.async_api import expect

pytestmark = pytest.mark.timeout(90)

LINES = [("agent", 1, 0.5, 2.5, "您好，12345 热线"), ("citizen", 1, 3.0, 5.5, "我家楼下路灯坏了"),
         ("agent", 2, 7.0, 9.0, "您反映的是楼下路灯坏了")]


def _ogg(path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "2", str(path), "synth", "12", "sine", "440"], check=True)
    return path.stat().st_size


async def _recorded_call(pool, root, call_id: str) -> None:
    now = datetime.now(UTC)
    key = f"{now:%Y/%m/%d}/{call_id}-1.ogg"
    size = _ogg(root / key)
    await pool.execute("INSERT INTO calls (call_id, caller, entered_at, agent_id) VALUES ($1, '13800000001', $2, '1001')",
                       call_id, now)
    await pool.execute(
        "INSERT INTO recordings (call_id, part, caller_leg, agent_leg, agent_id, seat_id, state, started_at,"
        " ended_at, duration_s, bytes, sha256, format, storage_key) VALUES ($1, 1, $1, $1 || '-a', '1001', 'seat01',"
        " 'stored', $2::timestamptz, $2::timestamptz + interval '12 s', 12, $3, repeat('0', 64), 'ogg', $4)",
        call_id, now, size, key)
    for leg, seq, start, end, text in LINES:
        await pool.execute("INSERT INTO transcript_segments(call_id, leg, seq, start_s, end_s, text, status)"
                           " VALUES ($1, $2, $3, $4, $5, $6, 'ok')", call_id, leg, seq, start, end, text)


async def test_an_inspector_plays_a_call_and_seeks_by_clicking_a_line(stack, settings, pool, browser_page):
    await _recorded_call(pool, settings.recordings_dir, "c-page")
    page = browser_page
    await browser_login(page, f"http://127.0.0.1:{settings.http_port}", pool, "qa:zhou", "/calls/c-page")
    await expect(page.get_by_test_id("parts")).to_contain_text("第 1 段")
    await expect(page.get_by_test_id("parts")).to_contain_text("坐席 1001")
    lines = page.locator("#lines li")
    await expect(lines).to_have_count(3)
    await expect(lines.nth(1)).to_contain_text("市民")
    await lines.nth(2).click()  # 00:07 坐席 您反映的是…
    state = page.get_by_test_id("player-state")
    await expect(state).to_have_attribute("data-state", "playing", timeout=15000)
    at = await page.evaluate("document.getElementById('player').currentTime")
    assert 7.0 <= at < 11.0, at
    await expect(lines.nth(2)).to_have_class("current", timeout=5000)
    await expect(lines.nth(0)).not_to_have_class("current")
    # the automatic checks beside it: the opening and the restatement found, a click on the evidence seeks
    quality = page.get_by_test_id("quality")
    await expect(quality.locator("tr[data-item='opening'] [data-result]")).to_have_text(re.compile("^通过"))
    await expect(quality.locator("tr[data-item='restatement'] [data-result]")).to_have_text(re.compile("^通过"))
    await expect(quality.locator("tr[data-item='closing'] [data-result]")).to_have_text(re.compile("^未通过"))
    await expect(quality.locator("tr[data-item='attitude'] [data-result]")).to_have_text("待质检员评分")
    await quality.locator("tr[data-item='opening'] button").first.click()
    await page.wait_for_function("document.getElementById('player').currentTime < 3")
    played = await pool.fetchval("SELECT count(*) FROM audit_log WHERE action='recording_played' AND target='c-page'"
                                 " AND actor='qa:zhou'")
    assert played >= 1


async def test_another_agent_sees_why_not(stack, settings, pool, browser_page):
    await _recorded_call(pool, settings.recordings_dir, "c-not-yours")
    page = browser_page
    await browser_login(page, f"http://127.0.0.1:{settings.http_port}", pool, "agent:1002", "/calls/c-not-yours")
    await expect(page.get_by_test_id("error")).to_contain_text("不能收听本通话")
    await expect(page.get_by_test_id("error")).to_contain_text("own calls")
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action='recording_played'") == 0


async def test_inspector_reviews_the_agent_appeals_the_supervisor_decides(stack, settings, pool, browser_page):
    await _recorded_call(pool, settings.recordings_dir, "c-flow")
    page = browser_page
    base = f"http://127.0.0.1:{settings.http_port}"
    # the inspector: the queue on /qa, the call from there, play, score, submit
    await browser_login(page, base, pool, "qa:zhou", "/qa")
    row = page.locator("[data-call-row='c-flow']")
    await expect(row).to_contain_text("抽检")
    await row.locator("a").click()
    await page.wait_for_url(f"{base}/calls/c-flow")
    await page.locator("#lines li").nth(1).click()
    await expect(page.get_by_test_id("player-state")).to_have_attribute("data-state", "playing", timeout=15000)
    await page.select_option("[data-mark='attitude']", "true")
    await page.fill("#review-comment", "开头规范，结束语缺失")
    await page.click("#btn-review")
    await expect(page.get_by_test_id("review-list")).to_contain_text("第 1 版")
    await expect(page.get_by_test_id("review-list")).to_contain_text("开头规范")
    # the agent sees the result on the desk and on the call's page, and appeals, once
    await page.context.clear_cookies()
    await browser_login(page, base, pool, "agent:1001", "/agent?seat=seat01")
    await expect(page.locator("[data-qa-call='c-flow']")).to_contain_text("85合格")  # 结束语 missing: -10, 通话时长 too short: -5
    await page.goto(f"{base}/calls/c-flow")
    await expect(page.get_by_test_id("review-list")).to_contain_text("第 1 版")
    await page.fill("#appeal-reason", "结束时说了感谢您的来电")
    await page.click("#btn-appeal")
    await expect(page.get_by_test_id("appeal-state")).to_contain_text("待班长裁决")
    await expect(page.locator("#appeal-form")).to_be_hidden()
    # the supervisor decides from /qa
    await page.context.clear_cookies()
    await browser_login(page, base, pool, "supervisor:li", "/qa")
    await page.locator("[data-appeal] a").click()
    await page.wait_for_url(f"{base}/calls/c-flow")
    await page.fill("#decide-note", "复听属实")
    await page.click("#btn-upheld")
    await expect(page.get_by_test_id("appeal-state")).to_contain_text("申诉成立")
    row = await pool.fetchrow("SELECT decision, decided_by FROM qa_appeals WHERE call_id='c-flow'")
    assert (row["decision"], row["decided_by"]) == ("upheld", "supervisor:li")


async def test_the_board_says_where_recordings_are_and_who_hears_them_and_the_page_lists_a_barge(
        stack, settings, pool, browser_page):
    await _recorded_call(pool, settings.recordings_dir, "c-barged")
    await pool.execute("UPDATE recordings SET voices = $2 WHERE call_id = $1", "c-barged",
                       [{"name": "rec-svab12-1-c-barged", "mode": "barge", "by": "supervisor:li", "seat": "seat20",
                         "offset_s": 4.2}])
    page = browser_page
    base = f"http://127.0.0.1:{settings.http_port}"
    await browser_login(page, base, pool, "supervisor:li", "/board")
    where = page.get_by_test_id("recording-where")
    await expect(where).to_contain_text(str(settings.recordings_dir))
    await expect(where).to_contain_text("保存 180 天")
    await expect(page.get_by_test_id("recording").get_by_test_id("recording-who")).to_contain_text(
        "坐席只可听本人接听的通话")
    await page.goto(f"{base}/calls/c-barged")
    await expect(page.get_by_test_id("parts")).to_contain_text("班长强插 00:04起")
