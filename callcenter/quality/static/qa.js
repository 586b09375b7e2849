/* 质检台: the week's sample (GET /api/qa/queue) and the appeals waiting (GET /api/qa/appeals);
   each links to the call's page, where the recording, transcript and scorecard are. The figures
   per agent and team (GET /api/qa/figures); the word lists the checks use (GET /api/qa/word-lists,
   a supervisor saves one with PUT, audited). */
"use strict";

function callLink(id, text) {
  return `<a href="/calls/${encodeURIComponent(id)}" data-call="${esc(id)}">${esc(text)}</a>`;
}

const LIST_NAMES = { forbidden_words: "服务禁语", anger: "市民情绪词" };

function figureRow(x, who) {
  return `<td>${esc(x.week)}</td><td>${esc(who || "—")}</td><td class="num">${x.reviewed}</td><td class="num">${x.average}</td>
    <td class="num">${x.fatal}</td><td class="num">${x.appeals}</td><td class="num">${x.upheld}</td><td class="num">${x.rejected}</td>`;
}

async function wordLists(user) {
  const box = document.getElementById("word-lists");
  const { lists } = await apiCall("GET", "/api/qa/word-lists");
  const edits = user.role === "supervisor";
  box.innerHTML = lists.map((l) => `<div class="word-list" data-list="${esc(l.name)}">
    <h3>${esc(LIST_NAMES[l.name] || l.name)} <span class="muted">${l.edited ? `${esc(l.updated_by)} 修改于 ${esc(fmtTime(l.updated_at))}` : "评分表默认"}</span></h3>
    <textarea rows="4" cols="40" ${edits ? "" : "readonly"}>${esc(l.words.join("\n"))}</textarea>
    ${edits ? `<button data-save="${esc(l.name)}">保存</button>` : ""} <span class="muted" data-said></span></div>`).join("");
  for (const btn of box.querySelectorAll("button[data-save]")) {
    btn.onclick = async () => {
      const div = btn.closest(".word-list");
      const said = div.querySelector("[data-said]");
      const words = div.querySelector("textarea").value.split("\n").map((w) => w.trim()).filter(Boolean);
      try {
        const r = await apiCall("PUT", `/api/qa/word-lists/${encodeURIComponent(btn.dataset.save)}`, { words });
        said.textContent = `已保存：新增 ${r.added.length}，删除 ${r.removed.length}`;
      } catch (e) { said.textContent = `未保存：${e.message}`; }
    };
  }
}

async function main() {
  const user = await loadSession();
  if (!user) return;
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
  document.getElementById("figures").innerHTML = f.figures.map((x) =>
    `<tr data-figure-agent="${esc(x.agent_id || "")}">${figureRow(x, x.agent_id)}</tr>`).join("");
  document.getElementById("team-figures").innerHTML = f.teams.map((x) =>
    `<tr data-figure-team="${esc(x.team || "")}">${figureRow(x, x.team)}</tr>`).join("");
  document.getElementById("fatal-items").textContent = "一票否决项：" +
    (f.fatal_items.map((x) => `${x.name} ${x.hits} 次`).join("、") || "无");
  const ap = f.appeals;
  document.getElementById("appeal-outcomes").textContent =
    `申诉 ${ap.filed} 件：成立（改判）${ap.upheld}，驳回（维持）${ap.rejected}，待裁决 ${ap.pending}`;
  await wordLists(user);
}

main();
