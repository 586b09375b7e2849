/* The agent desk's 我的质检结果 (GET /api/agents/{id}/qa-reviews): the latest review of each of the
   agent's inspected calls, linked to the call's page (recording, scorecard, appeal). */
"use strict";

const QA_DECISION = { upheld: "申诉成立", rejected: "申诉驳回" };

async function qaResults() {
  const me = SESSION.user || await loadSession();
  if (!me) return;
  const agent = me.role === "agent" ? me.agent_id : new URLSearchParams(location.search).get("agent");
  const box = document.getElementById("qa-results");
  if (!agent || !box) return;
  try {
    const data = await apiCall("GET", `/api/agents/${encodeURIComponent(agent)}/qa-reviews`);
    box.innerHTML = data.reviews.length ? `<table><thead><tr><th>质检时间</th><th>得分</th><th>结果</th><th>申诉</th><th></th></tr></thead><tbody>${
      data.reviews.slice(0, 10).map((r) => `<tr data-qa-call="${esc(r.call_id)}"><td>${esc(fmtTime(r.submitted_at))}</td>
        <td class="num">${r.score}</td><td>${r.passed ? "合格" : "不合格"}${r.fatal_hits.length ? "（一票否决）" : ""}</td>
        <td>${r.appeal_id ? (QA_DECISION[r.appeal_decision] || "待裁决") : "—"}</td>
        <td><a href="/calls/${encodeURIComponent(r.call_id)}" target="_blank">查看</a></td></tr>`).join("")}</tbody></table>`
      : '<div class="empty">暂无质检结果</div>';
  } catch (e) {
    box.innerHTML = `<div class="empty">质检结果暂不可用：${esc(e.message)}</div>`;
  }
}

qaResults();
setInterval(qaResults, 60000);
