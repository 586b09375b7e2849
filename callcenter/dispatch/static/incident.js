/* Agent desktop, mass incidents (热点诉求): after the agent files a ticket (agent.js writes its
   number to #t-msg's data-ticket), ask which open incident the detector matched it to
   (GET /api/dispatch/incidents/for/{number}) and propose 并单 into the incident's master ticket;
   the confirm button merges (POST /api/tickets/{number}/merge), which also records the agent's
   confirmed link. Kept apart from agent.js: it only reads that attribute. */
"use strict";

(function incidentProposal() {
  const box = document.getElementById("incident-proposal");
  const text = document.getElementById("incident-text");
  const confirmBtn = document.getElementById("incident-merge");
  const dismissBtn = document.getElementById("incident-dismiss");
  const msg = document.getElementById("incident-msg");
  const filed = document.getElementById("t-msg");
  if (!box || !filed) return;
  let current = null;  // { number, master }

  function hide() { box.hidden = true; current = null; }

  function show(number, inc) {
    current = { number, master: inc.master_ref };
    text.textContent = `疑似批量诉求：${inc.district}${inc.topic ? ` ${inc.topic}` : ""}（已有${inc.others}件）— 并入主单 ${inc.master_ref}？`;
    box.dataset.ticket = number;
    box.dataset.master = inc.master_ref;
    box.dataset.incident = String(inc.id);
    msg.textContent = "";
    msg.className = "msg";
    confirmBtn.disabled = false;
    box.hidden = false;
  }

  async function check(number) {
    hide();
    if (!number) return;
    try {
      const doc = await apiCall("GET", `/api/dispatch/incidents/for/${encodeURIComponent(number)}`);
      if (doc && doc.incident && filed.dataset.ticket === number) show(number, doc.incident);
    } catch (e) { /* no proposal: the ticket stands as filed */ }
  }

  async function merge() {
    if (!current) return;
    const { number, master } = current;
    confirmBtn.disabled = true;
    try {
      await apiCall("POST", `/api/tickets/${encodeURIComponent(number)}/merge`, { into: master });
      text.textContent = `工单 ${number} 已并入主单 ${master}`;
      msg.textContent = "";
      box.dataset.merged = number;
    } catch (e) {
      msg.textContent = `并单失败：${e.message || e}`;
      msg.className = "msg err";
      confirmBtn.disabled = false;
    }
  }

  confirmBtn.addEventListener("click", merge);
  dismissBtn.addEventListener("click", hide);
  new MutationObserver(() => check(filed.dataset.ticket || ""))
    .observe(filed, { attributes: true, attributeFilter: ["data-ticket"] });
})();
