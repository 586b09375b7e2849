/* 派单台: the hall's dispatcher sees the tickets left to the hall (GET /api/hall/queue: the
   classifier was not sure, a department returned it, 派单异议), nearest deadline first, and
   dispatches each with one click on a candidate ("派给 X（xx%）", with the words that drove it)
   or to any unit of the catalogue, with an optional note. The call is the ticket's own
   dispatch / redispatch (audited; a training example for the classifier), carrying the
   version the desk saw: a ticket someone else dispatched or changed first is a 409, said
   plainly, and the dispatcher's note and choice are kept. Rows are updated in place, so a
   refresh never eats what is being typed. Live: the hall's ticket events (/ws/dept/hall: new
   tickets, 退单, 异议) re-read the queue at once; dispatches by another dispatcher are
   published on the unit's topic, so the queue is also re-read every POLL_MS.
   Needs common.js, session.js, routing.js (unitNames, unitName). */
"use strict";

const POLL_MS = 15000;
const HALL_STATUSES = new Set(["accepted", "returned"]);
const desk = { units: [], socketUp: false, busy: new Set() };
const $ = (id) => document.getElementById(id);

function pct(p) { return `${(100 * (p || 0)).toFixed(0)}%`; }

function words(list) { return (list || []).map((w) => `<span class="chip">${esc(w)}</span>`).join(""); }

function candidateButtons(t) {
  const shown = new Set();
  const out = (t.candidates || []).map((c, i) => {
    shown.add(c.department);
    const was = c.department === t.returned_by;
    return `<li class="cand${i === 0 ? " best" : ""}${was ? " was-returned" : ""}">
      <button class="primary" data-lead="${esc(c.department)}">派给 ${esc(unitName(c.department))}（${pct(c.probability)}）</button>
      ${was ? '<span class="muted">曾退单</span>' : ""}
      ${c.probability >= 0.05 || i === 0 ? words(c.words) : ""}</li>`;
  });
  if (t.suggested && !shown.has(t.suggested)) {
    out.push(`<li class="cand suggested"><button data-lead="${esc(t.suggested)}">派给 ${esc(unitName(t.suggested))}（异议建议）</button></li>`);
  }
  return out.length ? `<ol class="candidates">${out.join("")}</ol>` : '<div class="muted">无候选单位，请在下方选择</div>';
}

function unitOptions() {
  return ['<option value="">— 选择其他单位 —</option>']
    .concat(desk.units.map((u) => `<option value="${esc(u.code)}">${esc(u.name)}（${esc(u.code)}）</option>`)).join("");
}

function dueClass(iso) {
  if (!iso) return "";
  const due = Date.parse(iso), now = serverNow();
  if (due < now) return "overdue";
  return due - now < 24 * 3600 * 1000 ? "due-soon" : "";
}

function why(t) {
  const by = t.returned_by ? `${esc(unitName(t.returned_by))}：` : "";
  const reason = t.reason ? `<span class="reason">${by}${esc(t.reason)}</span>` : (by ? `<span class="reason">${by}</span>` : "");
  // no figure beside 模型不确定: the classifier's confidence (1 − p2/p1) was misread as a unit's share;
  // the candidates' own shares are on their buttons
  return `<span class="why" data-why="${esc(t.why)}">${esc(t.why_label)}</span> ${reason}`;
}

function build(t) {
  const tpl = document.createElement("template");
  const marks = [t.urgency !== "normal" ? "紧急" : "", t.escalation_level > 0 ? "督办" : "", t.reopen_count > 0 ? "重办" : ""]
    .filter(Boolean).map((m) => `<span class="tag prio">${m}</span>`).join("");
  tpl.innerHTML = `<article class="hall-ticket ${dueClass(t.resolve_due)}" data-ticket="${esc(t.number)}"
      data-version="${t.version}" data-action="${esc(t.action)}">
    <div class="hall-head">
      <button class="toggle" data-toggle aria-expanded="false">▸</button>
      <span class="num">${esc(t.number)}</span> <span>${esc(t.kind_label)}</span>
      <span>${esc(t.district || "—")}</span> <span class="num muted">${esc(t.caller_phone || "—")}</span>
      ${why(t)} ${marks}
      <span class="spacer"></span>
      <span class="muted">等待 <span class="num" data-since="${esc(t.waiting_since)}">${fmtDuration(t.waiting_s)}</span></span>
      <span class="muted">办结期限 <span class="num due">${esc(fmtTime(t.resolve_due))}</span></span>
    </div>
    <div class="excerpt">${esc(t.excerpt)}</div>
    ${candidateButtons(t)}
    <div class="hall-more" hidden>
      <div class="description">${esc(t.description)}</div>
      <div class="muted">分类：${esc(t.category || "—")} · 地址：${esc(t.address || "—")} · 受理：${esc(fmtTime(t.created_at))}</div>
      <div class="other"><select class="unit" aria-label="其他单位">${unitOptions()}</select>
        <button data-other>派出</button></div>
      <input class="note" maxlength="2000" placeholder="派单说明（可选）" aria-label="派单说明">
    </div>
    <div class="msg row-msg"></div>
  </article>`;
  return tpl.content.firstElementChild;
}

