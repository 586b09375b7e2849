/* 质检台: the week's sample (GET /api/qa/queue) and the appeals waiting (GET /api/qa/appeals);
   each links to the call's page, where the recording, transcript and scorecard are. */
"use strict";

function callLink(id, text) {
  return `<a href="/calls/${encodeURIComponent(id)}" data-call="${esc(id)}">${esc(text)}</a>`;
}

async function main() {
  if (!await loadSession()) return;
  const q = await apiCall("GET", "/api/qa/queue");
  document.getElementById("queue").innerHTML = q.calls.map((c) => `<tr data-call-row="${esc(c.call_id)}">
    <td>${esc(fmtTime(c.started_at))}</td><td>${esc(c.agent_id || "—")}</td><td>${c.why.map(esc).join("、")}</td>
    <td>${callLink(c.call_id, "质检")}</td></tr>`).join("");
  document.getElementById("queue-empty").hidden = q.calls.length > 0;
  const a = await apiCall("GET", "/api/qa/appeals");
  document.getElementById("appeals").innerHTML = a.appeals.map((x) => `<tr data-appeal="${x.id}">
    <td>${esc(fmtTime(x.filed_at))}</td><td>${esc(x.agent_id)}</td><td class="num">${x.score}</td><td>${esc(x.reason)}</td>
    <td>${callLink(x.call_id, "裁决")}</td></tr>`).join("");
  document.getElementById("appeals-empty").hidden = a.appeals.length > 0;
  const f = await apiCall("GET", "/api/qa/figures?weeks=8");
  document.getElementById("figures").innerHTML = f.figures.map((x) => `<tr data-figure-agent="${esc(x.agent_id || "")}">
    <td>${esc(x.week)}</td><td>${esc(x.agent_id || "—")}</td><td class="num">${x.reviewed}</td><td class="num">${x.average}</td>
    <td class="num">${x.fatal}</td><td class="num">${x.appeals}</td><td class="num">${x.upheld}</td><td class="num">${x.rejected}</td></tr>`).join("");
}

main();
