/* Agent desktop, knowledge base (知识库): live suggestions from what the citizen says. Each time a
   final of the citizen appears in the live transcript (#transcript, written by agent.js), the
   citizen's words so far ask GET /api/knowledge/search for the top 3 articles, shown with the
   words that matched; the agent may also search by hand. Opening one shows the answer to read out
   (口径); "直接答复" files the call's ticket as answered from it (POST
   /api/knowledge/articles/{id}/answer: no dispatch, the article linked). Kept apart from
   agent.js: it reads the transcript's DOM and the desk's current call (window.deskCall). */
"use strict";

(function knowledgeSuggestions() {
  const $ = (id) => document.getElementById(id);
  const panel = $("kb-panel"), list = $("kb-suggestions"), reader = $("kb-article"), msg = $("kb-msg");
  const transcriptBox = $("transcript");
  if (!panel || !transcriptBox) return;
  const state = { heard: "", seq: 0, callId: null, items: [], open: null, manual: false, answered: {}, pending: {} };

  function say(text, ok) { msg.textContent = text; msg.className = `msg ${ok ? "ok" : "err"}`; }

  function attemptId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  }
  function currentCall() { return typeof window.deskCall === "function" ? window.deskCall() : null; }

  /* The citizen's finals, in order (partials and provisional lines are not final yet). */
  function citizenWords() {
    return [...transcriptBox.querySelectorAll(".line.citizen:not(.partial):not(.provisional):not(.untranscribed) .text")]
      .map((el) => el.textContent.trim()).filter(Boolean).join(" ");
  }

  function renderList(items, how) {
    state.items = items;
    list.dataset.source = how;
    if (!items.length) {
      list.innerHTML = `<div class="empty">${how === "manual" ? "没有找到相关知识条目" : "暂无推荐（市民说话后自动推荐）"}</div>`;
      return;
    }
    list.innerHTML = items.map((a, i) => `<div class="kb-item" data-article="${esc(a.id)}" data-rank="${i + 1}">
        <button type="button" class="kb-open" data-article="${esc(a.id)}">${esc(a.title)}</button>
        <span class="muted">${esc(unitName(a.unit))}${a.districts.length ? ` · ${esc(a.districts.join("、"))}` : ""}</span>
        <div class="kb-matched">命中：${a.matched.map((w) => `<mark>${esc(w)}</mark>`).join(" ") || "—"}</div>
      </div>`).join("");
  }

  async function ask(text, how) {
    const q = text.slice(-400).trim();  // the latest words (the search takes at most 500 characters)
    if (!q) { renderList([], how); return; }
    const seq = ++state.seq;
    const district = ($("t-district") && $("t-district").value) || "";
    const call = currentCall();
    const prefer = (call && call.ivr && call.ivr.department) || "";  // the unit chosen in the IVR (or the merged line's)
    const params = new URLSearchParams({ q, limit: "3", ...(district ? { district } : {}), ...(prefer ? { prefer } : {}) });
    try {
      const doc = await apiCall("GET", `/api/knowledge/search?${params}`);
      if (seq !== state.seq) return;  // a newer question went out meanwhile
      renderList(doc.items || [], how);
      panel.dataset.updated = String(seq);
    } catch (e) {
      if (seq === state.seq) say(`知识库查询失败：${e.message || e}`, false);
    }
  }

  function open(id) {
    const a = state.items.find((x) => x.id === id);
    if (!a) return;
    state.open = a;
    const done = state.answered[a.id];
    reader.hidden = false;
    reader.dataset.article = a.id;
    reader.innerHTML = `<h3>${esc(a.title)}</h3>
      <div class="muted">${esc(a.id)} 第${a.version}版 · ${esc(unitName(a.unit))}${a.category ? ` · ${esc(a.category)}` : ""}</div>
      <div class="kb-answer" id="kb-answer-text">${esc(a.answer)}</div>
      <div class="actions"><button class="primary" type="button" id="kb-direct"${done ? " disabled" : ""}>直接答复（一键办结）</button></div>`;
    $("kb-direct").onclick = () => answer(a);
    for (const el of list.querySelectorAll(".kb-item")) el.classList.toggle("open", el.dataset.article === a.id);
  }

  async function answer(a) {
    const call = currentCall();
    const body = { description: citizenWords().slice(0, 4000) || `市民咨询：${a.title}` };
    if (call) { body.call_id = call.call_id; if (call.caller) body.caller_phone = call.caller; }
    const district = $("t-district") && $("t-district").value;
    if (district) body.district = district;
    // One click, one ticket: the key is this attempt's own (a retry of a failed click sends it again;
    // a fixed key without a call would replay an earlier enquiry's ticket instead of filing this one).
    const key = state.pending[a.id] || (state.pending[a.id] = `kb-${a.id}-${attemptId()}`);
    $("kb-direct").disabled = true;
    try {
      const t = await apiCall("POST", `/api/knowledge/articles/${encodeURIComponent(a.id)}/answer`, body,
        { "Idempotency-Key": key });
      state.answered[a.id] = t.number;
      delete state.pending[a.id];
      say(`已直接答复，工单号 ${t.number}（知识库 ${t.article}，未派单）`, true);
      msg.dataset.ticket = t.number;
      msg.dataset.article = t.article;
    } catch (e) {
      say(`直接答复失败：${e.message || e}`, false);
      $("kb-direct").disabled = false;
    }
  }

  /* A new final of the citizen: ask again (a new call starts afresh). */
  function heard() {
    const call = currentCall();
    const callId = call ? call.call_id : null;
    if (callId !== state.callId) {
      Object.assign(state, { callId, heard: "", items: [], open: null, manual: false, answered: {}, pending: {} });
      reader.hidden = true;
      msg.textContent = "";
      delete msg.dataset.ticket;
      renderList([], "live");
    }
    const words = citizenWords();
    if (words === state.heard || state.manual) return;
    state.heard = words;
    ask(words, "live");
  }

  list.addEventListener("click", (ev) => {
    const b = ev.target.closest("button.kb-open");
    if (b) open(b.dataset.article);
  });
  $("kb-search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = $("kb-q").value.trim();
    state.manual = Boolean(q);  // the agent's own search stands until cleared
    if (q) ask(q, "manual"); else { state.heard = ""; heard(); }
  });
  unitNames();
  new MutationObserver(heard).observe(transcriptBox, { childList: true, subtree: true, characterData: true });
})();
