/* Agent desktop: state buttons call the ACD REST API, the call panel, caller history and live
   transcript come from /ws/agent/{id}, the ticket form posts to /api/tickets prefilled with the call. */
"use strict";

const params = new URLSearchParams(location.search);
let agentId = "";  // from the session (a supervisor may look at ?agent=)
let seatId = params.get("seat") || "";  // else chosen from the registered softphones
const DISTRICTS = ["东区", "西区", "仁和区", "钒钛高新区", "米易县", "盐边县"];
const PAUSE_CHOICES = ["break", "meal", "training", "ticket_work", "supervisor"];
let socketUp = false, snap = null, lastCall = null, busy = false;

const $ = (id) => document.getElementById(id);

function say(el, text, ok) { el.textContent = text; el.className = `msg ${ok ? "ok" : "err"}`; }

const api = apiCall;  /* session.js: CSRF token, back to /login when the session is gone */

async function action(name, body) {
  if (busy) return;
  busy = true;
  try {
    const agent = await api("POST", `/api/agents/${encodeURIComponent(agentId)}/${name}`, body);
    say($("msg"), { login: "签入成功", logout: "签出成功", pause: "小休已生效", unpause: "已恢复接听" }[name], true);
    $("msg").dataset.state = agent.state;  /* cleared once the state moves on (renderState) */
  } catch (e) {
    say($("msg"), e.code === "not_on_shift" ? offShiftText(e.data || {}) : `操作失败：${e.message || e}`, false);
  } finally {
    busy = false;
    updateButtons();
  }
}

/* The off-shift refusal for a person: the team, Beijing time, who is on shift, how to get in
   (a supervisor signs the agent in by opening this desk with the agent and the seat). */
function offShiftText(d) {
  const teams = (d.on_shift_teams || []).map((t) => `${t} 班`).join("、") || "无";
  const at = d.at ? new Date(d.at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false,
    month: "long", day: "numeric", hour: "2-digit", minute: "2-digit" }) : "";
  const url = `/agent?agent=${encodeURIComponent(d.agent_id || agentId)}&seat=${encodeURIComponent(seatId)}`;
  return `不在本班次：您属 ${d.team || "—"} 班，现在是北京时间 ${at}，当前在班：${teams}。` +
    `如需班外签入，请班长登录后打开 ${url} 为您签入。`;
}

function login() {
  return action("login", { seat: seatId });  // the phone dialled comes from the seat roster
}

function updateButtons() {
  const st = snap && snap.agent ? snap.agent.state : "logged_out";
  $("btn-login").disabled = busy || st !== "logged_out";
  $("btn-logout").disabled = busy || !["available", "paused", "wrap_up", "unreachable"].includes(st);
  $("btn-pause").disabled = busy || !["available", "wrap_up", "paused", "on_call", "ringing"].includes(st);
  $("btn-unpause").disabled = busy || st !== "paused";
}

function renderState(a) {
  const st = a ? a.state : "logged_out";
  const reason = st === "paused" && a.pause_reason ? `（${label("pause", a.pause_reason)}）` : "";
  const pending = a && a.pending_pause ? ` · 待小休（${label("pause", a.pending_pause)}）` : "";
  $("state").textContent = label("state", st) + reason + pending;
  $("state").className = `badge state-${st}`;
  $("state").dataset.state = st;
  if (a && a.since && st !== "logged_out") $("state-time").dataset.since = a.since;
  else { delete $("state-time").dataset.since; $("state-time").textContent = ""; }
  /* the sign-in line follows the state; an action's confirmation goes once the state moves on */
  $("signin").textContent = st === "logged_out" ? "未签入" : `已签入${a.seat_id ? `（席位 ${a.seat_id}${
    a.override_by ? "，班外签入" : ""}）` : ""}：${label("state", st)}${reason}`;
  $("signin").dataset.state = st;
  const msg = $("msg");
  if (msg.classList.contains("ok") && msg.dataset.state && msg.dataset.state !== st) {
    msg.textContent = ""; msg.className = "msg"; delete msg.dataset.state;
  }
}

function renderShift(on, a) {
  const mine = a && a.team && a.state !== "logged_out"
    ? ` · 本人 ${a.team} 班组${a.on_shift === false ? "（不在班）" : ""}` : "";
  $("on-shift").textContent = on ? onShiftText(on) + mine : "";
}

