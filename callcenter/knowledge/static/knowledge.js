/* 知识库 page (/knowledge): a department handler lists and writes its own unit's articles and
   submits them for review; the hall's reviewers (班长, 知识库编辑) edit any, publish, send back
   and take articles off the desk. Everything through /api/knowledge/articles. */
"use strict";

const STATUS = { draft: "草稿", under_review: "待审核", published: "已发布", expired: "已失效" };
const ACTIONS = { create: "新建", edit: "修改", submit: "提交审核", publish: "审核发布", reject: "退回修改",
  expire: "下线", import: "导入", seed: "样例导入" };
const FIELDS = { title: "标题", questions: "市民问法", answer: "答复口径", full_text: "完整内容", unit: "承办单位",
  category: "分类", districts: "适用区县", source: "依据文件", source_date: "文件日期", valid_from: "生效日期",
  valid_until: "失效日期", review_on: "复核日期", status: "状态", created: "新建" };
const $ = (id) => document.getElementById(id);
let me = null, current = null, rows = [];

const reviewer = () => me && (me.role === "supervisor" || me.role === "kb");

function say(text, ok) { $("a-msg").textContent = text; $("a-msg").className = `msg ${ok ? "ok" : "err"}`; }

async function load() {
  const params = new URLSearchParams({ limit: "500" });
  if ($("f-status").value) params.set("status", $("f-status").value);
  if ($("f-unit").value) params.set("unit", $("f-unit").value);
  if ($("f-review").checked) params.set("needs_review", "true");
  const doc = await apiCall("GET", `/api/knowledge/articles?${params}`);
  rows = doc.items || [];
  $("articles").querySelector("tbody").innerHTML = rows.map((a) => `<tr data-article="${esc(a.id)}">
      <td class="num">${esc(a.id)}</td><td>${esc(a.title)}</td><td>${esc(unitName(a.unit))}</td>
      <td data-status="${esc(a.status)}">${esc(STATUS[a.status] || a.status)}</td><td class="num">${a.version}</td>
      <td class="${a.needs_review ? "overdue" : ""}">${esc(a.review_on || "—")}${a.needs_review ? "（待复核）" : ""}</td>
      <td><button type="button" data-open="${esc(a.id)}">打开</button></td></tr>`).join("");
  $("empty").hidden = rows.length > 0;
}

function fill(a) {
  current = a;
  $("edit-panel").hidden = false;
  $("edit-title").textContent = a ? `${a.id} · ${STATUS[a.status]} · 第${a.version}版` : "新建条目";
  $("a-title").value = a ? a.title : "";
  $("a-questions").value = a ? a.questions.join("\n") : "";
  $("a-answer").value = a ? a.answer : "";
  $("a-full").value = a ? a.full_text : "";
  $("a-unit").value = a ? a.unit : (me.department || $("a-unit").value);
  $("a-category").value = a ? a.category : "";
  $("a-districts").value = a ? a.districts.join("、") : "";
  $("a-source").value = a ? a.source : "";
  $("a-source-date").value = (a && a.source_date) || "";
  $("a-from").value = (a && a.valid_from) || "";
  $("a-until").value = (a && a.valid_until) || "";
  $("a-review").value = (a && a.review_on) || "";
  const st = a ? a.status : null;
  $("a-submit").hidden = st !== "draft";
  for (const id of ["a-publish", "a-reject"]) $(id).hidden = !reviewer() || st !== "under_review";
  $("a-expire").hidden = !reviewer() || !st || st === "expired";
  say("", true);
  if (a) versions(a.id); else $("versions").querySelector("tbody").innerHTML = "";
}

/* Who acted, as a person reads it: 水务公司 li, 知识库编辑 wang, 班长 li, 系统 (not dept:water:li). */
function actorName(actor) {
  const [role, a, b] = String(actor || "").split(":");
  if (role === "dept") return `${unitName(a)} ${b || ""}`.trim();
  const ROLE = { agent: "坐席", supervisor: "班长", kb: "知识库编辑", admin: "管理员", system: "系统" };
  return role === "seed" ? "样例导入" : `${ROLE[role] || role} ${a || ""}`.trim();
}

async function versions(id) {
  const doc = await apiCall("GET", `/api/knowledge/articles/${encodeURIComponent(id)}/versions`);
  $("versions").querySelector("tbody").innerHTML = doc.items.map((v) => `<tr><td class="num">${v.version}</td>
      <td>${esc(ACTIONS[v.action] || v.action)}</td><td data-actor="${esc(v.actor)}">${esc(actorName(v.actor))}</td><td>${esc(fmtTime(v.at))}</td>
      <td>${esc(v.changed.map((c) => FIELDS[c] || c).join("、"))}</td></tr>`).join("");
}

