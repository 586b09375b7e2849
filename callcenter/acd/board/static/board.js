/* Supervisor live queue board: renders the snapshot pushed on /ws/board (see callcenter/acd/board). */
"use strict";

const LONG_WAIT_S = 15; // GB/T 33358-2016: answer within 15 s
let socketUp = false;
let last = null;

function kpiCard(id, name, value, target, met, extra) {
  const cls = met === true ? "met" : met === false ? "miss" : "";
  return `<div class="kpi ${cls}" data-kpi="${id}"><div class="label">${name}</div>
    <div class="value">${value}</div><div class="target">${target}${extra ? ` · ${extra}` : ""}</div></div>`;
}

function renderKpis(k, cb) {
  const box = document.getElementById("kpis");
  if (!k) { box.innerHTML = '<div class="empty">指标暂不可用</div>'; return; }
  document.getElementById("kpi-day").textContent = k.day || "";
  const pct = (x) => Math.round(x * 100);
  box.innerHTML = [
    kpiCard("answer_rate", "人工接通率", fmtPct(k.answer_rate), `目标 ≥${pct(k.answer_rate_target)}%`,
      k.answer_rate_met, `${k.answered}/${k.inbound}`),
    kpiCard("timely_rate", "应答及时率", fmtPct(k.timely_rate),
      `目标 ≥${pct(k.timely_rate_target)}%（${k.timely_answer_s} 秒内）`, k.timely_rate_met,
      `${k.timely_answered}/${k.answered}`),
    kpiCard("abandon_rate", "放弃率", fmtPct(k.abandon_rate), "短时放弃不计",
      null, `放弃 ${k.abandoned} · 短放 ${k.short_abandoned}`),
    kpiCard("asa", "平均应答时长", fmtSecs(k.asa_s), "ASA", null, ""),
    kpiCard("aht", "平均处理时长", fmtSecs(k.aht_s), "AHT（通话+整理）", null, ""),
    kpiCard("occupancy", "坐席占用率", fmtPct(k.occupancy), "通话+整理 / 在线", null, ""),
    kpiCard("inbound", "今日进线", String(k.inbound), "进入人工队列", null, `接通 ${k.answered}`),
    cb ? kpiCard("missed_callback_rate", "漏话回拨率", fmtPct(cb.rate), "回拨接通 / 应回拨漏话", null,
      `${cb.reached}/${cb.eligible}${cb.already_served ? ` · 已再次来电 ${cb.already_served}` : ""}`) : "",
  ].join("");
}

function renderQueues(queues) {
  const box = document.getElementById("queues");
  let waiting = 0;
  if (box.querySelector(".move-form")) {  // the supervisor is choosing: keep the rows still meanwhile
    return queues.reduce((n, q) => n + q.waiting.length, 0);
  }
  box.innerHTML = queues.map((q) => {
    waiting += q.waiting.length;
    const rows = q.waiting.map((w) => `<tr data-call-id="${esc(w.call_id)}">
        <td class="num">${w.position ?? "—"}</td>
        <td class="num">${esc(w.caller_masked || "—")}</td>
        <td class="num wait" data-since="${esc(w.entered_at)}" data-warn="${LONG_WAIT_S}">${fmtDuration(w.wait_s)}</td>
        <td>${w.priority > 0 ? `<span class="tag prio">优先 ${w.priority}</span>` : "普通"}</td>
        <td>${w.callback ? '<span class="tag cb">回拨</span>' : (w.callback_offered ? "已提示" : "—")}</td>
        <td><button class="move" data-move="${esc(w.call_id)}" title="调整队列或优先级">调整</button></td>
      </tr>`).join("");
    const table = q.waiting.length
      ? `<table><thead><tr><th>位置</th><th>来电</th><th>等待</th><th>优先级</th><th>回拨</th><th></th></tr></thead>
         <tbody>${rows}</tbody></table>`
      : '<div class="empty">无排队来电</div>';
    return `<div class="queue" data-queue="${esc(q.name)}">
      <h3><span>${esc(label("queue", q.name))}</span>
        <span class="count ${q.waiting.length ? "" : "zero"}">${q.waiting.length}</span>
        <span class="muted">振铃 ${q.offering} · 通话 ${q.talking}</span></h3>${table}</div>`;
  }).join("");
  return waiting;
}

