/* Shared helpers of every page (served as /static/web/common.js): labels, time formatting, a WebSocket
   that reconnects with back-off and hands every JSON message to a callback. No dependencies. */
"use strict";

const LABELS = {
  state: {
    logged_out: "未签入", available: "空闲", ringing: "振铃", on_call: "通话中", wrap_up: "话后整理",
    paused: "小休", unreachable: "话机离线",
  },
  pause: {
    break: "小休", meal: "用餐", training: "培训", ticket_work: "工单处理", supervisor: "班长安排",
    missed_call: "未接来电",
  },
  queue: {
    general: "综合咨询", market: "市场监管 12315", housing_fund: "公积金 12329", hr_social: "人社 12333",
    transport: "交通 12328", dialect: "方言坐席",
  },
  callState: {
    queued: "排队中", offering: "振铃中", bridged: "通话中", callback_wait: "等待回拨",
    callback_agent: "回拨振铃", callback_dialing: "回拨呼叫市民", callback_parked: "回拨待重试", ended: "已结束",
  },
  ivr: { queue: "队列", skill: "技能", priority: "优先级", department: "部门", line: "热线", language: "语言",
    dnis: "拨入号码" },
  disposition: { answered: "已接通", abandoned: "放弃", lost: "中断", selftest_ok: "自检" },
  kind: { enquiry: "咨询", help: "求助", complaint: "投诉", report: "举报", suggestion: "建议", praise: "表扬" },
  audit: {
    login: "登录", login_failed: "登录失败", login_throttled: "登录受限", login_lock_lifted: "解除登录限制",
    logout: "退出登录", user_added: "新增用户", user_disabled: "停用用户", role_changed: "变更角色",
    password_changed: "修改密码", show_number: "查看完整号码", supervise: "监听/耳语/强插",
    supervise_end: "结束监听", sign_in_by_supervisor: "班长代签入", force_logout: "强制签出",
    force_pause: "强制小休", call_moved: "调整排队", ticket_dispatched: "派单", ticket_reassigned: "改派",
    dispatch_model_trained: "训练派单模型", dispatch_model_activated: "启用派单模型",
    incident_announcement: "热点播报", survey_optout: "拒绝回访登记", survey_person_callback: "人工回访登记",
    ivr_blacklist_added: "加入IVR黑名单", ivr_blacklist_removed: "移出IVR黑名单",
    kb_article_created: "新建知识条目", kb_article_changed: "修改知识条目", kb_article_submitted: "知识条目提交审核",
    kb_article_published: "发布知识条目", kb_article_rejected: "退回知识条目", kb_article_expired: "下线知识条目",
    kb_import: "导入知识库", kb_article_proposed: "办结回复提议为知识条目",
    recording_played: "收听录音", recording_downloaded: "下载录音", recording_held: "录音法律保全",
    recording_deleted: "录音到期删除", qa_appeal_decided: "质检申诉裁决", qa_word_list_changed: "修改质检词表",
  },
  status: {
    accepted: "已受理", dispatched: "已派单", acknowledged: "已签收", in_progress: "办理中", resolved: "已办结",
    surveyed: "已回访", closed: "已归档", returned: "已退单", merged: "已并单",
  },
};

function label(group, key) {
  if (key === null || key === undefined || key === "") return "—";
  return (LABELS[group] && LABELS[group][key]) || key;
}

/* Who is on shift now (4班3倒), from a snapshot's `on_shift`: "当前在班：A 班组（早班 08:00–16:00）". */
function onShiftText(on) {
  if (!on) return "";
  const teams = (on.teams || []).map((t) => `${t.team} 班组（${t.shift} ${t.start}–${t.end}）`).join("、");
  return `当前在班：${teams || "无"}`;
}

/* Server clock offset: durations tick on the client but are measured against server time. */
const clock = { offset: 0 };
function syncClock(serverIso) {
  const t = Date.parse(serverIso);
  if (!Number.isNaN(t)) clock.offset = t - Date.now();
}
function serverNow() { return Date.now() + clock.offset; }

function secondsSince(iso) {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, (serverNow() - t) / 1000);
}

function fmtDuration(s) {
  if (s === null || s === undefined) return "—";
  s = Math.floor(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = String(m).padStart(2, "0"), ss = String(sec).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function fmtPct(x) { return x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`; }
function fmtSecs(x) { return x === null || x === undefined ? "—" : `${Math.round(x)} 秒`; }

function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false, month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

/* Keep elements with data-since / data-tick ticking once a second. */
function startTicker() {
  setInterval(() => {
    document.querySelectorAll("[data-since]").forEach((el) => {
      el.textContent = fmtDuration(secondsSince(el.dataset.since));
      const warn = Number(el.dataset.warn || 0);
      if (warn) el.classList.toggle("long", secondsSince(el.dataset.since) >= warn);
    });
  }, 1000);
}

/* A WebSocket that reconnects (0.5 s doubling to 5 s) and reports its state. */
function liveSocket(path, onMessage, onState) {
  let backoff = 500, ws = null;
  function open() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}${path}`);
    ws.onopen = () => { backoff = 500; onState(true); };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.at) syncClock(msg.at);
      onMessage(msg);
    };
    ws.onclose = () => {
      onState(false);
      setTimeout(open, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
    ws.onerror = () => ws.close();
  }
  open();
  return { refresh() { if (ws && ws.readyState === 1) ws.send('{"type":"refresh"}'); } };
}

function setLive(el, socketUp, serverLive) {
  const on = socketUp && serverLive !== false;
  el.textContent = on ? "实时" : (socketUp ? "事件源中断" : "连接中断，重连中…");
  el.className = `live ${on ? "on" : "off"}`;
}