function renderHistory(h) {
  const box = $("history");
  if (!h) { box.innerHTML = '<div class="empty">接通来电后显示该号码的历史来电与工单</div>'; return; }
  // the call's page (recording and transcript): an agent hears their own calls, the hall any
  const me = SESSION.user || {};
  const hears = (c) => c.answered_at && c.ended_at && (me.role === "supervisor" || (c.agent_id && c.agent_id === me.agent_id));
  const calls = h.calls.map((c) => `<tr><td>${esc(fmtTime(c.entered_at))}</td><td>${esc(label("queue", c.queue))}</td>
      <td>${c.disposition ? esc(label("disposition", c.disposition)) : "进行中"}</td><td>${esc(c.agent_id || "—")}</td>
      <td>${hears(c) ? `<a href="/calls/${encodeURIComponent(c.call_id)}" target="_blank" data-recording="${esc(c.call_id)}">录音</a>` : ""}</td></tr>`).join("");
  const tickets = h.tickets.map((t) => `<tr data-ticket="${esc(t.number)}"><td class="num">${esc(t.number)}</td>
      <td>${esc(label("kind", t.kind))}</td><td>${esc(label("status", t.status))}</td><td>${esc(t.category || "—")}</td>
      <td>${esc(fmtTime(t.created_at))}</td><td>${esc(t.description)}</td>
      <td>${t.status === "closed" ? "" : `<button type="button" data-person="${esc(t.number)}" title="办结后由坐席回访，不用自动语音">需人工回访</button>`}</td></tr>`).join("");
  box.innerHTML = `<div class="muted">号码 ${esc(h.phone_masked)} · 来电 ${h.calls.length} 次 · 工单 ${h.tickets.length} 件</div>
    <h3>历史来电</h3>${calls ? `<table><thead><tr><th>时间</th><th>队列</th><th>结果</th><th>坐席</th><th></th></tr></thead><tbody>${calls}</tbody></table>` : '<div class="empty">无</div>'}
    <h3>历史工单</h3>${tickets ? `<table id="history-tickets"><thead><tr><th>工单号</th><th>类型</th><th>状态</th><th>分类</th><th>受理时间</th><th>描述</th><th></th></tr></thead><tbody>${tickets}</tbody></table>` : '<div class="empty">无</div>'}`;
}

/* The agent's own post-call ratings today (坐席服务评价). */
function renderRatings(r) {
  const box = $("my-ratings");
  if (!r) { box.textContent = "今日服务评价：—"; return; }
  box.innerHTML = `今日服务评价：有效评价 <b class="num" data-figure="rated">${r.rated}</b> 次 · 满意率
    <b class="num" data-figure="satisfaction">${fmtPct(r.satisfaction)}</b>${r.offered > r.rated ? `（未评价 ${r.offered - r.rated}）` : ""}`;
}

function render(msg) {
  snap = msg;
  renderState(msg.agent);
  if (window.deskPhone && SESSION.user && SESSION.user.role === "agent") window.deskPhone(msg.agent);
  renderShift(msg.on_shift, msg.agent);
  renderRatings(msg.ratings);
  if (msg.call) {
    transcriptFor(msg.call.call_id);
    showSurvey(msg.call.call_id);
    loadTranscript(msg.call);
    if (!lastCall || lastCall.call.call_id !== msg.call.call_id) $("t-msg").textContent = "";
    lastCall = { call: msg.call, history: msg.history };
  }
  const call = msg.call || (lastCall && lastCall.call);
  renderCall(call, Boolean(msg.call) && msg.call.state !== "ended");
  renderHistory(msg.history || (lastCall && lastCall.history));
  $("t-call").textContent = call ? `${call.caller_masked || "未知号码"}（${fmtTime(call.entered_at)} 来电）` : "无（不关联来电）";
  $("t-call").dataset.callId = call ? call.call_id : "";
  updateButtons();
  setLive($("live"), socketUp, msg.live);
}

/* Live transcript of the current call: finals (stored; fetched again when the page loads during
   a call) in order of `start`, and per speaker the latest partial, greyed, until its final. A
   "provisional" (the text at the early end of an utterance, ~0.25 s of silence) takes the
   partial's place in plain text: the final, ~0.3 s later, replaces it (or, if the speaker goes
   on, the next partial does).
   The controller says at call start whether this call is transcribed (a "status" event);
   "转写不可用" then shows beside the call and above the transcript. */
const transcript = { callId: null, finals: new Map(), partials: {}, available: null, loaded: false, tries: 0 };

