"""The knowledge base through its REST API on real PostgreSQL: a department edits only its own
unit's articles, publishing needs the reviewer role, every change is a version with who and what
and is audited, an expired article is never suggested, and 直接答复 files a ticket that links
its article, is not dispatched, and on a bad review goes to the article's unit."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from knowledge_support import KB, knowledge_app
from tickets_support import AGENT, SUPERVISOR, dept

from callcenter.surveys.report import knowledge_figures
from callcenter.surveys.store import SurveyStore

BASE = "/api/knowledge/articles"
NEW = {"title": "二次供水水箱多久清洗一次", "questions": ["我们小区水箱好久洗一次", "二次供水水箱清洗"],
       "answer": "二次供水水箱每半年至少清洗消毒一次，清洗前物业会提前公告停水。", "unit": "water", "category": "二次供水"}


@pytest.fixture
async def api(settings, pool):
    async with knowledge_app(settings, pool) as client:
        yield client


async def test_seeded_articles_are_searchable_with_the_matched_words(api):
    status, doc = await api.get("/api/knowledge/search?q=我想问一下公积金提取要带啥子材料", actor=AGENT)
    assert status == 200, doc
    first = doc["items"][0]
    assert first["id"] == "KB00001" and first["unit"] == "housing_fund" and "材料" in first["matched"]
    assert len(doc["items"]) == 3
    status, doc = await api.get("/api/knowledge/search?q=水费&district=成都", actor=AGENT)
    assert status == 422 and "district" in doc["fields"]


async def test_a_department_writes_its_own_unit_and_a_reviewer_publishes(api, pool):
    status, doc = await api.post(BASE, NEW | {"unit": "gas"}, actor=dept("water"))
    assert status == 403 and "own unit" in doc["message"]
    status, doc = await api.post(BASE, NEW | {"unit": "no_such_unit"}, actor=KB)
    assert status == 422 and "unit" in doc["fields"]
    status, a = await api.post(BASE, NEW, actor=dept("water"))
    assert status == 201 and a["status"] == "draft" and a["version"] == 1, a
    ident = a["id"]
    status, doc = await api.patch(f"{BASE}/{ident}", {"answer": "改了", "version": 1}, actor=dept("gas"))
    assert status == 404  # another unit's draft: not even its existence shows
    water = next(x for x in (await api.get(f"{BASE}?unit=water&status=published", actor=dept("gas")))[1]["items"])
    status, doc = await api.patch(f"{BASE}/{water['id']}", {"answer": "改了"}, actor=dept("gas"))
    assert status == 403 and "own unit" in doc["message"]  # another unit's published article: read, not written
    status, doc = await api.patch(f"{BASE}/{ident}", {"answer": "二次供水水箱每半年清洗一次。", "version": 1},
                                  actor=dept("water"))
    assert status == 200 and doc["version"] == 2
    status, doc = await api.patch(f"{BASE}/{ident}", {"answer": "晚到的改动", "version": 1}, actor=dept("water"))
    assert status == 409 and doc["error"] == "conflict"
    status, doc = await api.post(f"{BASE}/{ident}/publish", {}, actor=dept("water"))
    assert status == 403  # the policy: reviewers only
    assert (await api.post(f"{BASE}/{ident}/submit", {}, actor=dept("water")))[0] == 200
    status, doc = await api.post(f"{BASE}/{ident}/publish", {}, actor=AGENT)
    assert status == 403
    status, doc = await api.post(f"{BASE}/{ident}/publish", {}, actor=KB)
    assert status == 200 and doc["status"] == "published" and doc["version"] == 4
    # on the desk at once
    status, doc = await api.get("/api/knowledge/search?q=小区水箱好久洗一次", actor=AGENT)
    assert doc["items"][0]["id"] == ident
    # every change a version: who, what
    status, doc = await api.get(f"{BASE}/{ident}/versions", actor=dept("water"))
    assert [(v["version"], v["actor"], v["action"], v["changed"]) for v in doc["items"]] == [
        (1, "dept:water:zhang", "create", ["created"]), (2, "dept:water:zhang", "edit", ["answer"]),
        (3, "dept:water:zhang", "submit", ["status"]), (4, "kb:wang", "publish", ["status"])]
    assert doc["items"][1]["content"]["answer"] == "二次供水水箱每半年清洗一次。"
    audit = [(r["actor"], r["action"]) for r in await pool.fetch(
        "SELECT actor, action FROM audit_log WHERE action LIKE 'kb_%' ORDER BY id")]
    assert audit == [("water.zhang", "kb_article_created"), ("water.zhang", "kb_article_changed"),
                     ("water.zhang", "kb_article_submitted"), ("wang", "kb_article_published")]


async def test_a_department_lists_its_own_drafts_and_an_agent_sees_only_published(api):
    status, a = await api.post(BASE, NEW, actor=dept("water"))
    assert (await api.get(f"{BASE}/{a['id']}", actor=AGENT))[0] == 404
    assert (await api.get(f"{BASE}/{a['id']}", actor=dept("gas")))[0] == 404
    status, doc = await api.get(f"{BASE}?status=draft", actor=dept("water"))
    assert [x["id"] for x in doc["items"]] == [a["id"]]
    status, doc = await api.get(f"{BASE}?unit=gas&status=draft", actor=dept("water"))
    assert status == 403
    status, doc = await api.get(f"{BASE}?status=draft", actor=AGENT)
    assert status == 200 and doc["items"] and all(x["status"] == "published" for x in doc["items"])


async def test_an_expired_article_is_never_suggested(api):
    query = "/api/knowledge/search?q=公积金提取要带什么材料&limit=20"
    assert "KB00001" in [x["id"] for x in (await api.get(query, actor=AGENT))[1]["items"]]
    status, doc = await api.post(f"{BASE}/KB00001/expire", {}, actor=SUPERVISOR)
    assert status == 200 and doc["status"] == "expired"
    assert "KB00001" not in [x["id"] for x in (await api.get(query, actor=AGENT))[1]["items"]]
    status, doc = await api.post(f"{BASE}/KB00001/answer", {}, actor=AGENT)
    assert status == 404
    # past its last valid day: the refresh expires it, the desk no longer sees it
    status, doc = await api.patch(f"{BASE}/KB00002", {"valid_from": "2019-01-01", "valid_until": "2020-01-01"},
                                  actor=KB)
    assert status == 200, doc
    for move in ("submit", "publish"):
        assert (await api.post(f"{BASE}/KB00002/{move}", {}, actor=KB))[0] == 200
    assert "KB00002" not in [x["id"] for x in (await api.get(query, actor=AGENT))[1]["items"]]
    await api.kb.refresh()
    status, doc = await api.get(f"{BASE}/KB00002", actor=KB)
    assert doc["status"] == "expired"


async def test_direct_answer_files_the_ticket_with_its_article_and_a_bad_review_goes_to_its_unit(api, pool):
    status, doc = await api.post(f"{BASE}/KB00001/answer", {"description": "市民咨询公积金提取所需材料",
                                                             "caller_phone": "13812345678"}, actor=AGENT)
    assert status == 201, doc
    assert doc["status"] == "resolved" and doc["article"] == "KB00001" and doc["lead_department"] == "hall"
    number = doc["number"]
    status, t = await api.get(f"/api/tickets/{number}", actor=SUPERVISOR)
    assert t["article"] == "KB00001" and t["article_unit"] == "housing_fund" and t["kind"] == "enquiry"
    events = (await api.get(f"/api/tickets/{number}/events", actor=SUPERVISOR))[1]["items"]
    assert [e["action"] for e in events] == ["created", "answer_on_spot"]  # no dispatch
    assert events[1]["data"]["article"]["id"] == "KB00001" and "本人身份证" in events[1]["data"]["reply"]
    # it is owed its 回访 like any resolved ticket: the survey scheduler's candidates include it
    candidates = await SurveyStore(pool).ticket_candidates(datetime.now(UTC))
    assert [(r["number"], r["caller_phone"]) for r in candidates] == [(number, "13812345678")]
    await api.svc.record_survey(number, "不满意", actor="system:survey")
    status, t = await api.get(f"/api/tickets/{number}", actor=SUPERVISOR)
    assert t["status"] == "dispatched" and t["lead_department"] == "housing_fund"


async def test_import_and_export_name_the_bad_row_and_field(api, pool):
    status, doc = await api.call("GET", "/api/knowledge/export?format=json", actor=KB)
    assert status == 200 and len(doc["articles"]) >= 300
    rows = doc["articles"][:2]
    rows[1] = rows[1] | {"unit": "Not A Code"}
    status, doc = await api.post("/api/knowledge/import", {"articles": rows}, actor=KB)
    assert status == 422 and doc["problems"] == [{"row": 2, "field": "unit", "message": doc["problems"][0]["message"]}]
    assert "row 2.unit" in doc["fields"]
    rows[1]["unit"] = "housing_fund"
    status, doc = await api.post("/api/knowledge/import", {"articles": rows}, actor=dept("gas"))
    assert status == 403
    status, doc = await api.post("/api/knowledge/import", {"articles": rows}, actor=KB)
    assert status == 200 and doc == {"created": 0, "updated": 2}
    # an imported id the numbering would give next is never overwritten by a new article
    nxt = await pool.fetchval("SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM knowledge_article_seq")
    taken = f"KB{nxt:05d}"
    status, doc = await api.post("/api/knowledge/import", {"articles": [rows[0] | {"id": taken}]}, actor=KB)
    assert status == 200 and doc == {"created": 1, "updated": 0}
    status, a = await api.post(BASE, NEW, actor=KB)
    assert status == 201 and a["id"] == f"KB{nxt + 1:05d}"
    assert (await api.get(f"{BASE}/{taken}", actor=KB))[1]["title"] == rows[0]["title"]


async def test_the_enquiries_that_found_no_article_are_the_gaps_grouped(api, pool):
    for text in ("市民咨询小区电梯年检周期", "电梯多久检测一次"):
        status, doc = await api.post("/api/tickets", {"kind": "enquiry", "description": text, "category": "特种设备",
                                                      "answer_on_spot": "已告知一年一次"}, actor=AGENT)
        assert status == 201, doc
    await api.post(f"{BASE}/KB00001/answer", {}, actor=AGENT)  # answered from an article: no gap
    await api.post("/api/tickets", {"kind": "complaint", "description": "电梯坏了没人修", "category": "特种设备"},
                   actor=AGENT)  # not an enquiry
    status, doc = await api.get("/api/knowledge/gaps?days=1", actor=KB)
    assert status == 200, doc
    assert [(g["category"], g["unit"], g["count"]) for g in doc["items"]] == [("特种设备", "hall", 2)]
    assert doc["items"][0]["examples"] == ["电梯多久检测一次", "市民咨询小区电梯年检周期"]
    assert (await api.get("/api/knowledge/gaps", actor=AGENT))[0] == 403
    assert (await api.get("/api/knowledge/gaps?days=0", actor=KB))[0] == 422
    # the daily report (日报) carries the day's 直接答复率 and its largest gaps
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    kb = await knowledge_figures(pool, day, {"hall": "12345热线中心"})
    assert (kb["enquiries"], kb["answered"], kb["gaps"]) == (3, 1, [("特种设备", "12345热线中心", 2)])
    assert kb["rate"] == 1 / 3


async def test_a_departments_reply_to_an_enquiry_becomes_a_draft_of_its_unit(api):
    status, t = await api.post("/api/tickets", {"kind": "enquiry", "description": "市民咨询小区二次供水水箱多久清洗一次",
                                                "category": "二次供水", "lead": "water"}, actor=SUPERVISOR)
    assert status == 201, t
    number = t["number"]
    status, doc = await api.post("/api/knowledge/proposals", {"ticket": number}, actor=dept("water"))
    assert status == 404  # not replied to yet
    await api.act(number, "acknowledge", dept("water"))
    await api.act(number, "reply", dept("water"), reply="二次供水水箱每半年清洗消毒一次，物业提前公告。")
    status, doc = await api.post("/api/knowledge/proposals", {"ticket": number}, actor=dept("gas"))
    assert status == 404  # another unit's
    status, a = await api.post("/api/knowledge/proposals", {"ticket": number}, actor=dept("water"))
    assert status == 201, a
    assert (a["status"], a["unit"], a["answer"], a["category"]) == (
        "draft", "water", "二次供水水箱每半年清洗消毒一次，物业提前公告。", "二次供水")
    assert a["questions"] == ["市民咨询小区二次供水水箱多久清洗一次"] and number in a["source"]


async def test_an_import_cannot_take_over_another_units_article(api):
    """The unit a row names is not enough: the stored article's unit decides who may replace it."""
    status, before = await api.get(f"{BASE}/KB00001", actor=KB)
    assert status == 200 and before["unit"] == "housing_fund"
    row = {"id": "KB00001", "title": "改掉", "questions": ["改掉"], "answer": "改掉", "unit": "gas"}
    status, doc = await api.post("/api/knowledge/import", {"articles": [row]}, actor=dept("gas"))
    assert status == 403 and "housing_fund" in doc["message"], doc
    status, after = await api.get(f"{BASE}/KB00001", actor=KB)
    assert (after["version"], after["status"], after["answer"]) == (before["version"], before["status"],
                                                                    before["answer"])


