/* Admin: hall users and their roles (add, disable, re-enable), the departments, the login locks
   (failed-login back-offs, lifted here) and the audit log; the dispatch rules in admin_rules.js,
   the IVR blacklist in admin_blacklist.js. */
"use strict";

const ROLE = { agent: "坐席", supervisor: "班长", dept: "承办单位", admin: "管理员", collector: "信息采集员", system: "服务账号", kb: "知识库编辑", qa: "质检员" };
const $ = (id) => document.getElementById(id);

async function load() {
  await unitNames();  // the users' departments by name
  const { users } = await apiCall("GET", "/api/users");
  $("users").querySelector("tbody").innerHTML = users.map((u) => `<tr data-user="${esc(u.username)}">
    <td>${esc(u.username)}</td><td>${esc(ROLE[u.role] || u.role)}</td><td>${esc(u.department ? unitName(u.department) : u.agent_id || "—")}</td>
    <td>${esc(u.name || "")}</td><td>${u.disabled ? "已停用" : "正常"}</td>
    <td><button data-toggle="${u.disabled ? "enable" : "disable"}">${u.disabled ? "启用" : "停用"}</button></td></tr>`).join("");
  const { entries } = await apiCall("GET", "/api/audit?limit=50");
  $("audit").querySelector("tbody").innerHTML = entries.map((e) => `<tr><td>${esc(fmtTime(e.at))}</td><td>${esc(e.actor)}</td>
    <td title="${esc(e.action)}">${esc(label("audit", e.action))}</td><td>${esc(e.target || "")}</td><td>${esc(e.address || "")}</td></tr>`).join("");
}

const LOCK_KIND = { account: "账号", address: "地址" };

async function loadLocks() {
  const { locks } = await apiCall("GET", "/api/login-locks");
  $("locks").querySelector("tbody").innerHTML = locks.map((l) => `<tr data-lock="${esc(l.kind)}:${esc(l.key)}">
    <td>${esc(LOCK_KIND[l.kind] || l.kind)}</td><td>${esc(l.key)}</td><td>${esc(l.failures)}</td>
    <td>${l.retry_after_s > 0 ? `${esc(l.retry_after_s)} 秒` : "—"}</td>
    <td><button data-lift="${esc(l.kind)}" data-key="${esc(l.key)}">解除</button></td></tr>`).join("");
}

$("locks").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-lift]");
  if (!b) return;
  await apiCall("DELETE", `/api/login-locks/${encodeURIComponent(b.dataset.lift)}/${encodeURIComponent(b.dataset.key)}`);
  await loadLocks();
});

$("users").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-toggle]");
  if (!b) return;
  const name = b.closest("tr").dataset.user;
  await apiCall("PATCH", `/api/users/${encodeURIComponent(name)}`, { disabled: b.dataset.toggle === "disable" });
  await load();
});

$("add-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const role = $("u-role").value, extra = $("u-extra").value.trim();
  const body = { username: $("u-name").value.trim(), role, password: $("u-pass").value };
  if ($("u-display").value.trim()) body.name = $("u-display").value.trim();
  if (role === "dept") body.department = extra;
  if (role === "agent") body.agent_id = extra;
  try {
    const u = await apiCall("POST", "/api/users", body);
    $("u-msg").className = "msg ok";
    $("u-msg").textContent = `已新增 ${u.username}（${u.actor}）`;
    ev.target.reset();
    await load();
  } catch (e) {
    $("u-msg").className = "msg err";
    $("u-msg").textContent = `新增失败：${e.message || e}`;
  }
});

async function loadCatalogue() {
  await unitNames();
  renderRules(await apiCall("GET", "/api/routing-rules"));  /* admin_rules.js */
  const deps = await apiCall("GET", "/api/departments");
  $("departments").querySelector("tbody").innerHTML = deps.items.map((d) => `<tr data-department="${esc(d.code)}">
    <td>${esc(d.name)}</td><td><code>${esc(d.code)}</code></td><td>${esc(d.open ?? d.open_tickets ?? "—")}</td></tr>`).join("");
}

loadSession().then((me) => { if (me) { load(); loadCatalogue(); loadLocks(); loadBlacklist(); } });
