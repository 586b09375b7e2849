/* What dispatch decided and why, on the agent desktop: while the request is typed, the learned
   dispatcher's proposal (POST /api/dispatch/propose); once the ticket is filed, the decision
   stored with it (`routing`: rules or model or the hall, with the top candidates and the words of
   the request that drove each). Needs common.js (esc, apiCall). */
"use strict";

const ROUTING = { timer: null, seq: 0 };  /* unitNames, unitName: session.js */
const DECIDED_BY = { rules: "派单规则", model: "模型自动派单", hall: "待人工派单" };

/* The words are shown for candidates worth a look (>= 5 %): below that they are noise. */
function candidateRows(cands) {
  return (cands || []).map((c, i) => `<li data-unit="${esc(c.department)}"${i === 0 ? ' class="best"' : ""}>
      <b>${esc(unitName(c.department))}</b> <span class="num">${(100 * c.probability).toFixed(0)}%</span>
      ${c.probability >= 0.05 ? (c.words || []).map((w) => `<span class="chip">${esc(w)}</span>`).join("") : ""}</li>`).join("");
}

/* `doc`: a proposal (decided_by, department, confidence, candidates) or a ticket's routing
   document (lead, needs_human, matched_rules, learned: a proposal). */
function routingHtml(doc, filed) {
  const learned = doc.learned || (doc.candidates ? doc : null);
  const by = learned ? learned.decided_by : (doc.needs_human ? "hall" : "rules");
  const unit = filed ? (doc.needs_human ? null : doc.lead) : learned && learned.department;
  const head = unit ? `${filed ? "已派往" : "建议派往"} <b>${esc(unitName(unit))}</b>` : (filed ? "转人工派单" : "暂无把握，将转人工派单");
  const conf = learned ? ` · 置信 ${(100 * learned.confidence).toFixed(0)}%` : "";
  const rules = (doc.matched_rules || (learned && learned.matched_rules) || []);
  return `<div class="routing-head" data-decided-by="${esc(by)}">${head}（${esc(DECIDED_BY[by] || by)}${conf}）</div>
    ${rules.length ? `<div class="muted">命中规则：${rules.map(esc).join("、")}</div>` : ""}
    ${learned && learned.candidates && learned.candidates.length
      ? `<ol class="candidates">${candidateRows(learned.candidates)}</ol>` : ""}`;
}

async function showRouting(box, doc, filed) {
  await unitNames();
  box.innerHTML = routingHtml(doc, filed);
  box.dataset.state = filed ? "filed" : "proposal";
  box.hidden = false;
}

/* Ask for a proposal 400 ms after the last keystroke; a late answer to older text is dropped. */
function proposeLater(box, read) {
  clearTimeout(ROUTING.timer);
  ROUTING.timer = setTimeout(async () => {
    const body = read();
    if (!body.text || body.text.length < 4) { box.hidden = true; return; }
    const seq = ++ROUTING.seq;
    try {
      const doc = await apiCall("POST", "/api/dispatch/propose", body);
      if (seq === ROUTING.seq && doc.candidates && doc.candidates.length) await showRouting(box, doc, false);
    } catch (e) { /* no dispatch service or model: the rules decide when the ticket is filed */ }
  }, 400);
}