async def test_a_csv_cell_larger_than_the_csv_reader_takes_is_a_row_problem(api):
    text = "id,title,questions,answer,unit\nKB09999,t,q," + "x" * 140_000 + ",gas\n"
    status, doc = await api.post("/api/knowledge/import", {"csv": text}, actor=KB)
    assert status == 422 and doc["problems"][0]["field"] == "row", doc


async def test_a_direct_answer_refused_by_the_tickets_is_their_refusal_not_a_500(api):
    status, doc = await api.post(f"{BASE}/KB00001/answer", {"call_id": "C-not-this-agents"}, actor=AGENT)
    assert status == 403 and doc["error"] == "forbidden", doc
    body = {"description": "市民咨询公积金提取所需材料"}
    status, doc = await api.call("POST", f"{BASE}/KB00001/answer", body, actor=AGENT,
                                 headers={"Idempotency-Key": "kb-shared-key"})
    assert status == 201, doc
    status, doc = await api.call("POST", f"{BASE}/KB00001/answer", body, actor="agent:1002",
                                 headers={"Idempotency-Key": "kb-shared-key"})
    assert status == 409 and doc["error"] == "idempotency_conflict", doc


async def test_a_proposed_article_carries_no_citizens_number_from_the_enquiry(api):
    status, t = await api.post("/api/tickets", {"kind": "enquiry", "description": "市民13812345678咨询水箱清洗周期",
                                                "category": "二次供水", "lead": "water"}, actor=SUPERVISOR)
    assert status == 201, t
    await api.act(t["number"], "acknowledge", dept("water"))
    await api.act(t["number"], "reply", dept("water"), reply="每半年清洗一次，可回电 02887654321 咨询物业。")
    status, a = await api.post("/api/knowledge/proposals", {"ticket": t["number"]}, actor=dept("water"))
    assert status == 201, a
    assert "13812345678" not in a["title"] + "".join(a["questions"]) and "138****5678" in a["title"], a
    assert "02887654321" in a["answer"]  # the unit's own reply (a public number) is the reviewer's to judge
