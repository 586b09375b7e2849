"""The 知识库 page in a real headless Chromium: a department handler writes an article for its own
unit (the unit is fixed to it) and submits it; a 知识库 editor opens it, publishes it, and the
version history names who did what; the desk's search then finds it."""

from __future__ import annotations

import pytest
from accounts_support import browser_login
from playwright.async_api import expect

pytestmark = pytest.mark.asterisk


async def test_a_department_writes_and_a_reviewer_publishes_on_the_page(stack, settings, pool, browser_page, logins):
    page, base = browser_page, f"http://127.0.0.1:{settings.http_port}"
    await browser_login(page, base, pool, "dept:water:li", "/knowledge")
    await expect(page.locator("#replies-empty")).to_be_visible()  # no enquiry replied to yet
    await expect(page.locator("#scope")).to_contain_text("水务公司")
    await page.click("#btn-new")
    await expect(page.locator("#a-unit option")).to_have_count(1)  # its own unit only
    await page.fill("#a-title", "二次供水水箱多久清洗一次")
    await page.fill("#a-questions", "我们小区水箱好久洗一次\n二次供水水箱清洗")
    await page.fill("#a-answer", "二次供水水箱每半年至少清洗消毒一次，清洗前物业会提前公告停水。")
    await page.fill("#a-category", "二次供水")
    await page.click("#a-save")
    await expect(page.locator("#a-msg")).to_contain_text("已保存（第1版，草稿）")
    row = page.locator("#articles tbody tr").first
    ident = await row.get_attribute("data-article")
    await expect(page.locator("#a-publish")).to_be_hidden()  # not a reviewer
    await expect(page.locator("#gaps-panel")).to_be_hidden()
    await page.click("#a-submit")
    await expect(page.locator("#a-msg")).to_contain_text("待审核")

    await page.context.clear_cookies()
    await browser_login(page, base, pool, "kb:wang", "/knowledge")
    await expect(page.locator("#gaps-panel")).to_be_visible()  # 知识缺口, for reviewers
    await page.select_option("#f-status", "under_review")
    await page.click(f"#articles button[data-open='{ident}']")
    await page.click("#a-publish")
    await expect(page.locator("#a-msg")).to_contain_text("已发布")
    await expect(page.locator("#versions tbody tr")).to_have_count(3)
    await expect(page.locator("#versions tbody tr").last).to_contain_text("审核发布")
    await expect(page.locator("#versions tbody tr").last).to_contain_text("知识库编辑 wang")
    await expect(page.locator("#versions tbody tr").first).to_contain_text("水务公司 li")  # not dept:water:li

    # a department's reply to a dispatched enquiry, proposed as a draft of its unit
    async with await logins.client("supervisor:li") as boss, await logins.client("dept:water:li") as water:
        async with boss.post("/api/tickets", json={"kind": "enquiry", "description": "市民咨询水费发票怎么开",
                                                   "category": "水费", "lead": "water"}) as r:
            number = (await r.json())["number"]
        for action, body in (("acknowledge", {}), ("reply", {"reply": "可以在攀枝花水务公众号上开具电子发票。"})):
            async with water.post(f"/api/tickets/{number}/{action}", json=body) as r:
                assert r.status == 200, await r.text()
    await page.context.clear_cookies()
    await browser_login(page, base, pool, "dept:water:li", "/knowledge")
    await page.click(f"#replies button[data-propose='{number}']")
    await expect(page.locator("#a-msg")).to_contain_text(f"已根据工单 {number} 的办结回复生成草稿")
    await expect(page.locator("#a-answer")).to_have_value("可以在攀枝花水务公众号上开具电子发票。")

    agent = await logins.client("agent:1001")
    async with agent:
        async with agent.get("/api/knowledge/search", params={"q": "小区水箱好久洗一次"}) as r:
            assert (await r.json())["items"][0]["id"] == ident
