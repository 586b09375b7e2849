"""Each page a person works in, in headless Chromium (#25 item 6): /board, /agent, /dept,
/dispatch, /admin, /knowledge, /qa and a call's page /calls/{id} show no raw department code (``market``) and no English status word
(``available``, ``dispatched``…) where a person reads, and load no resource that answers 404
(the favicon among them); a page with a live feed gets it (the supervisor's view of a desk once
stayed on 连接中… for ever); the admin's dispatch rules and IVR blacklist are walked too. Visible text only: ``<code>`` cells (the admin's department codes) and
form fields (the dispatch rules' JSON) are for the one editing them."""

from __future__ import annotations

import asyncio
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from accounts_support import browser_login
from acd_support import Phone
from playwright.async_api import expect

from callcenter.app import PLUGINS

pytestmark = pytest.mark.asterisk

PKG = Path(__file__).resolve().parents[2] / "callcenter"
STATUS_GROUPS = ("state", "pause", "callState", "disposition", "status")
VISIBLE_TEXT = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest("code, textarea, script, style, option") || !el.checkVisibility()) continue;
    if (n.textContent.trim()) out.push(n.textContent.trim());
  }
  return out.join(" | ");
}"""


def _codes() -> set[str]:
    doc = yaml.safe_load((PKG / "dispatch" / "data" / "catalogue.yaml").read_text(encoding="utf-8"))
    return {d["code"] for d in doc["departments"]}


def _status_words() -> set[str]:
    js = (PKG / "web" / "static" / "common.js").read_text(encoding="utf-8")
    words: set[str] = set()
    for group in STATUS_GROUPS:
        body = re.search(rf"\b{group}: \{{(.*?)\}}", js, re.S)
        assert body, group
        words |= set(re.findall(r"(\w+): \"", body.group(1)))
    return words


FORBIDDEN = re.compile(r"(?<![\w/?=&.-])(" + "|".join(sorted(_codes() | _status_words(), key=len, reverse=True))
                       + r")(?![\w/-]|\.\w)")  # market.zhang: an account name


async def _filed_ticket(logins) -> str:
    async with await logins.client("agent:1009") as http:
        async with http.post("/api/tickets", json={
                "kind": "投诉", "description": "超市出售过期食品，要求市场监管部门查处", "caller_phone": "13812340000",
                "category": "食品安全"}) as resp:
            assert resp.status == 201, await resp.text()
            return (await resp.json())["number"]


async def _recorded_call(pool, root: Path, call_id: str) -> None:
    """A stored recording of a call with a transcript line (the call page and the QA queue show it)."""
    now = datetime.now(UTC)
    key = f"{now:%Y/%m/%d}/{call_id}-1.ogg"
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(subprocess.run, ["sox", "-n", "-r", "8000", "-c", "2", str(root / key), "synth", "2",
                                             "sine", "440"], check=True)
    await pool.execute("INSERT INTO calls (call_id, caller, entered_at, agent_id) VALUES ($1, '13800000001', $2, '1001')",
                       call_id, now)
    await pool.execute(
        "INSERT INTO recordings (call_id, part, caller_leg, agent_leg, agent_id, seat_id, state, started_at, ended_at,"
        " duration_s, bytes, sha256, format, storage_key) VALUES ($1, 1, $1, $1 || '-a', '1001', 'seat01', 'stored',"
        " $2::timestamptz, $2::timestamptz + interval '2 s', 2, 1, repeat('0', 64), 'ogg', $3)", call_id, now, key)
    await pool.execute("INSERT INTO transcript_segments(call_id, leg, seq, start_s, end_s, text, status)"
                       " VALUES ($1, 'agent', 1, 0.2, 1.5, '您好，12345 热线', 'ok')", call_id)


async def test_pages_show_names_and_load_no_missing_resource(stack, settings, pool, browser_page, logins):
    page, phone = browser_page, Phone(stack)
    base = f"http://127.0.0.1:{settings.http_port}"
    await _filed_ticket(logins)
    async with await logins.client("admin:root") as http:  # the admin's blacklist panel has a row
        async with http.post("/api/ivr/blacklist", json={"number": "13955556666", "reason": "恶意骚扰"}) as resp:
            assert resp.status == 201, await resp.text()
    knowledge = stack[PLUGINS].knowledge  # the sample articles on /knowledge: units by name, statuses in Chinese
    async with pool.acquire() as conn:
        await knowledge.seed(conn, None)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    seat = next(s.id for s in phone.acd.roster.seats if phone.acd.roster.is_on_shift(s, datetime.now(UTC)))
    await _recorded_call(pool, settings.recordings_dir, "c-walk")
    walks = [("supervisor:li", "/board", "#live"), ("supervisor:li", f"/agent?agent=1001&seat={seat}", "#state"),
             ("supervisor:li", "/dispatch", "body"), ("dept:market:zhang", "/dept", "#dept-name"),
             ("admin:root", "/admin", "#audit tbody tr"), ("admin:root", "/admin", "#blacklist tr[data-blocked]"),
             ("admin:root", "/admin", "#rules-table tbody tr"), ("kb:wang", "/knowledge", "#articles tbody tr"),
             ("qa:zhou", "/qa", "#queue tr"), ("qa:zhou", "/calls/c-walk", "#quality-items tr")]
    found: dict[str, list[str]] = {}
    for actor, url, ready in walks:
        await page.context.clear_cookies()
        await browser_login(page, base, pool, actor, url)
        await expect(page.locator(ready).first).to_be_visible()
        if await page.locator("#live").count():
            await expect(page.locator("#live")).to_have_text("实时")
        await page.wait_for_load_state("networkidle")
        # headless Chromium fetches no favicon; a windowed one does: the page's icon, else /favicon.ico
        icon = await page.evaluate("() => (document.querySelector('link[rel~=icon]') || {}).href || '/favicon.ico'")
        if (await page.request.get(icon if icon.startswith("http") else base + icon)).status == 404:
            missing.append(f"{url}: {icon}")
        text = await page.evaluate(VISIBLE_TEXT)
        if hits := sorted({text[max(0, m.start() - 30):m.end() + 30] for m in FORBIDDEN.finditer(text)}):
            found[url] = hits
    assert not missing, f"404 for a resource the page loads: {missing}"
    assert not found, f"raw codes / English status words where a person reads: {found}"