function agentTile(a) {
  const reason = a.state === "paused" && a.pause_reason ? `（${label("pause", a.pause_reason)}）` : "";
  const call = a.call ? `<div class="small">${esc(label("callState", a.call.state))} ${esc(a.call.caller_masked)}
      · ${esc(label("queue", a.call.queue))}</div>` : "";
  const shift = a.on_shift === false ? '<div class="small">班外签入</div>' : "";
  return `<div class="agent state-${esc(a.state)}" data-agent-id="${esc(a.agent_id)}" data-state="${esc(a.state)}">
    <div><span class="id">${esc(a.agent_id)}</span> <span class="small">${esc(a.seat_id)}</span></div>
    <div class="st">${esc(label("state", a.state))}${esc(reason)}</div>
    <div class="small num" data-since="${esc(a.since || "")}">${fmtDuration(a.in_state_s)}</div>${call}${shift}
    ${a.state !== "logged_out" ? `<div class="sv-actions"><button data-act="pause" title="班长安排小休">小休</button>
      <button data-act="logout" class="danger" title="强制签出">签出</button>
      ${a.call && a.call.state === "bridged" ? `<button data-sv="listen" data-call="${esc(a.call.call_id)}" title="监听：双方都听不到班长">监听</button>
      <button data-sv="whisper" data-call="${esc(a.call.call_id)}" title="耳语：只有坐席听到班长">耳语</button>
      <button data-sv="barge" data-call="${esc(a.call.call_id)}" title="强插：坐席和来电人都听到班长">强插</button>` : ""}</div>` : ""}</div>`;
}

/* Listen / whisper / barge: the supervisor's own seat phone rings and joins through a snoop, or
   this page's own browser phone (本页网页电话), which answers by itself. */
const SV_LABEL = { listen: "监听", whisper: "耳语", barge: "强插" };
async function supervise(btn) {
  const seat = document.getElementById("my-seat").value;
  const msg = document.getElementById("sv-msg");
  if (!seat) { msg.textContent = "请先选择本人席位"; return; }
  localStorage.setItem("supervisorSeat", seat);
  const browser = seat === "browser";
  try {
    const w = await apiCall("POST", `/api/calls/${encodeURIComponent(btn.dataset.call)}/supervise`,
      browser ? { mode: btn.dataset.sv, phone: "browser" } : { mode: btn.dataset.sv, seat });
    msg.innerHTML = `${SV_LABEL[w.mode]}中：坐席 ${esc(w.agent_id)}，${browser ? "本页网页电话接入" : `请接听 ${esc(w.seat)} 话机`}
      <button id="sv-stop" data-sid="${esc(w.sid)}">结束</button>`;
    msg.dataset.sid = w.sid;
    msg.dataset.mode = w.mode;
  } catch (e) {
    msg.textContent = `${SV_LABEL[btn.dataset.sv]}失败：${e.message || e}`;
  }
}
document.getElementById("sv-msg").addEventListener("click", async (ev) => {
  const stop = ev.target.closest("#sv-stop");
  if (!stop) return;
  const msg = ev.currentTarget;  // null once the handler has awaited
  try { await apiCall("DELETE", `/api/supervisions/${encodeURIComponent(stop.dataset.sid)}`); } catch (e) { /* ended */ }
  msg.textContent = "";
});
(() => {
  const sel = document.getElementById("my-seat");
  sel.innerHTML = '<option value="">本人席位…</option><option value="browser">本页网页电话</option>'
    + Array.from({ length: 20 }, (_, i) => `seat${String(i + 1).padStart(2, "0")}`).map((s) => `<option>${s}</option>`).join("");
  sel.value = localStorage.getItem("supervisorSeat") || "";
  const phoneFollows = () => {  // the browser phone registers while it is the chosen one
    if (!window.boardPhone) return;
    if (sel.value === "browser") window.boardPhone.start(); else window.boardPhone.stop();
  };
  sel.addEventListener("change", phoneFollows);
  phoneFollows();
})();