function body() {
  const lines = (text) => text.split(/\n/).map((s) => s.trim()).filter(Boolean);
  const date = (id) => $(id).value || null;
  return { title: $("a-title").value.trim(), questions: lines($("a-questions").value), answer: $("a-answer").value.trim(),
    full_text: $("a-full").value.trim(), unit: $("a-unit").value, category: $("a-category").value.trim(),
    districts: $("a-districts").value.split(/[、,，\s]+/).filter(Boolean), source: $("a-source").value.trim(),
    source_date: date("a-source-date"), valid_from: date("a-from"), valid_until: date("a-until"), review_on: date("a-review") };
}

async function save(ev) {
  ev.preventDefault();
  try {
    const a = current
      ? await apiCall("PATCH", `/api/knowledge/articles/${encodeURIComponent(current.id)}`, { ...body(), version: current.version })
      : await apiCall("POST", "/api/knowledge/articles", body());
    await load();
    fill(a);
    say(`已保存（第${a.version}版，${STATUS[a.status]}）`, true);
  } catch (e) { say(`保存失败：${e.message || e}`, false); }
}

async function move(name) {
  if (!current) return;
  try {
    const a = await apiCall("POST", `/api/knowledge/articles/${encodeURIComponent(current.id)}/${name}`, { version: current.version });
    await load();
    fill(a);
    say(`已${ACTIONS[name]}：${STATUS[a.status]}`, true);
  } catch (e) { say(`操作失败：${e.message || e}`, false); }
}

/* 知识缺口 (reviewers): the enquiries answered without an article, so the hall knows what to write. */
async function gaps() {
  const doc = await apiCall("GET", "/api/knowledge/gaps?days=7");
  $("gaps-panel").hidden = false;
  $("gaps").querySelector("tbody").innerHTML = doc.items.map((g) => `<tr><td>${esc(g.category || "（未分类）")}</td>
      <td>${esc(unitName(g.unit))}</td><td class="num">${g.count}</td><td>${esc(fmtTime(g.latest))}</td>
      <td>${g.examples.map(esc).join("；")}</td></tr>`).join("");
  $("gaps-empty").hidden = doc.items.length > 0;
}

/* A department's replied enquiries: one click proposes the reply as a draft of its unit. */
async function replies() {
  const params = new URLSearchParams({ kind: "enquiry", status: "resolved,surveyed,closed", limit: "20" });
  const doc = await apiCall("GET", `/api/tickets?${params}`);
  $("replies-panel").hidden = false;
  $("replies").querySelector("tbody").innerHTML = doc.items.map((t) => `<tr data-ticket="${esc(t.number)}">
      <td class="num">${esc(t.number)}</td><td>${esc(t.category || "—")}</td><td>${esc(t.description)}</td>
      <td>${esc(label("status", t.status))}</td>
      <td><button type="button" data-propose="${esc(t.number)}">提议为知识条目</button></td></tr>`).join("");
  $("replies-empty").hidden = doc.items.length > 0;
}

async function init() {
  me = await loadSession();
  if (!me) return;
  const names = await unitNames();
  $("scope").textContent = me.role === "dept" ? `· ${unitName(me.department)}` : "· 审核发布";
  $("f-status").innerHTML += Object.entries(STATUS).map(([k, v]) => `<option value="${k}">${v}</option>`).join("");
  const units = Object.entries(names).sort((x, y) => x[1].localeCompare(y[1], "zh"));
  $("f-unit").innerHTML += units.map(([k, v]) => `<option value="${esc(k)}">${esc(v)}</option>`).join("");
  $("a-unit").innerHTML = (me.role === "dept" ? units.filter(([k]) => k === me.department) : units)
    .map(([k, v]) => `<option value="${esc(k)}">${esc(v)}</option>`).join("");
  if (me.role === "dept") { $("f-unit").value = me.department; $("f-unit").disabled = true; }
  $("btn-reload").onclick = load;
  $("btn-new").onclick = () => fill(null);
  for (const id of ["f-status", "f-unit", "f-review"]) $(id).onchange = load;
  $("edit-form").addEventListener("submit", save);
  for (const b of document.querySelectorAll("button[data-move]")) b.onclick = () => move(b.dataset.move);
  $("articles").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-open]");
    if (!b) return;
    try { fill(await apiCall("GET", `/api/knowledge/articles/${encodeURIComponent(b.dataset.open)}`)); }
    catch (e) { say(`打开失败：${e.message || e}`, false); }
  });
  $("replies").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-propose]");
    if (!b) return;
    b.disabled = true;
    try {
      const a = await apiCall("POST", "/api/knowledge/proposals", { ticket: b.dataset.propose });
      await load();
      fill(a);
      say(`已根据工单 ${b.dataset.propose} 的办结回复生成草稿 ${a.id}，请修改后提交审核`, true);
    } catch (e) { say(`提议失败：${e.message || e}`, false); b.disabled = false; }
  });
  await load();
  if (reviewer()) await gaps();
  if (me.role === "dept") await replies();
}

init();
