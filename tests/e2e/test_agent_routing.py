"""The agent desktop shows what dispatch decided and why, in a real headless Chromium against
the whole running app with a dispatch model in force: while the request is typed, the proposed
unit with the words of the request that drove it; once filed, the decision stored with the
ticket (model, rules or the hall) and its candidates."""

from __future__ import annotations

import pytest
from accounts_support import browser_login
from dispatch_support import corpus_of
from playwright.async_api import expect

from callcenter.app import PLUGINS
from callcenter.dispatch import store
from callcenter.dispatch.corpus import Corpus
from callcenter.dispatch.training import fit

pytestmark = pytest.mark.asterisk

VIEWPORT = {"width": 1400, "height": 1100}
SCREENSHOT = "/tmp/callcenter-agent-routing.png"
UNITS = {"water", "power", "gas", "market", "housing_fund", "education"}


def small_corpus() -> Corpus:
    """The real corpus cut to six units: training takes a fraction of a second."""
    return corpus_of(UNITS)


async def test_desktop_shows_the_proposal_and_the_filed_decision_with_their_words(stack, settings, pool,
                                                                                 browser_page):
    corpus = small_corpus()
    model, metrics = fit(corpus.train, corpus.heldout, folds=3, vague=corpus.vague)
    async with pool.acquire() as conn:
        await store.save_model(conn, model, metrics, "test")
    await stack[PLUGINS].dispatch.service.get().refresh()  # the app's service takes the model in force

    page = browser_page
    await browser_login(page, f"http://127.0.0.1:{settings.http_port}", pool, "agent:1001", "/agent")
    box = page.locator("#t-routing")
    await expect(box).to_be_hidden()

    # typing: the proposal, with the phrases of the request's own text behind the best unit
    await page.select_option("#t-kind", "help")
    await page.fill("#t-description", "喂，我们小区停水两天了，自来水一直没来，啥时候来水嘛")
    await expect(box).to_have_attribute("data-state", "proposal")
    best = box.locator(".candidates li.best")
    await expect(best).to_have_attribute("data-unit", "water")
    await expect(best).to_contain_text("水务公司")
    await expect(best.locator(".chip").first).to_contain_text("水")

    # filed: the decision stored with the ticket, as the API returned it
    await page.click("#t-submit")
    await expect(page.locator("#t-msg")).to_contain_text("工单号")
    await expect(box).to_have_attribute("data-state", "filed")
    number = await page.locator("#t-msg").get_attribute("data-ticket")
    routing = await pool.fetchval("SELECT routing FROM tickets WHERE number = $1", number)
    doc = routing if isinstance(routing, dict) else __import__("json").loads(routing)
    learned = doc["learned"]
    head = box.locator(".routing-head")
    await expect(head).to_have_attribute("data-decided-by", learned["decided_by"])
    await expect(head).to_contain_text("转人工派单" if doc["needs_human"] else "已派往")
    await expect(box.locator(".candidates li")).to_have_count(len(learned["candidates"]))
    await expect(box.locator(".candidates li.best")).to_have_attribute("data-unit", learned["candidates"][0]["department"])
    await page.screenshot(path=SCREENSHOT, full_page=True)