/* Move a waiting call to another queue or priority (it keeps its arrival time). */
document.getElementById("queues").addEventListener("click", async (ev) => {
  const btn = ev.target.closest("button[data-move]");
  if (!btn) return;
  const row = btn.closest("tr");
  if (row.nextElementSibling && row.nextElementSibling.classList.contains("move-row")) return;
  const queues = Object.keys(LABELS.queue);
  row.insertAdjacentHTML("afterend", `<tr class="move-row"><td colspan="6"></td></tr>`);
  const cell = row.nextElementSibling.firstElementChild;
  cell.innerHTML = `<span class="move-form"><select class="mv-queue">${queues.map((q) =>
    `<option value="${q}">${esc(label("queue", q))}</option>`).join("")}</select>
    <select class="mv-prio">${[0, 1, 3, 5, 9].map((p) => `<option value="${p}">${p ? `优先 ${p}` : "普通"}</option>`).join("")}</select>
    <button class="mv-ok">确定</button></span>`;
  cell.querySelector(".mv-queue").value = row.closest("[data-queue]").dataset.queue;
  cell.querySelector(".mv-ok").onclick = async () => {
    const body = { queue: cell.querySelector(".mv-queue").value, priority: Number(cell.querySelector(".mv-prio").value) };
    cell.parentElement.remove();
    try {
      await apiCall("POST", `/api/queues/calls/${encodeURIComponent(btn.dataset.move)}/move`, body);
    } catch (e) {
      alert(`调整失败：${e.message || e}`);
    }
    if (last) render(last);
  };
});

/* Supervisor actions on an agent tile (audited on the server). */
document.getElementById("teams").addEventListener("click", async (ev) => {
  const sv = ev.target.closest("button[data-sv]");
  if (sv) { supervise(sv); return; }
  const btn = ev.target.closest("button[data-act]");
  const tile = ev.target.closest("[data-agent-id]");
  if (!btn || !tile) return;
  const id = encodeURIComponent(tile.dataset.agentId);
  btn.disabled = true;
  try {
    await apiCall("POST", `/api/agents/${id}/${btn.dataset.act}`,
      btn.dataset.act === "pause" ? { reason: "supervisor" } : undefined);
  } catch (e) {
    alert(`操作失败：${e.message || e}`);
  } finally {
    btn.disabled = false;
  }
});

function renderTeams(teams) {
  const box = document.getElementById("teams");
  let staffed = 0;
  box.innerHTML = teams.map((t) => {
    const on = t.agents.filter((a) => a.state !== "logged_out");
    staffed += on.length;
    const head = t.on_shift === null ? "" : (t.on_shift ? `当班 · ${esc(t.shift || "")}` : "休班");
    const tiles = t.agents.length ? t.agents.map(agentTile).join("") : '<div class="empty">无坐席签入</div>';
    return `<div class="team ${t.on_shift === false ? "off" : ""}" data-team="${esc(t.team)}">
      <h3>${esc(t.team)} 班组 <span class="muted">${head} · 在线 ${on.length}/${t.seats}</span></h3>
      <div class="agents">${tiles}</div></div>`;
  }).join("");
  return staffed;
}

function renderTickets(t) {
  const box = document.getElementById("tickets");
  if (!t) { box.innerHTML = '<div class="empty">工单服务未启用</div>'; return; }
  box.innerHTML = `<div>在办工单 <span class="big num" data-figure="open">${t.open ?? 0}</span></div>
    <div>超期工单 <span class="big num ${t.overdue ? "bad" : ""}" data-figure="overdue">${t.overdue ?? 0}</span></div>
    <div>督办中 <span class="big num" data-figure="escalated">${t.escalated ?? 0}</span></div>
    ${directAnswers(t.direct_answers)}`;
}

