/* Admin: the dispatch rules (派单规则) as tables a person reads: conditions in Chinese, units by
   name; lead units, weights, keywords and the thresholds are edited in place, rows removed or
   keyword rules added; saving sends the whole document (PUT /api/routing-rules: validated, stored
   as a new version in PostgreSQL). Topics are read-only here (added through /api/topics). */
"use strict";

const RULES = { spec: null };
const WHEN = { category: "问题分类", kind: "诉求类型", district: "区县", topic: "专题" };
const asList = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

function unitOptions(selected) {
  const names = { ...(UNITS.names || {}) };
  if (selected && !names[selected]) names[selected] = selected;
  return Object.entries(names).map(([code, name]) =>
    `<option value="${esc(code)}"${code === selected ? " selected" : ""}>${esc(name)}</option>`).join("");
}

function topicName(code) {
  const t = (RULES.spec.topics || []).find((x) => x.code === code);
  return t ? t.name : code;
}

function whenText(when) {
  return Object.entries(when || {}).map(([k, v]) => `${WHEN[k] || k}：${asList(v).map((x) =>
    (k === "kind" ? label("kind", x) : k === "topic" ? topicName(x) : x)).join("、")}`).join("；");
}

function assistText(r) {
  const names = asList(r.assisting).map(unitName);
  if (r.assist_district) names.push("所在区县政府");
  return names.join("、") || "—";
}

function ruleRow(r, i, kind) {
  const what = kind === "rule" ? esc(whenText(r.when))
    : `<input data-field="words" value="${esc(asList(r.words).join("、"))}" aria-label="关键词">`;
  return `<tr data-${kind}="${i}" data-name="${esc(r.name || "")}"><td><code>${esc(r.name || "（新规则）")}</code></td><td>${what}</td>
    <td><select data-field="lead" aria-label="主办单位">${unitOptions(r.lead)}</select></td><td>${esc(assistText(r))}</td>
    <td><input data-field="weight" type="number" step="0.05" value="${esc(r.weight ?? 1)}" aria-label="权重"></td>
    <td><button type="button" data-remove>删除</button></td></tr>`;
}

function renderRules(spec) {
  RULES.spec = spec;
  $("r-threshold").value = spec.threshold ?? 0.6;
  $("r-catalogue").value = spec.catalogue_weight ?? 0.8;
  $("r-topic").value = spec.topic_keyword_weight ?? 0.7;
  $("rules-table").querySelector("tbody").innerHTML = (spec.rules || []).map((r, i) => ruleRow(r, i, "rule")).join("");
  $("keywords-table").querySelector("tbody").innerHTML = (spec.keywords || []).map((r, i) => ruleRow(r, i, "keyword")).join("");
  $("topics-table").querySelector("tbody").innerHTML = (spec.topics || []).map((t) => `<tr data-topic="${esc(t.code)}">
    <td>${esc(t.name)}</td><td>${esc(unitName(t.department))}</td><td>${esc(asList(t.keywords).join("、") || "—")}</td></tr>`).join("");
}

/* The document to store: the loaded one with what the tables say now (rows kept, edited, added). */
function collectRules() {
  const num = (id) => Number($(id).value);
  const rows = (table, attr, from) => [...$(table).querySelectorAll(`tbody tr[data-${attr}]`)].map((tr) => {
    const base = from[Number(tr.dataset[attr])] || {};
    const r = { ...base, lead: tr.querySelector("[data-field=lead]").value,
      weight: Number(tr.querySelector("[data-field=weight]").value) };
    const words = tr.querySelector("[data-field=words]");
    if (words) r.words = words.value.split(/[、,，;；\s]+/).filter(Boolean);
    return r;
  });
  return { ...RULES.spec, threshold: num("r-threshold"), catalogue_weight: num("r-catalogue"),
    topic_keyword_weight: num("r-topic"), rules: rows("rules-table", "rule", RULES.spec.rules || []),
    keywords: rows("keywords-table", "keyword", RULES.spec.keywords || []) };
}

$("rules-panel").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-remove]");
  if (b) b.closest("tr").remove();
});

$("kw-add").addEventListener("click", () => {
  const body = $("keywords-table").querySelector("tbody");
  body.insertAdjacentHTML("beforeend", ruleRow({ words: [], lead: "", weight: 0.7 }, -1 - body.rows.length, "keyword"));
  body.lastElementChild.querySelector("[data-field=words]").focus();
});

$("rules-save").addEventListener("click", async () => {
  const msg = $("rules-msg");
  try {
    renderRules(await apiCall("PUT", "/api/routing-rules", collectRules()));
    msg.className = "msg ok";
    msg.textContent = "已保存";
  } catch (e) {
    msg.className = "msg err";
    msg.textContent = `保存失败：${e.message || e}`;
  }
});
