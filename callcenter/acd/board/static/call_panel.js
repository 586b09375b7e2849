/* The agent desk's call panel (loaded before agent.js): the masked number, the call's state and
   queue, and what the IVR learnt, for a person. */
"use strict";

/* What the IVR learnt, for a person: queues, skills and departments by name; each step of the
   path by its label from the flow file (the node id only for a path recorded before labels). */
const IVR_INPUT = { "<none>": "未按键", "<skipped>": "跳过", "<typeahead kept>": "已提前按键", open: "服务时间内",
  closed: "服务时间外", attached: "已登记", attach_failed: "登记失败" };

function ivrValue(key, value) {
  if (key === "queue" || key === "skill") return label("queue", value);
  if (key === "department") return unitName(value);
  if (key === "language") return { zh: "普通话", dialect: "方言" }[value] || value;
  return value;
}

function ivrInput(text) {
  if (!text) return "";
  if (/^[0-9*#]+$/.test(text)) return `（按 ${text}）`;
  return `（${IVR_INPUT[text] || label("status", text)}）`;
}

function renderCall(call, current) {
  const box = $("call");
  if (!call) { box.innerHTML = '<div class="empty">暂无来电</div>'; return; }
  const ivr = Object.entries(call.ivr || {}).map(([k, v]) => `${esc(label("ivr", k))}：${esc(ivrValue(k, v))}`).join("；") || "—";
  const path = (call.ivr_path || []).map((s) => `<span class="ivr-step" data-node="${esc(s.node)}">${
    esc(s.label || s.node)}${esc(ivrInput(s.input))}</span>`).join(" → ");
  const state = current ? label("callState", call.state) : "已结束（可继续建单）";
  const since = call.answered_at || call.entered_at;
  box.innerHTML = `<div class="call-number" id="caller" data-call-id="${esc(call.call_id)}">${esc(call.caller_masked || "未知号码")}</div>
    <dl class="kv">
      <dt>状态</dt><dd id="call-state">${esc(state)}</dd>
      <dt>队列</dt><dd>${esc(label("queue", call.queue))}${call.priority ? ` · 优先 ${call.priority}` : ""}${call.callback ? " · 回拨" : ""}</dd>
      <dt>拨入号码</dt><dd>${esc(call.dnis || "—")}${call.line && call.line !== call.dnis ? `（${esc(call.line)}）` : ""}</dd>
      <dt>IVR 选择</dt><dd>${ivr}</dd>
      ${path ? `<dt>IVR 路径</dt><dd>${path}</dd>` : ""}
      <dt>时长</dt><dd class="num" ${current && since ? `data-since="${esc(since)}"` : ""}>${current ? fmtDuration(secondsSince(since)) : "—"}</dd>
      <dt>来电时间</dt><dd class="num" title="来电编号 ${esc(call.call_id)}">${esc(fmtTime(call.entered_at))}</dd>
      <dt>通话转写</dt><dd id="call-transcription">—</dd>
    </dl>`;
  renderTranscriptionBadge();
}
