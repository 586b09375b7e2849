/* Login: POST /api/session, then to the page asked for, or the role's own page. */
"use strict";

const HOME = { agent: "/agent", supervisor: "/board", admin: "/admin", dept: "/dept", kb: "/knowledge", qa: "/qa" };

function safeNext(role) {
  const next = new URLSearchParams(location.search).get("next") || "";
  // only a path on this site, never another origin ("//host", "/\host" and the like)
  return /^\/[A-Za-z0-9]/.test(next) && !next.includes("\\") ? next : (HOME[role] || "/login");
}

document.getElementById("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const msg = document.getElementById("msg");
  const res = await fetch("/api/session", {
    method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
    body: JSON.stringify({ username: document.getElementById("username").value.trim(),
      password: document.getElementById("password").value }),
  });
  if (res.ok) {
    const data = await res.json();
    location.href = safeNext(data.user.role);
    return;
  }
  msg.className = "msg err";
  msg.textContent = res.status === 429 ? "登录失败次数过多，请稍后再试" : "用户名或密码错误";
});