/* Keep what the dispatcher typed or chose when a changed ticket is re-rendered. */
function carry(from, to) {
  to.querySelector(".note").value = from.querySelector(".note").value;
  to.querySelector(".unit").value = from.querySelector(".unit").value;
  if (!from.querySelector(".hall-more").hidden) toggle(to, true);
  const msg = from.querySelector(".row-msg");
  if (msg.textContent) to.querySelector(".row-msg").replaceWith(msg);
}

function sync(items) {
  const box = $("queue");
  const present = new Map([...box.querySelectorAll("article[data-ticket]")].map((el) => [el.dataset.ticket, el]));
  let prev = null;
  for (const t of items) {
    let el = present.get(t.number);
    present.delete(t.number);
    if (el && Number(el.dataset.version) !== t.version) {
      const fresh = build(t);
      carry(el, fresh);
      el.replaceWith(fresh);
      el = fresh;
    }
    if (!el) el = build(t);
    const want = prev ? prev.nextElementSibling : box.firstElementChild;
    if (want !== el) box.insertBefore(el, want);
    prev = el;
  }
  for (const el of present.values()) if (!desk.busy.has(el.dataset.ticket)) el.remove();
  $("empty").hidden = items.length > 0;
}

async function refresh() {
  try {
    const doc = await apiCall("GET", "/api/hall/queue");
    syncClock(doc.at);
    sync(doc.items);
    const overdue = doc.items.filter((t) => dueClass(t.resolve_due) === "overdue").length;
    $("summary").textContent = `待派 ${doc.total} 件${doc.total > doc.items.length ? `（显示 ${doc.items.length} 件）` : ""} · 超期 ${overdue} 件`;
    setLive($("live"), desk.socketUp, true);
  } catch (e) {
    setLive($("live"), false, false);
  }
}

function notice(text, kind, number) {
  const li = document.createElement("li");
  li.className = `msg ${kind}`;
  li.dataset.ticket = number;
  li.textContent = `${new Date(serverNow()).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false })} ${text}`;
  $("notices").prepend(li);
  while ($("notices").children.length > 8) $("notices").lastElementChild.remove();
}

function toggle(el, open) {
  const more = el.querySelector(".hall-more"), btn = el.querySelector("[data-toggle]");
  more.hidden = !open;
  btn.textContent = open ? "▾" : "▸";
  btn.setAttribute("aria-expanded", String(open));
}

/* A 409: look at the ticket now. Gone from the hall: someone else dispatched it; still here: it
   changed under the dispatcher's eyes (edited, returned again), so the row is re-read. */
async function explainConflict(el, number, err) {
  let now = null;
  try { now = await apiCall("GET", `/api/tickets/${encodeURIComponent(number)}`); } catch (e) { now = null; }
  if (now && !HALL_STATUSES.has(now.status)) {
    notice(`工单 ${number} 已被他人处理：${label("status", now.status)}${now.lead_department ? ` → ${unitName(now.lead_department)}` : ""}，本次未派出`, "err", number);
    el.remove();
    return;
  }
  const msg = el.querySelector(".row-msg");
  msg.className = "msg err row-msg";
  msg.textContent = `工单刚被他人修改，已重新读取，请核对后再派（${err.message}）`;
}

async function dispatchTo(el, lead) {
  const number = el.dataset.ticket, action = el.dataset.action;
  const msg = el.querySelector(".row-msg");
  const note = el.querySelector(".note").value.trim();
  const body = { lead, version: Number(el.dataset.version) };
  if (note) body.note = note;
  desk.busy.add(number);
  el.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  msg.className = "msg row-msg";
  msg.textContent = `正在派往 ${unitName(lead)}…`;
  try {
    const t = await apiCall("POST", `/api/tickets/${encodeURIComponent(number)}/${action}`, body);
    el.remove();
    notice(`工单 ${number} 已派往 ${unitName(t.lead_department)}`, "ok", number);
  } catch (e) {
    msg.className = "msg err row-msg";
    msg.textContent = `派单失败：${e.message || e}`;
    if (e.status === 409) await explainConflict(el, number, e);
  } finally {
    desk.busy.delete(number);
    el.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    refresh();
  }
}

function onClick(ev) {
  const el = ev.target.closest("article[data-ticket]");
  if (!el) return;
  if (ev.target.closest("[data-toggle]")) { toggle(el, el.querySelector(".hall-more").hidden); return; }
  const cand = ev.target.closest("button[data-lead]");
  if (cand) { dispatchTo(el, cand.dataset.lead); return; }
  if (ev.target.closest("button[data-other]")) {
    const unit = el.querySelector(".unit").value;
    if (!unit) {
      const msg = el.querySelector(".row-msg");
      msg.className = "msg err row-msg";
      msg.textContent = "请先选择承办单位";
      return;
    }
    dispatchTo(el, unit);
  }
}

async function init() {
  const me = await loadSession();
  if (!me) return;
  const names = await unitNames();  // the catalogue (GET /api/departments), once
  desk.units = Object.entries(names).filter(([code]) => code !== "hall").map(([code, name]) => ({ code, name }));
  $("queue").addEventListener("click", onClick);
  await refresh();
  liveSocket("/ws/dept/hall", (msg) => {
    if (msg.type === "ticket") refresh();
    else if (msg.type === "live") setLive($("live"), desk.socketUp, msg.live);
  }, (up) => { desk.socketUp = up; setLive($("live"), up, true); if (up) refresh(); });
  setInterval(refresh, POLL_MS);
  startTicker();
}

init();