/* 直接答复率: today's enquiries answered on the call from a knowledge article. */
function directAnswers(d) {
  if (!d) return "";
  return `<div>直接答复率 <span class="big num" data-figure="direct-answer-rate">${d.rate == null ? "—" : fmtPct(d.rate)}</span>
    <span class="muted">（今日咨询 <span class="num" data-figure="enquiries">${d.enquiries}</span> 件，
    知识库直接答复 <span class="num" data-figure="direct-answers">${d.answered}</span> 件）</span>
    ${(d.teams || []).map((t) => `<span class="muted" data-direct-team="${esc(t.team)}">${esc(t.team)} 班组
      ${fmtPct(t.rate)}（${t.answered}/${t.enquiries}）</span>`).join(" ")}</div>`;
}

/* An incident's IVR announcement: spoken (it can be stopped), or rendered and waiting for the
   supervisor's confirmation (an automatic detection may be a false alarm), or not rendered yet. */
function announcementHtml(i) {
  if (i.announce) {
    return ` · <span class="tag announce-on" data-announce-state="on">语音播报中</span>
      <button class="announce-btn" data-announce="${i.id}" data-on="false">停止播报</button>`;
  }
  if (!i.prompt_ready) return "";
  return ` · <span class="tag announce-pending" data-announce-state="pending">待确认播报</span>
    <span class="muted">「${esc(i.prompt_text)}」</span>
    <button class="announce-btn" data-announce="${i.id}" data-on="true">确认播报</button>`;
}

function renderIncidents(list) {
  const box = document.getElementById("incidents");
  if (!list || !list.length) { box.innerHTML = '<div class="empty">无</div>'; return; }
  box.innerHTML = list.map((i) => `<div class="incident" data-incident="${i.id}">
    <b>${esc(i.district)}</b> ${esc(i.title)} · 关联 <span class="num" data-figure="linked">${i.linked}</span> 件
    · 主单 ${esc(i.master_ref)} · <span class="muted">${esc(fmtTime(i.opened_at))}</span>${announcementHtml(i)}
    <span class="announce-msg muted"></span></div>`).join("");
}

/* 确认播报 / 停止播报: the next snapshot shows the announcement's new state. */
document.getElementById("incidents").addEventListener("click", async (ev) => {
  const btn = ev.target.closest("button[data-announce]");
  if (!btn) return;
  const msg = btn.parentElement.querySelector(".announce-msg");
  btn.disabled = true;
  try {
    await apiCall("POST", `/api/dispatch/incidents/${encodeURIComponent(btn.dataset.announce)}/announce`,
      { on: btn.dataset.on === "true" });
    msg.textContent = btn.dataset.on === "true" ? "已确认播报" : "已停止播报";
  } catch (e) {
    msg.textContent = `操作失败：${e.message || e}`;
    btn.disabled = false;
  }
});

/* Today's post-call ratings (坐席服务评价) by team: satisfied share of valid answers. */
function renderRatings(r) {
  const box = document.getElementById("ratings");
  if (!r) { box.innerHTML = '<div class="empty">评价未启用</div>'; return; }
  if (!r.offered) { box.innerHTML = '<div class="empty">今日暂无评价</div>'; return; }
  const row = (name, x, team) => `<tr data-rating-team="${esc(team)}"><td>${name}</td>
    <td class="num" data-figure="satisfaction">${fmtPct(x.satisfaction)}</td>
    <td class="num" data-figure="rated">${x.rated}</td><td class="num">${x.offered - x.rated}</td></tr>`;
  box.innerHTML = `<table><thead><tr><th>班组</th><th>满意率</th><th>有效评价</th><th>未评价</th></tr></thead>
    <tbody>${r.teams.map((t) => row(`${esc(t.team)} 班组`, t, t.team)).join("")}${row("合计", r, "*")}</tbody></table>`;
}

/* This week's quality reviews (质检): the hall's and each team's average score and calls with a
   fatal hit (一票否决), the fatal items, the appeals' outcomes. */
