/* The call's page: its recording (GET /api/calls/{id}/recordings, the file from
   /api/calls/{id}/recording?part=N with HTTP ranges) and its transcript beside it
   (GET /api/calls/{id}/transcript); a click on a line seeks the player there, the line being
   played is highlighted. A refusal (403) shows the server's reason. */
"use strict";

const callId = decodeURIComponent(location.pathname.split("/").pop());
const WHO = { citizen: "市民", agent: "坐席" };
const player = document.getElementById("player");
const state = document.getElementById("player-state");
let lines = [];

function showError(text) {
  const el = document.getElementById("error");
  el.textContent = text;
  el.hidden = false;
}

function fmtAt(s) {
  const t = Math.max(0, Math.floor(s));
  return `${String(Math.floor(t / 60)).padStart(2, "0")}:${String(t % 60).padStart(2, "0")}`;
}

function choose(part, button) {
  player.src = `/api/calls/${encodeURIComponent(callId)}/recording?part=${part.part}`;
  document.querySelectorAll("#parts button").forEach((b) => b.classList.remove("active"));
  if (button) button.classList.add("active");
}

function renderParts(parts) {
  const box = document.getElementById("parts");
  box.className = "part-list";
  box.innerHTML = "";
  if (!parts.length) { box.textContent = "本通话没有录音"; return; }
  let first = null;
  for (const p of parts) {
    const row = document.createElement("div");
    const seat = p.seat_id ? ` · 席位 ${esc(p.seat_id)}` : "";
    const agent = p.agent_id ? ` · 坐席 ${esc(p.agent_id)}` : "";
    const len = p.duration_s ? ` · ${fmtAt(p.duration_s)}` : "";
    if (p.state === "stored") {
      const b = document.createElement("button");
      b.textContent = `第 ${p.part} 段`;
      b.dataset.testid = `part-${p.part}`;
      b.onclick = () => choose(p, b);
      row.appendChild(b);
      if (!first) first = [p, b];
    } else {
      row.textContent = `第 ${p.part} 段`;
    }
    // a supervisor who barged (强插: both heard them) or whispered (耳语: the agent only) is mixed into the 坐席 channel
    const voices = (p.voices || []).map((v) => ` · 班长${v.mode === "barge" ? "强插" : "耳语（市民未听到）"} ${fmtAt(v.offset_s)}起`).join("");
    row.insertAdjacentHTML("beforeend", ` <span class="muted">${esc(p.state_label)}${len}${agent}${seat}${p.held ? " · 法律保全" : ""}${esc(voices)}</span>`);
    box.appendChild(row);
  }
  if (first) choose(first[0], first[1]);
}

function renderLines(segments) {
  const box = document.getElementById("lines");
  box.innerHTML = "";
  lines = segments.filter((s) => s.text).map((s) => ({ start: s.start_s, end: s.end_s, leg: s.leg, text: s.text }));
  document.getElementById("no-lines").hidden = lines.length > 0;
  lines.forEach((line, i) => {
    const li = document.createElement("li");
    li.dataset.index = String(i);
    li.dataset.start = String(line.start);
    li.innerHTML = `<span class="at">${fmtAt(line.start)}</span><span class="who">${WHO[line.leg] || esc(line.leg)}</span>${esc(line.text)}`;
    li.onclick = () => seek(line.start);
    line.el = li;
    box.appendChild(li);
  });
}

player.addEventListener("playing", () => { state.textContent = "播放中"; state.dataset.state = "playing"; });
player.addEventListener("pause", () => { state.textContent = "已暂停"; state.dataset.state = "paused"; });
player.addEventListener("ended", () => { state.textContent = "播放完毕"; state.dataset.state = "ended"; });
player.addEventListener("error", () => showError("录音无法播放"));
player.addEventListener("timeupdate", () => {
  const t = player.currentTime;
  state.dataset.time = t.toFixed(1);
  for (const line of lines) line.el.classList.toggle("current", t >= line.start && t < Math.max(line.end, line.start + 0.5));
});

function seek(at) {
  player.currentTime = Math.max(0, at);
  player.play().catch(() => {});
}

function renderQuality(q) {
  document.getElementById("quality-panel").hidden = false;
  document.getElementById("quality-card").textContent =
    `（${q.scorecard} · 合格 ${q.pass_mark} 分${q.fatal_hits.length ? " · 一票否决" : ""}）`;
  const body = document.getElementById("quality-items");
  body.innerHTML = "";
  for (const item of q.items) {
    const tr = document.createElement("tr");
    tr.dataset.item = item.id;
    const result = item.passed === null ? "待质检员评分" : item.passed ? "通过" : "未通过";
    const f = item.finding;
    tr.innerHTML = `<td>${esc(item.name)}${item.fatal ? "（一票否决）" : ""}</td><td class="num">${item.weight}</td>
      <td class="${item.passed === false ? "alert" : ""}" data-result="${item.passed}">${result}${f ? `<div class="muted">${esc(f.detail)}</div>` : ""}</td><td></td>`;
    const cell = tr.lastElementChild;
    for (const ev of (f && f.evidence) || []) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = `${fmtAt(ev.at_s)} ${ev.text}`.slice(0, 40);
      b.onclick = () => seek(ev.at_s);
      cell.appendChild(b);
    }
    body.appendChild(tr);
  }
}

async function main() {
  document.getElementById("call-id").textContent = callId;
  if (!await loadSession()) return;
  try {
    const data = await apiCall("GET", `/api/calls/${encodeURIComponent(callId)}/recordings`);
    renderParts(data.recordings);
  } catch (e) {
    showError(`不能收听本通话：${e.message}`);
    return;
  }
  try {
    const t = await apiCall("GET", `/api/calls/${encodeURIComponent(callId)}/transcript`);
    renderLines(t.segments || []);
  } catch (e) {
    document.getElementById("no-lines").hidden = false;
  }
  if (["supervisor", "qa"].includes(SESSION.user.role)) {
    try {
      renderQuality(await apiCall("GET", `/api/calls/${encodeURIComponent(callId)}/quality`));
    } catch (e) {
      showError(`自动质检不可用：${e.message}`);
    }
  }
}

main();
