"""Quality figures and the hall's word lists in real headless Chromium (issue 21): after two
reviews, /qa shows the figures per team, the fatal items and the appeals; a supervisor edits
服务禁语 there (saved, audited) while an inspector reads it only; the board's 质检 panel shows
this week's average and fatal hits per team."""

from __future__ import annotations

import pytest
from accounts_support import Sessions, browser_login
from playwright.async_api import expect
from quality_support import CLEAN, FORBIDDEN, call, recorded

pytestmark = pytest.mark.timeout(120)


async def test_quality_figures_on_qa_and_the_board_and_the_word_list_edited(stack, settings, pool, browser_page):
    page, base = browser_page, f"http://127.0.0.1:{settings.http_port}"
    await recorded(pool, settings.recordings_dir, "c-e1", "1001", FORBIDDEN, seat="seat01")  # team A: 不归我们管
    await recorded(pool, settings.recordings_dir, "c-e2", "1002", CLEAN, seat="seat06")  # team B
    s = Sessions(pool, base)
    for call_id in ("c-e1", "c-e2"):
        status, doc = await call(s, "qa:zhou", "POST", f"/api/calls/{call_id}/qa-reviews", {"marks": {"attitude": True}})
        assert status == 201, doc
    assert (await call(s, "agent:1001", "POST", "/api/calls/c-e1/qa-appeal", {"reason": "是复述市民的话"}))[0] == 201

    # the inspector reads the lists, cannot save them
    await browser_login(page, base, pool, "qa:zhou", "/qa")
    forbidden = page.locator("[data-list='forbidden_words']")
    await expect(forbidden.locator("textarea")).to_have_attribute("readonly", "")
    await expect(forbidden.locator("button")).to_have_count(0)

    # the supervisor: figures per team, the fatal item, the appeal; edits 服务禁语
    await page.context.clear_cookies()
    await browser_login(page, base, pool, "supervisor:li", "/qa")
    await expect(page.locator("[data-figure-team='A'] td").nth(4)).to_have_text("1")  # one fatal hit
    await expect(page.locator("[data-figure-team='B']")).to_be_visible()
    await expect(page.get_by_test_id("fatal-items")).to_contain_text("服务禁语 1 次")
    await expect(page.get_by_test_id("appeal-outcomes")).to_contain_text("待裁决 1")
    area = page.locator("[data-list='forbidden_words'] textarea")
    await area.fill((await area.input_value()) + "\n让你等着")
    await page.locator("[data-save='forbidden_words']").click()
    await expect(page.locator("[data-list='forbidden_words'] [data-said]")).to_have_text("已保存：新增 1，删除 0")
    row = await pool.fetchrow("SELECT actor, details FROM audit_log WHERE action='qa_word_list_changed'")
    assert row["actor"] == "li" and row["details"]["added"] == ["让你等着"]
    assert "让你等着" in await pool.fetchval("SELECT words FROM qa_word_lists WHERE name='forbidden_words'")

    # the board's 质检 panel: this week, per team and in total
    await page.goto(f"{base}/board")
    panel = page.get_by_test_id("quality")
    await expect(panel.locator("[data-quality-team='*'] [data-figure='qa-reviewed']")).to_have_text("2")
    await expect(panel.locator("[data-quality-team='A'] [data-figure='qa-fatal']")).to_have_text("1")
    await expect(panel.locator("[data-quality-team='A'] [data-figure='qa-average']")).to_have_text("0")
    await expect(panel.locator("[data-quality-team='B'] [data-figure='qa-fatal']")).to_have_text("0")
    await expect(panel.get_by_test_id("qa-appeals")).to_contain_text("待裁决 1")
