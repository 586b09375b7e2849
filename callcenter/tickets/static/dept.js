/* Department workbench (处置通): the department's open tickets, earliest deadline first, with
   acknowledge / start / reply / return (派单异议) / extension (延期). New tickets arrive live: the
   department's ticket events come over /ws/dept/{code} and the queue is re-read at once (and
   every POLL_MS anyway, for deadlines turning due).
   A ticket filed from a call carries its call ids: the 通话转写 section of the open ticket reads
   what was said (GET /api/calls/{id}/transcript, masked by the server as stored) when it is
   unfolded, each time; the server lets a department read a call only through its own ticket. */
"use strict";

const POLL_MS = 30000;
let socketUp = false;
let department = "", current = null, known = new Set(), first = true;
let tickets = new Map();  // number → the ticket as last read from the queue
const talk = { calls: [], asked: 0 };  // the open ticket's calls; which unfolding is being answered

const $ = (id) => document.getElementById(id);

function dueClass(t) {
  if (!t.resolve_due) return "";
  const due = Date.parse(t.resolve_due), now = serverNow();
  if (due < now) return "overdue";
  const day = (d) => new Date(d).toLocaleDateString("zh-CN", { timeZone: "Asia/Shanghai" });
  return day(due) === day(now) ? "due-today" : "";
}

function marks(t) {
  const out = [];
  if (t.remind_at && Date.parse(t.remind_at) <= serverNow()) out.push("催办");
  if (t.escalation_level > 0) out.push(`督办${t.escalation_level > 1 ? `×${t.escalation_level}` : ""}`);
  if (t.pending_extension) out.push(`延期待批 ${t.pending_extension} 天`);
  if (t.objection) out.push("异议中");
  return out.join(" ");
}

function row(t) {
  const fresh = !first && !known.has(t.number) ? " new" : "";
  return `<tr data-ticket="${esc(t.number)}" class="${dueClass(t)}${fresh}">
    <td class="num">${esc(t.number)}</td><td>${esc(label("kind", t.kind))}</td>
    <td data-status="${esc(t.status)}">${esc(label("status", t.status))}</td><td>${esc(t.category || "—")}</td>
    <td>${esc(t.address || "—")}</td><td>${esc(t.description)}</td><td>${esc(fmtTime(t.resolve_due))}</td>
    <td class="marks">${esc(marks(t))}</td><td><button data-open="${esc(t.number)}">处理</button></td></tr>`;
}

async function refresh() {
  try {
    const page = await apiCall("GET", `/api/departments/${encodeURIComponent(department)}/queue?limit=100`);
    $("queue").querySelector("tbody").innerHTML = page.items.map(row).join("");
    $("empty").hidden = page.items.length > 0;
    $("summary").textContent = `待办 ${page.items.length} 件 · 超期 ${page.items.filter((t) => dueClass(t) === "overdue").length} 件`;
    known = new Set(page.items.map((t) => t.number));
    tickets = new Map(page.items.map((t) => [t.number, t]));
    first = false;
    setLive($("live"), socketUp, true);
  } catch (e) {
    setLive($("live"), false, false);
  }
}

function open(number) {
  current = number;
  $("act-number").textContent = number;
  $("act-panel").hidden = false;
  $("act-msg").textContent = "";
  const t = tickets.get(number);
  talk.calls = t && Array.isArray(t.call_ids) ? t.call_ids : [];
  talk.asked += 1;  // an answer still on its way is for the ticket opened before
  $("act-transcript").open = false;
  $("act-transcript-body").innerHTML = "";
}

/* One stored line: who spoke, when (offset into the call), what (or 未转写). */
function transcriptLine(s) {
  const citizen = s.leg !== "agent";
  const missing = s.status === "未转写" || !s.text;
  return `<div class="line ${citizen ? "citizen" : "agent"}${missing ? " untranscribed" : ""}" data-leg="${esc(s.leg)}">`
    + `<span class="at num">${esc(fmtDuration(s.start_s))}</span> <span class="who">${citizen ? "市民" : "坐席"}：</span>`
    + `<span class="text">${esc(missing ? "（未转写）" : s.text)}</span></div>`;
}

function transcriptNote(text, kind) {
  return `<div class="empty" data-note="${esc(kind)}">${esc(text)}</div>`;
}

async function callTranscript(callId) {
  try {
    const doc = await apiCall("GET", `/api/calls/${encodeURIComponent(callId)}/transcript`);
    const segs = Array.isArray(doc && doc.segments) ? doc.segments : [];
    return segs.length ? segs.map(transcriptLine).join("") : transcriptNote("无通话转写", "none");
  } catch (e) {
    if (e.status === 403) return transcriptNote("无权查看该通话的转写", "forbidden");
    if (e.status === 404) return transcriptNote("无通话转写", "none");
    return transcriptNote("通话转写读取失败，请稍后再试", "failed");
  }
}

async function loadTranscript() {
  const box = $("act-transcript-body"), asked = ++talk.asked, calls = talk.calls;
  if (!calls.length) { box.innerHTML = transcriptNote("无通话转写（非来电工单）", "no-call"); return; }
  box.innerHTML = transcriptNote("读取中…", "loading");
  const parts = await Promise.all(calls.map(callTranscript));
  if (asked !== talk.asked) return;  // folded again, or another ticket opened meanwhile
  box.innerHTML = calls.length === 1 ? parts[0]
    : parts.map((html, i) => `<div class="call-head muted">通话 ${i + 1}</div>${html}`).join("");
}

async function submit(ev) {
  ev.preventDefault();
  const kind = $("act-kind").value, text = $("act-text").value.trim();
  const body = {};
  if (kind === "reply") body.reply = text;
  else if (kind === "return" || kind === "extension-request") body.reason = text;
  else if (text) body.note = text;
  if (kind === "extension-request") body.days = Number($("act-days").value);
  try {
    const t = await apiCall("POST", `/api/tickets/${encodeURIComponent(current)}/${kind}`, body);
    $("act-msg").className = "msg ok";
    $("act-msg").textContent = `已提交：${label("status", t.status)}`;
    $("act-msg").dataset.status = t.status;
    $("act-text").value = "";
    await refresh();
  } catch (e) {
    $("act-msg").className = "msg err";
    $("act-msg").textContent = `操作失败：${e.message || e}`;
  }
}

async function init() {
  const me = await loadSession();
  if (!me) return;
  department = me.department || new URLSearchParams(location.search).get("department") || "";
  $("dept-name").textContent = department ? unitName(department) : "（未指定部门）";
  if (department) unitNames().then(() => { $("dept-name").textContent = unitName(department); });
  $("queue").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-open]");
    if (b) open(b.dataset.open);
  });
  $("act-form").addEventListener("submit", submit);
  $("act-transcript").addEventListener("toggle", () => {
    if ($("act-transcript").open) loadTranscript();
    else talk.asked += 1;
  });
  if (!department) return;
  await refresh();
  liveSocket(`/ws/dept/${encodeURIComponent(department)}`, (msg) => {
    if (msg.type === "ticket") {
      $("notice").textContent = `新消息：工单 ${msg.payload && msg.payload.number ? msg.payload.number : ""}`;
      refresh();
    }
  }, (up) => { socketUp = up; setLive($("live"), up, true); if (up) refresh(); });
  setInterval(refresh, POLL_MS);
}

init();
