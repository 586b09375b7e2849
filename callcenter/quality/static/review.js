/* The review widget of the call's page (#review): an inspector confirms or overrides each item
   of the scorecard (the automatic result preselected) and submits; a later submission is a new
   revision and says why. Everyone allowed sees the revisions; the call's agent appeals once;
   a supervisor decides an open appeal. */
"use strict";

const REVIEW = { callId: decodeURIComponent(location.pathname.split("/").pop()) };
const RESULT = { true: "通过", false: "未通过" };
const DECISION = { upheld: "申诉成立", rejected: "申诉驳回" };

function reviewBox() { return document.getElementById("review"); }

function renderReviews(data) {
  const list = document.getElementById("review-list");
  list.innerHTML = data.reviews.map((r) => `<li data-revision="${r.revision}">第 ${r.revision} 版 ·
    <b data-testid="review-score">${r.score} 分</b> · ${r.passed ? "合格" : "不合格"}${r.fatal_hits.length ? "（一票否决）" : ""} ·
    质检员 ${esc(r.inspector)} · ${esc(fmtTime(r.submitted_at))}${r.comment ? ` · ${esc(r.comment)}` : ""}${r.reason ? ` · 改版理由：${esc(r.reason)}` : ""}</li>`).join("")
    || '<li class="muted">尚未质检</li>';
  const ap = data.appeal;
  const state = document.getElementById("appeal-state");
  state.textContent = ap ? `申诉：${ap.reason}（${ap.decision ? DECISION[ap.decision] : "待班长裁决"}）` : "";
  const role = SESSION.user.role;
  document.getElementById("appeal-form").hidden = !(role === "agent" && data.reviews.length && !ap);
  document.getElementById("decide-form").hidden = !(role === "supervisor" && ap && !ap.decision);
  document.getElementById("review-reason").hidden = !data.reviews.length;
  REVIEW.appeal = ap;
}

async function loadReviews() {
  renderReviews(await apiCall("GET", `/api/calls/${encodeURIComponent(REVIEW.callId)}/qa-reviews`));
}

function renderForm(quality) {
  const body = document.getElementById("review-items");
  body.innerHTML = quality.items.map((i) => `<tr><td>${esc(i.name)}${i.fatal ? "（一票否决）" : ""}</td>
    <td><select data-mark="${esc(i.id)}"><option value="">${i.passed === null ? "请评分" : `按自动结果（${RESULT[i.passed]}）`}</option>
    <option value="true">通过</option><option value="false">未通过</option></select></td></tr>`).join("");
  document.getElementById("review-form").hidden = false;
}

async function submitReview(quality) {
  const marks = {};
  for (const sel of document.querySelectorAll("[data-mark]")) {
    const item = quality.items.find((i) => i.id === sel.dataset.mark);
    if (sel.value) marks[item.id] = sel.value === "true";
    else if (item.passed === null) { showReviewMsg(`请为"${item.name}"评分`); return; }
  }
  const reason = document.getElementById("review-reason").value.trim();
  try {
    await apiCall("POST", `/api/calls/${encodeURIComponent(REVIEW.callId)}/qa-reviews`,
      { marks, comment: document.getElementById("review-comment").value, reason: reason || null });
    showReviewMsg("已提交");
    await loadReviews();
  } catch (e) { showReviewMsg(`提交失败：${e.message}`); }
}

function showReviewMsg(text) { document.getElementById("review-msg").textContent = text; }

async function reviewMain() {
  const box = reviewBox();
  if (!box || !await loadSession()) return;
  const role = SESSION.user.role;
  if (!["qa", "supervisor", "agent"].includes(role)) return;
  box.hidden = false;
  try { await loadReviews(); } catch (e) { showReviewMsg(e.message); return; }
  if (role === "qa") {
    const quality = await apiCall("GET", `/api/calls/${encodeURIComponent(REVIEW.callId)}/quality`);
    renderForm(quality);
    document.getElementById("btn-review").onclick = () => submitReview(quality);
  }
  document.getElementById("btn-appeal").onclick = async () => {
    try {
      await apiCall("POST", `/api/calls/${encodeURIComponent(REVIEW.callId)}/qa-appeal`,
        { reason: document.getElementById("appeal-reason").value });
      await loadReviews();
    } catch (e) { showReviewMsg(`申诉失败：${e.message}`); }
  };
  for (const decision of ["upheld", "rejected"]) {
    document.getElementById(`btn-${decision}`).onclick = async () => {
      try {
        await apiCall("POST", `/api/qa-appeals/${REVIEW.appeal.id}/decision`,
          { decision, note: document.getElementById("decide-note").value });
        await loadReviews();
      } catch (e) { showReviewMsg(`裁决失败：${e.message}`); }
    };
  }
}

reviewMain();