function renderQuality(q) {
  const box = document.getElementById("quality");
  if (!q) { box.innerHTML = '<div class="empty">质检未启用</div>'; return; }
  if (!q.reviewed) { box.innerHTML = '<div class="empty">本周暂无质检结果</div>'; return; }
  const row = (name, x, team) => `<tr data-quality-team="${esc(team)}"><td>${name}</td>
    <td class="num" data-figure="qa-average">${x.average}</td><td class="num" data-figure="qa-reviewed">${x.reviewed}</td>
    <td class="num" data-figure="qa-fatal">${x.fatal}</td></tr>`;
  const a = q.appeals || {};
  const items = (q.fatal_items || []).map((x) => `${esc(x.name)} ${x.hits}`).join("、") || "无";
  box.innerHTML = `<table><thead><tr><th>班组</th><th>平均分</th><th>质检通话</th><th>一票否决</th></tr></thead>
    <tbody>${q.teams.map((t) => row(`${esc(t.team || "—")} 班组`, t, t.team || "")).join("")}${row("合计", q, "*")}</tbody></table>
    <div class="muted" data-testid="qa-appeals">一票否决项：${items} · 申诉 ${a.filed || 0}：成立 ${a.upheld || 0}，驳回 ${a.rejected || 0}，待裁决 ${a.pending || 0}</div>`;
}

function renderRecording(r) {
  const box = document.getElementById("recording");
  if (!r) { box.innerHTML = '<div class="empty">录音未启用</div>'; return; }
  const recent = (r.recent_failures || []).slice(0, 3).map((f) =>
    `<li data-testid="recording-failure"><a href="/calls/${encodeURIComponent(f.call_id)}">${esc(f.call_id)}</a> ${esc(f.reason)}</li>`).join("");
  box.innerHTML = `<div class="${r.failures ? "alert" : ""}">录音中 <b data-figure="recording-live">${r.live}</b> ·
    已保存 <b data-figure="recording-stored">${r.stored}</b> ·
    录音失败 <b data-figure="recording-failures">${r.failures}</b>（通话不受影响）</div>${recent ? `<ul>${recent}</ul>` : ""}
    <div class="muted" data-testid="recording-where">存放：${r.storage === "dir" ? "目录" : esc(r.storage || "")} ${esc(r.where || "")}（保存 ${esc(r.retention_days)} 天，法律保全的除外；市民左声道、坐席右声道）</div>
    <div class="muted" data-testid="recording-who">${esc(r.who_hears || "")}</div>`;
}

function render(snap) {
  last = snap;
  renderRecording(snap.recording);
  renderKpis(snap.kpi, snap.callbacks);
  const waiting = renderQueues(snap.queues || []);
  const staffed = renderTeams(snap.teams || []);
  renderTickets(snap.tickets);
  renderIncidents(snap.incidents);
  renderRatings(snap.ratings);
  renderQuality(snap.quality);
  document.getElementById("summary").textContent = `排队 ${waiting} · 在线坐席 ${staffed}`;
  document.getElementById("on-shift").textContent = onShiftText(snap.on_shift);
  setLive(document.getElementById("live"), socketUp, snap.live);
}

loadSession().then((me) => {
  if (!me) return;
  document.getElementById("link-dispatch").hidden = me.role !== "supervisor";  // 派单台: the hall's dispatcher
  // every (re)connect starts with a full snapshot: the page never keeps stale state as live
  liveSocket("/ws/board", (msg) => { if (msg.type === "board") render(msg); }, (up) => {
    socketUp = up;
    setLive(document.getElementById("live"), up, last ? last.live : true);
    document.body.classList.toggle("stale", !up);  // until the fresh snapshot after a reconnect
    if (!up) fetch("/api/session").then((r) => { if (r.status === 401) toLogin(); });
  });
});
startTicker();
setInterval(() => {
  document.getElementById("clock").textContent = new Date(serverNow()).toLocaleTimeString("zh-CN",
    { timeZone: "Asia/Shanghai", hour12: false });
}, 1000);
