"""Text that citizens, agents, departments or anonymous visitors can put in front of the hall's
pages stays text, in a real headless Chromium: a ticket's description, category and address, a
department's name and its reason for returning a ticket (退单, on the dispatch desk), an audited
request's path in the audit log, an incident's district and summary, a caller's earlier ticket, the live
transcript and, on the department's workbench, the stored transcript of the ticket's call. Each is
`<img src=x onerror=...>`: the page shows it literally, no <img> appears, and no script runs.
The pages also carry a strict Content-Security-Policy (own scripts only): markup injected
anyway runs no inline handler, and the pages themselves need none."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import aiohttp
import pytest
from accounts_support import browser_login
from acd_support import Phone
from helpers import until
from playwright.async_api import expect

from callcenter.infra.outbox import write_with_event
from callcenter.transcription.publisher import topic

pytestmark = pytest.mark.asterisk

EVIL = '<img src=x onerror="window.__xss=1">'
CALLER = "13812340099"
INSERT = ("INSERT INTO transcript_segments(call_id, leg, seq, start_s, end_s, text, words, status, deferred)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7, 'ok', false)")


async def say(pool, call_id: str, kind: str, seq: int, start: float, text: str) -> None:
    """A citizen's partial (published) or final (stored and published), as the transcriber does."""
    doc = {"type": kind, "call_id": call_id, "leg": "citizen", "speaker": "市民", "seq": seq, "start": start,
           "end": start + 1, "text": text, "words": [], "deferred": False, "status": "ok"}
    stored = [INSERT] if kind == "final" else []
    args = [call_id, "citizen", seq, start, start + 1, text, []] if stored else []
    await write_with_event(pool, stored, args, topic(call_id), doc)


def watch(page, seen: list[str]) -> None:
    """CSP violations the page's own code causes show up as console messages."""
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)


async def clean(page, box: str) -> None:
    """The hostile text is shown as text inside ``box``; no markup came of it, no script ran."""
    await expect(page.locator(box)).to_contain_text(EVIL)
    assert await page.locator(f"{box} img").count() == 0
    assert await page.evaluate("window.__xss") is None