function transcriptFor(callId) {
  if (!callId || transcript.callId === callId) return;
  Object.assign(transcript, { callId, finals: new Map(), partials: {}, available: null, loaded: false, tries: 0 });
  renderTranscript();
}

/* The stored finals, once the call is bridged to this desk (before, it is not yet ours to read);
   a refusal while the call record catches up is asked again at the next update, a few times. */
function loadTranscript(call) {
  const callId = call.call_id;
  if (transcript.callId !== callId || transcript.loaded || transcript.tries >= 5) return;
  if (call.state !== "bridged" && call.state !== "ended" && !call.answered_at) return;
  transcript.loaded = true;
  transcript.tries += 1;
  api("GET", `/api/calls/${encodeURIComponent(callId)}/transcript`).then((doc) => {
    if (transcript.callId !== callId) return;
    for (const s of doc.segments || []) {
      addFinal({ leg: s.leg, seq: s.seq, start: s.start_s, end: s.end_s, text: s.text, status: s.status });
    }
    if (doc.available === false && transcript.available === null) transcript.available = false;
    renderTranscript();
  }).catch(() => { if (transcript.callId === callId) transcript.loaded = false; });
}

function addFinal(p) {
  const key = `${p.leg}:${p.seq}`;
  if (!transcript.finals.has(key)) transcript.finals.set(key, p);
  const partial = transcript.partials[p.leg];
  if (partial && partial.seq <= p.seq) delete transcript.partials[p.leg];
}

function onTranscript(p) {
  if (!p || !p.call_id) return;
  transcriptFor(p.call_id);
  if (p.type === "status") transcript.available = Boolean(p.available);
  else if (p.type === "final") addFinal(p);
  else if (p.type === "partial" || p.type === "provisional") {
    const done = [...transcript.finals.values()].some((f) => f.leg === p.leg && f.seq >= p.seq);
    if (!done) transcript.partials[p.leg] = p;
  } else return;
  renderTranscript();
}

function transcriptLine(p, partial) {
  const who = p.leg === "agent" ? "坐席" : "市民";
  const missing = p.status === "未转写" || !p.text;
  const kind = partial ? (p.type === "provisional" ? " provisional" : " partial") : "";
  const cls = `line ${p.leg === "agent" ? "agent" : "citizen"}${kind}${missing ? " untranscribed" : ""}`;
  return `<div class="${cls}" data-leg="${esc(p.leg)}" data-seq="${esc(p.seq)}"><span class="who">${who}：</span>`
    + `<span class="text">${esc(missing ? "（未转写）" : p.text)}</span></div>`;
}

function renderTranscriptionBadge() {
  const badge = $("call-transcription");
  if (!badge) return;
  const mine = badge.closest("#call").querySelector("#caller");
  const current = mine && mine.dataset.callId === transcript.callId;
  badge.textContent = !current || transcript.available === null ? "—" : (transcript.available ? "转写中" : "转写不可用");
  badge.className = current && transcript.available === false ? "err" : "";
}

function renderTranscript() {
  const box = $("transcript"), status = $("transcript-status");
  if (transcript.available === false) say(status, "转写不可用", false);
  else { status.textContent = ""; status.className = "msg"; }
  renderTranscriptionBadge();
  if (!transcript.callId) { box.innerHTML = '<div class="empty">接通来电后显示通话转写</div>'; return; }
  const finals = [...transcript.finals.values()].sort((a, b) => (a.start - b.start) || (a.seq - b.seq));
  const partials = Object.values(transcript.partials).sort((a, b) => a.start - b.start);
  const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  box.innerHTML = finals.map((p) => transcriptLine(p, false)).join("")
    + partials.map((p) => transcriptLine(p, true)).join("")
    || '<div class="empty">暂无转写内容</div>';
  if (stick) box.scrollTop = box.scrollHeight;
}

/* The citizen's own words (their finals, masked as stored) as the ticket description. */
async function prefillTicket() {
  const call = snap && snap.call ? snap.call : (lastCall && lastCall.call);
  if (!call) { say($("t-msg"), "没有关联来电，无法从转写填入", false); return; }
  $("t-prefill").disabled = true;
  try {
    const doc = await api("GET", `/api/calls/${encodeURIComponent(call.call_id)}/ticket-prefill`);
    if (!doc.description) { say($("t-msg"), doc.available === false ? "转写不可用，请手动填写" : "暂无市民的转写内容", false); return; }
    const box = $("t-description"), had = box.value.trim();
    box.value = had ? `${had}\n${doc.description}` : doc.description;
    box.dispatchEvent(new Event("input"));  /* the dispatch proposal follows the filled text */
    say($("t-msg"), "已从通话转写填入诉求描述，请核对修改", true);
  } catch (e) {
    say($("t-msg"), `填入失败：${e.message || e}`, false);
  } finally {
    $("t-prefill").disabled = false;
  }
}

