/* The logged-in user of the page: /api/session gives the user and the CSRF token that every
   state-changing request carries (X-CSRF-Token); no session sends the browser to /login. */
"use strict";

const SESSION = { user: null, csrf: "" };

function toLogin() {
  location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

async function loadSession() {
  const res = await fetch("/api/session", { credentials: "same-origin" });
  if (res.status === 401) { toLogin(); return null; }
  const data = await res.json();
  SESSION.user = data.user;
  SESSION.csrf = data.csrf;
  const who = document.getElementById("whoami");
  if (who) who.textContent = `${data.user.name || data.user.username}`;
  const out = document.getElementById("btn-signout");
  if (out) out.onclick = signOut;
  return data.user;
}

function csrfHeaders() { return { "X-CSRF-Token": SESSION.csrf }; }

async function signOut() {
  await fetch("/api/session", { method: "DELETE", headers: csrfHeaders(), credentials: "same-origin" });
  location.href = "/login";
}

/* JSON API call with the CSRF token; a lost session goes back to the login page. A refusal
   throws an Error with the server's message, its HTTP `status` and error `code`. */
async function apiCall(method, path, body, headers) {
  const res = await fetch(path, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...csrfHeaders(), ...(headers || {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) { toLogin(); throw new Error("登录已过期"); }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const fields = data && data.fields ? Object.entries(data.fields).map(([k, v]) => `${k}: ${v}`).join("；") : "";
    const err = new Error(`${(data && data.message) || res.statusText}${fields ? `（${fields}）` : ""}`);
    err.status = res.status;  // e.g. 409: someone else changed the ticket first
    err.code = data && data.error;
    err.data = data;  // the whole error document (context keys, e.g. not_on_shift's team and time)
    throw err;
  }
  return data;
}

/* The departments' (承办单位) names by code, from the catalogue (GET /api/departments), read once:
   people read 市场监管局, not `market`. Before it is read, or for an unknown code, the code shows. */
const UNITS = { names: null, loading: null };
function unitNames() {  /* one read, however many callers wait for it */
  if (!UNITS.loading) {
    UNITS.loading = (async () => {
      const names = {};
      try {
        const page = await apiCall("GET", "/api/departments");
        for (const d of page.items || []) names[d.code] = d.name;
      } catch (e) { /* codes are shown instead */ }
      UNITS.names = names;
      return names;
    })();
  }
  return UNITS.loading;
}

function unitName(code) { return (UNITS.names && UNITS.names[code]) || code || "—"; }
