/* Admin: the IVR blacklist (GET/POST/DELETE /api/ivr/blacklist, admin only, audited): a caller on
   it hears a polite message and is never queued. Numbers show masked (the server's masker); the full
   one is only in the removal button, which needs it. */
"use strict";

async function loadBlacklist() {
  const { entries } = await apiCall("GET", "/api/ivr/blacklist");
  $("blacklist").querySelector("tbody").innerHTML = entries.map((e) => `<tr data-blocked="${esc(e.number_masked)}">
    <td class="num">${esc(e.number_masked)}</td><td>${esc(e.reason || "—")}</td><td>${esc(e.created_by || "—")}</td>
    <td>${esc(fmtTime(e.created_at))}</td><td>${esc(fmtTime(e.expires_at))}</td><td class="num">${esc(e.hits ?? 0)}</td>
    <td><button type="button" data-unblock="${esc(e.number)}">移出黑名单</button></td></tr>`).join("")
    || '<tr><td colspan="7" class="empty">名单为空</td></tr>';
}

$("blacklist").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-unblock]");
  if (!b) return;
  b.disabled = true;
  try {
    await apiCall("DELETE", `/api/ivr/blacklist/${encodeURIComponent(b.dataset.unblock)}`);
    say($("bl-msg"), `已移出 ${b.closest("tr").dataset.blocked}`, true);
  } catch (e) {
    say($("bl-msg"), `移出失败：${e.message || e}`, false);
  }
  await loadBlacklist();
});

$("bl-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = { number: $("bl-number").value.trim(), reason: $("bl-reason").value.trim(),
    ttl_hours: Number($("bl-days").value) * 24 };
  try {
    const e = await apiCall("POST", "/api/ivr/blacklist", body);
    say($("bl-msg"), `已加入 ${e.number_masked}，到期 ${fmtTime(e.expires_at)}`, true);
    ev.target.reset();
    await loadBlacklist();
  } catch (e) {
    say($("bl-msg"), `加入失败：${e.message || e}`, false);
  }
});

function say(el, text, ok) { el.textContent = text; el.className = `msg ${ok ? "ok" : "err"}`; }