async function submitTicket(ev) {
  ev.preventDefault();
  const call = snap && snap.call ? snap.call : (lastCall && lastCall.call);
  const body = { kind: $("t-kind").value, description: $("t-description").value.trim(), channel: "call",
    category: $("t-category").value.trim(), address: $("t-address").value.trim() };
  if ($("t-district").value) body.district = $("t-district").value;
  if (call) { body.call_ids = [call.call_id]; if (call.caller) body.caller_phone = call.caller; }
  const key = `desk-${agentId}-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
  const person = $("t-person").checked;
  $("t-submit").disabled = true;
  try {
    const t = await api("POST", "/api/tickets", body, { "Idempotency-Key": key });
    let text = `已受理，工单号 ${t.number}${t.created === false ? "（已并入已有工单）" : ""}`, ok = true;
    if (person) {
      const flagged = await flagForPerson(t.number, "坐席建单时标记");
      text += flagged === true ? " · 已标记人工回访" : ` · 人工回访标记失败：${flagged}`;
      ok = flagged === true;
    }
    say($("t-msg"), text, ok);
    $("t-msg").dataset.ticket = t.number;
    $("ticket-form").reset();
    if (t.routing) showRouting($("t-routing"), t.routing, true);  /* routing.js: what dispatch decided, and why */
  } catch (e) {
    say($("t-msg"), `建单失败：${e.message || e}`, false);
  } finally {
    $("t-submit").disabled = false;
  }
}

/* 需人工回访: a person (an agent, through the ACD) makes this ticket's 回访, not the automated
   survey; true, or the reason it failed. */
async function flagForPerson(number, reason) {
  try {
    await api("POST", "/api/surveys/person-callbacks", { ticket: number, reason });
    return true;
  } catch (e) {
    return String(e.message || e);
  }
}

/* An agent-driven ticket callback (回访 by a person, call id sv-...): the ticket's facts and the
   result form; the server accepts a result only from the agent who talked to the citizen. The
   dialler stores who talked a moment after the ACD bridges (its report is not waited on): a
   callback not listed yet is asked again every second for a while. */
let surveyCallback = null;
const surveyAsk = { callId: null, tries: 0, timer: null };

async function showSurvey(callId) {
  if (!callId || !callId.startsWith("sv-") || (surveyCallback && surveyCallback.callback_id === callId)) return;
  if (surveyAsk.callId !== callId) { clearTimeout(surveyAsk.timer); Object.assign(surveyAsk, { callId, tries: 0, timer: null }); }
  let doc = null;
  try { doc = await api("GET", `/api/agents/${encodeURIComponent(agentId)}/callbacks`); } catch (e) { /* asked again */ }
  const cb = doc && (doc.callbacks || []).find((c) => c.callback_id === callId);
  if (!cb) {
    if (surveyAsk.callId === callId && !surveyAsk.timer && surveyAsk.tries < 15) {
      surveyAsk.tries += 1;
      surveyAsk.timer = setTimeout(() => { surveyAsk.timer = null; showSurvey(callId); }, 1000);
    }
    return;
  }
  surveyCallback = cb;
  $("survey-panel").hidden = false;
  $("s-rating").innerHTML = doc.scale.map((l, i) => `<option value="${i + 1}">${i + 1} ${esc(l)}</option>`).join("");
  $("survey").innerHTML = `<dl class="kv"><dt>工单号</dt><dd class="num">${esc(cb.ticket_number)}</dd>
    <dt>市民</dt><dd>${esc(cb.caller_masked || "—")}</dd><dt>类型</dt><dd>${esc(label("kind", cb.kind || ""))}</dd>
    <dt>分类</dt><dd>${esc(cb.category || "—")}</dd><dt>承办单位</dt><dd>${esc(cb.department || "—")}</dd>
    <dt>诉求</dt><dd>${esc(cb.description || "")}</dd><dt>人工回访原因</dt><dd>${esc(cb.person_reason || "—")}</dd></dl>`;
  $("s-msg").textContent = "";
  $("s-submit").disabled = !cb.result_open;
}

async function submitSurvey(ev) {
  ev.preventDefault();
  if (!surveyCallback) return;
  const body = { resolved: $("s-resolved").value === "true", satisfaction: Number($("s-rating").value),
    comment: $("s-comment").value.trim() };
  $("s-submit").disabled = true;
  try {
    await api("POST", `/api/agents/${encodeURIComponent(agentId)}/callbacks/${encodeURIComponent(surveyCallback.callback_id)}/result`, body);
    say($("s-msg"), "回访结果已保存", true);
  } catch (e) {
    say($("s-msg"), `保存失败：${e.message || e}`, false);
    $("s-submit").disabled = false;
  }
}

/* No ?seat=: offer the seats whose softphone is registered and free. */
async function chooseSeat() {
  let seats = [];
  try { seats = await apiCall("GET", "/api/seats"); } catch (e) { return; }
  // with the browser phone (window.deskPhone) any free seat will do: the page registers it
  const free = seats.filter((s) => (s.registered || window.deskPhone) && (!s.agent_id || s.agent_id === agentId));
  const box = $("seat-id");
  box.innerHTML = `<select id="seat-choice"><option value="">选择已注册话机…</option>${
    free.map((s) => `<option value="${esc(s.seat_id)}">${esc(s.seat_id)}（${esc(s.team)} 班组）</option>`).join("")}</select>`;
  $("seat-choice").onchange = (ev) => { seatId = ev.target.value; };
  if (free.length === 1) { seatId = free[0].seat_id; $("seat-choice").value = seatId; }
}

/* The call this desk is on (or just had): the knowledge widget files its 直接答复 for it. */
window.deskCall = () => (snap && snap.call) || (lastCall && lastCall.call) || null;

async function init() {
  const me = await loadSession();
  if (!me) return;
  await unitNames();  /* the IVR's department by name (session.js), before the first call shows */
  agentId = me.role === "agent" ? me.agent_id : (params.get("agent") || "");
  $("agent-id").textContent = agentId ? (me.role === "agent" ? agentId : `${agentId}（班长查看）`) : "（未指定）";
  $("seat-id").textContent = seatId || "（未指定）";
  if (!seatId) await chooseSeat();
  $("pause-reason").innerHTML = PAUSE_CHOICES.map((r) => `<option value="${r}">${label("pause", r)}</option>`).join("");
  $("t-kind").innerHTML = Object.entries(LABELS.kind).map(([k, v]) => `<option value="${k}">${v}</option>`).join("");
  $("t-district").innerHTML = '<option value="">（未知）</option>' + DISTRICTS.map((d) => `<option>${d}</option>`).join("");
  $("btn-login").onclick = login;
  $("btn-logout").onclick = () => action("logout");
  $("btn-pause").onclick = () => action("pause", { reason: $("pause-reason").value });
  $("btn-unpause").onclick = () => action("unpause");
  $("ticket-form").addEventListener("submit", submitTicket);
  $("survey-form").addEventListener("submit", submitSurvey);
  $("t-prefill").onclick = prefillTicket;
  const proposal = () => ({ text: $("t-description").value.trim(), kind: $("t-kind").value,
    ...($("t-district").value ? { district: $("t-district").value } : {}) });
  for (const id of ["t-description", "t-kind", "t-district"]) $(id).addEventListener("input", () => proposeLater($("t-routing"), proposal));
  $("history").addEventListener("click", async (ev) => {  // a ticket of this caller's, flagged later
    const b = ev.target.closest("button[data-person]");
    if (!b) return;
    b.disabled = true;
    const flagged = await flagForPerson(b.dataset.person, "坐席通话中标记");
    say($("t-msg"), flagged === true ? `工单 ${b.dataset.person} 已标记人工回访` : `人工回访标记失败：${flagged}`, flagged === true);
    b.disabled = false;
  });
  updateButtons();
  if (!agentId) { say($("msg"), "请在地址中指定 ?agent=工号&seat=席位", false); return; }
  liveSocket(`/ws/agent/${encodeURIComponent(agentId)}`, (msg) => {
    if (msg.type === "agent") render(msg);
    else if (msg.type === "event" && /^calls\/[^/]+\/transcript$/.test(msg.topic)) onTranscript(msg.payload);
  },
    (up) => { socketUp = up; setLive($("live"), up, snap ? snap.live : true); document.body.classList.toggle("stale", !up); });
  startTicker();
}

init();