async def test_hostile_text_stays_text_on_dept_admin_board_dispatch_and_routing(stack, settings, pool,
                                                                                 browser_page, logins):
    page, base = browser_page, f"http://127.0.0.1:{settings.http_port}"
    csp: list[str] = []
    watch(page, csp)
    await pool.execute("UPDATE departments SET name = $1 WHERE code = 'market'", f"市场监管{EVIL}")
    call = f"c-{uuid.uuid4().hex[:10]}"  # what the citizen said on the call the ticket is filed from
    await say(pool, call, "final", 0, 0.2, f"商家卖假冒伪劣商品{EVIL}")
    async with await logins.client("supervisor:li") as http:  # the hall files it, naming the call
        async with http.post("/api/tickets", json={
                "kind": "投诉", "description": f"商家卖假冒伪劣商品{EVIL}", "category": f"假冒伪劣{EVIL}",
                "address": f"东区{EVIL}", "caller_phone": "13900001111", "call_ids": [call]}) as resp:
            assert resp.status == 201, await resp.text()
            number = (await resp.json())["number"]
    async with aiohttp.ClientSession(base) as anon:  # a malformed user name is refused before the audit
        async with anon.post("/api/session", json={"username": EVIL, "password": "x" * 12}) as resp:
            assert resp.status == 422
    # an audited request's target is its path, which carries what the caller put there
    await pool.execute("INSERT INTO audit_log(actor, action, target) VALUES ('-', 'show_number', $1)",
                       f"/api/calls/{EVIL}")
    await pool.execute("INSERT INTO dispatch_incidents(district, title, master_ref, opened_at, prompt_text, prompt)"
                       " VALUES ($1, $2, $3, now(), $4, 'incident_0123456789abcdef')", f"仁和区{EVIL}",
                       f"燃气泄漏{EVIL}", number, f"请按1{EVIL}")

    # the department's workbench: description, category, address of the ticket
    await browser_login(page, base, pool, "dept:market:zhang", "/dept")
    row = f"tr[data-ticket='{number}']"
    await clean(page, row)
    await expect(page.locator(row)).to_contain_text(f"假冒伪劣{EVIL}")
    await expect(page.locator(row)).to_contain_text(f"东区{EVIL}")
    # ... and the call's stored transcript, unfolded in the ticket's 通话转写
    await page.click(f"{row} button[data-open]")
    await page.click("#act-transcript summary")
    await expect(page.locator("#act-transcript-body .line")).to_have_text([f"00:00 市民：商家卖假冒伪劣商品{EVIL}"])
    await clean(page, "#act-transcript-body")

    # the admin page: the department's name, the audited path in the audit log
    await page.context.clear_cookies()
    await browser_login(page, base, pool, "admin:root", "/admin")
    await clean(page, "#departments tr[data-department=market]")
    await clean(page, "#audit")

    # the supervisor's board: the incident's district and summary
    await page.context.clear_cookies()
    await browser_login(page, base, pool, "supervisor:li", "/board")
    await clean(page, "#incidents")
    await expect(page.locator("#incidents")).to_contain_text(f"燃气泄漏{EVIL}")
    await expect(page.locator("#incidents")).to_contain_text(f"请按1{EVIL}")  # the announcement to confirm

    # the dispatch desk (派单台): the department returns the ticket with its own words; the desk
    # shows the description, the reason and the department's name
    async with await logins.client("dept:market:zhang") as http:
        async with http.post(f"/api/tickets/{number}/return", json={"reason": f"不归我们管{EVIL}"}) as resp:
            assert resp.status == 200, await resp.text()
    await page.goto(f"{base}/dispatch")
    desk = f"article[data-ticket='{number}']"
    await clean(page, desk)
    await expect(page.locator(f"{desk} .reason")).to_have_text(f"市场监管{EVIL}：不归我们管{EVIL}")
    await page.click(f"{desk} [data-toggle]")
    await expect(page.locator(f"{desk} .description")).to_have_text(f"商家卖假冒伪劣商品{EVIL}")
    await clean(page, f"{desk} select.unit")

    # the agent desk's routing panel: where the ticket went, by the department's name
    await page.context.clear_cookies()
    await browser_login(page, base, pool, "agent:1001", "/agent")
    await page.select_option("#t-kind", "complaint")
    await page.fill("#t-category", "假冒伪劣")
    await page.fill("#t-description", f"商家卖假冒伪劣商品，要求退货{EVIL}")
    await page.click("#t-submit")
    await expect(page.locator("#t-routing")).to_have_attribute("data-state", "filed")
    await clean(page, "#t-routing")
    assert not csp, csp  # the pages run under the policy without breaking it

    # markup injected all the same runs no inline handler: the policy blocks it
    await page.evaluate("""() => {
        window.__blocked = [];
        document.addEventListener("securitypolicyviolation", (e) => window.__blocked.push(e.effectiveDirective));
        document.body.insertAdjacentHTML("beforeend", '<img id="probe" src="/x" onerror="window.__xss=1">');
    }""")
    await page.wait_for_function("window.__blocked.length > 0")
    assert (await page.evaluate("window.__blocked"))[0].startswith("script-src")
    assert await page.evaluate("window.__xss") is None


async def test_hostile_text_stays_text_on_the_agent_desk_during_a_call(stack, settings, pool, browser_page, logins):
    page, phone = browser_page, Phone(stack)
    base = f"http://127.0.0.1:{settings.http_port}"
    csp: list[str] = []
    watch(page, csp)
    async with await logins.client("agent:1009") as http:  # the citizen's earlier request
        async with http.post("/api/tickets", json={
                "kind": "咨询", "description": f"咨询公积金提取{EVIL}", "caller_phone": CALLER,
                "category": f"公积金提取{EVIL}", "answer_on_spot": "已告知所需材料"}) as resp:
            assert resp.status == 201, await resp.text()
    seat = next(s.id for s in phone.acd.roster.seats if phone.acd.roster.is_on_shift(s, datetime.now(UTC)))
    await phone.agent_mode(seat, "answer")
    await browser_login(page, base, pool, "agent:1001", f"/agent?seat={seat}")
    await page.click("#btn-login")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")

    call = await phone.call(caller=CALLER, queue="general")
    await until(lambda: phone.acd.calls.get(call) and phone.acd.calls[call].state == "bridged", what="bridged")
    await expect(page.locator("#caller")).to_have_attribute("data-call-id", call)
    await clean(page, "#history")  # the caller's earlier ticket: description and category
    await expect(page.locator("#history")).to_contain_text(f"公积金提取{EVIL}")

    await say(pool, call, "partial", 0, 0.2, f"我要反映{EVIL}")
    await clean(page, "#transcript")
    await say(pool, call, "final", 0, 0.2, f"我要反映噪音{EVIL}")
    await expect(page.locator("#transcript .line")).to_have_text([f"市民：我要反映噪音{EVIL}"])
    await page.reload()  # the stored finals come back through GET /api/calls/{id}/transcript
    await expect(page.locator("#caller")).to_have_attribute("data-call-id", call)
    await clean(page, "#transcript")
    await phone.hangup(call)
    await expect(page.locator("#state")).to_have_attribute("data-state", "wrap_up")
    assert not csp, csp
