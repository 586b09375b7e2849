/* The browser phone of the agent desk (JsSIP over Asterisk's WSS; jssip.min.js is vendored by
   setup). Once the agent is signed in at a seat, the page asks the server for that seat's SIP
   credentials (POST /api/webphone/credentials: random, short-lived, never typed or shown), keeps
   them in memory only, registers, renews them halfway through their life and re-registers by
   itself after a network drop. A call rings with the caller's masked number and queue from the
   desk's own live view (window.deskCall); answer, hang up, hold, mute, DTMF and the feature codes
   are buttons; the microphone is asked for once and chosen from the list of devices.
   On the supervisors' board (data-autoanswer): the supervisor phone lent to the supervisor, which
   answers by itself the listen/whisper/barge the supervisor has just asked for (window.boardPhone). */
"use strict";

const phone = { ua: null, session: null, cred: null, renew: null, seat: "", muted: false, held: false };
const FEATURES = [["*21", "话机签入"], ["*22", "话机签出"], ["*23", "小休"], ["*24", "恢复"]];
const $p = (id) => document.getElementById(id);

function phoneSay(text, ok) {
  const el = $p("phone-msg");
  el.textContent = text;
  el.className = `msg ${ok ? "ok" : "err"}`;
}

function where() { return phone.seat.startsWith("sup") ? `班长话机 ${phone.seat}` : `席位 ${phone.seat}`; }

function phoneState(state, text) {
  const el = $p("phone-state");
  el.dataset.state = state;
  el.textContent = text;
}

async function micCheck() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    phoneSay("此浏览器不支持网页电话（需 HTTPS 或本机地址）", false);
    return false;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    stream.getTracks().forEach((t) => t.stop());
  } catch (e) {
    phoneSay(e.name === "NotAllowedError" ? "麦克风被禁止：请在浏览器地址栏允许本页使用麦克风后刷新"
      : `无法使用麦克风：${e.message || e.name}`, false);
    return false;
  }
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "audioinput");
  const box = $p("phone-mic"), chosen = box.value;
  box.innerHTML = devices.map((d, i) => `<option value="${esc(d.deviceId)}">${esc(d.label || `麦克风 ${i + 1}`)}</option>`).join("");
  if (chosen) box.value = chosen;
  return true;
}

function audioConstraints() {
  const id = $p("phone-mic").value;
  return { audio: id ? { deviceId: { exact: id } } : true, video: false };
}

async function fetchCredential() {
  phone.cred = await apiCall("POST", "/api/webphone/credentials");
  clearTimeout(phone.renew);
  phone.renew = setTimeout(renewCredential, phone.cred.refresh_s * 1000);
  return phone.cred;
}

async function renewCredential() {
  try {
    const cred = await fetchCredential();
    if (phone.ua) phone.ua.set("password", cred.password);
  } catch (e) {
    phoneSay(`话机凭据更新失败：${e.message || e}`, false);
    phone.renew = setTimeout(renewCredential, 5000);
  }
}

async function phoneStart(seat) {
  if (phone.ua || !window.JsSIP) return;
  phone.seat = seat;
  $p("phone-panel").hidden = false;
  if (!(await micCheck())) return;
  let cred;
  try { cred = await fetchCredential(); phone.seat = seat || cred.seat_id; } catch (e) {
    if (e.code !== "webphone_off") phoneSay(`网页电话不可用：${e.message || e}`, false);
    $p("phone-panel").hidden = e.code === "webphone_off";
    return;
  }
  phoneState("connecting", "连接中…");
  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(cred.ws_url)], uri: cred.uri, authorization_user: cred.username,
    password: cred.password, register: true, register_expires: 120, session_timers: false,
    connection_recovery_min_interval: 2, connection_recovery_max_interval: 10, user_agent: "12345-desk",
  });
  phone.ua = ua;
  ua.on("connected", () => phoneState("connected", "已连接，注册中…"));
  ua.on("disconnected", () => { phoneState("offline", "网络中断"); phoneSay("与话机服务器的连接中断，正在自动重连…", false); });
  ua.on("registered", () => { phoneState("registered", `已注册（${where()}）`); phoneSay("网页电话就绪", true); });
  ua.on("unregistered", () => phoneState("unregistered", "未注册"));
  ua.on("registrationFailed", async (ev) => {
    phoneState("failed", "注册失败");
    phoneSay(`注册失败（${ev.cause}），正在重新获取凭据…`, false);
    if (ev.cause === JsSIP.C.causes.AUTHENTICATION_ERROR || ev.cause === JsSIP.C.causes.REJECTED) {
      try { const c = await fetchCredential(); ua.set("password", c.password); ua.register(); } catch (e) { /* next renewal */ }
    }
  });
  ua.on("newRTCSession", (ev) => onSession(ev.session, ev.originator));
  ua.start();
}

function phoneStop() {
  clearTimeout(phone.renew);
  if (phone.ua) { phone.ua.stop(); phone.ua = null; }
  phone.cred = null;
  apiCall("DELETE", "/api/webphone/credentials").catch(() => {});
  phoneState("off", "未启用");
}

function onSession(session, originator) {
  if (phone.session) { if (originator === "remote") session.terminate({ status_code: 486 }); return; }
  phone.session = session;
  phone.muted = phone.held = false;
  if (originator === "remote") ringLabel(); else phoneState("dialing", "呼叫中…");
  if (originator === "remote" && $p("phone-panel").dataset.autoanswer === "yes") setTimeout(answer, 0);
  session.on("peerconnection", (e) => attachAudio(e.peerconnection));
  if (session.connection) attachAudio(session.connection);
  session.on("accepted", () => phoneState("talking", "通话中"));
  session.on("confirmed", () => phoneState("talking", "通话中"));
  session.on("hold", () => phoneState("held", "保持中"));
  session.on("unhold", () => phoneState("talking", "通话中"));
  const end = (e) => {
    phone.session = null;
    phoneState(phone.ua && phone.ua.isRegistered() ? "registered" : "offline", phone.ua && phone.ua.isRegistered() ? `已注册（${where()}）` : "未注册");
    if (e && e.cause && e.cause !== JsSIP.C.causes.BYE && e.cause !== JsSIP.C.causes.CANCELED) phoneSay(`通话结束：${e.cause}`, false);
    renderPhoneButtons();
  };
  session.on("ended", end);
  session.on("failed", end);
  renderPhoneButtons();
}

/* Ringing: the caller's masked number and queue, from the desk's live view (never the SIP From,
   which carries the full number); the view may arrive just after the INVITE. */
function ringLabel() {
  const s = phone.session;
  if (!s || s.direction !== "incoming" || s.isEstablished()) return;
  const call = window.deskCall ? window.deskCall() : null;
  const who = call && call.state !== "ended" ? `${call.caller_masked || "未知号码"} · ${label("queue", call.queue)}` : "来电";
  phoneState("ringing", `振铃：${who}`);
}

function attachAudio(pc) {
  pc.addEventListener("track", (ev) => { $p("phone-audio").srcObject = ev.streams[0]; });
}

function renderPhoneButtons() {
  const s = phone.session;
  const ringing = s && s.direction === "incoming" && !s.isEstablished();
  $p("phone-answer").disabled = !ringing;
  $p("phone-hangup").disabled = !s;
  $p("phone-hold").disabled = !(s && s.isEstablished());
  $p("phone-mute").disabled = !(s && s.isEstablished());
  $p("phone-hold").textContent = phone.held ? "取消保持" : "保持";
  $p("phone-mute").textContent = phone.muted ? "取消静音" : "静音";
}

function answer() {
  if (!phone.session) return;
  phone.session.answer({ mediaConstraints: audioConstraints(), pcConfig: { iceServers: [] } });
  renderPhoneButtons();
}

const CONTROLS = `<div class="controls">
    <button class="primary" id="phone-answer" type="button">接听</button>
    <button class="danger" id="phone-hangup" type="button">挂断</button>
    <button id="phone-hold" type="button">保持</button>
    <button id="phone-mute" type="button">静音</button>
    <select id="phone-mic" aria-label="麦克风"></select>
  </div>
  <div class="controls" id="phone-keys"></div>
  <div class="msg" id="phone-msg"></div>
  <audio id="phone-audio" autoplay></audio>`;

function initPhone() {
  if (!$p("phone-panel")) return;
  $p("phone-panel").insertAdjacentHTML("beforeend", CONTROLS);  // the desk's and the board's panel alike
  const features = $p("phone-panel").dataset.features === "no" ? [] : FEATURES;  // the seat's codes: desk only
  $p("phone-keys").innerHTML = [..."123456789*0#"].map((k) => `<button type="button" data-dtmf="${k}">${k}</button>`).join("")
    + features.map(([code, name]) => `<button type="button" data-feature="${code}" title="${code}">${name}</button>`).join("");
  $p("phone-answer").onclick = answer;
  $p("phone-hangup").onclick = () => phone.session && phone.session.terminate();
  $p("phone-hold").onclick = () => {
    if (!phone.session) return;
    phone.held = !phone.held;
    if (phone.held) phone.session.hold(); else phone.session.unhold();
    renderPhoneButtons();
  };
  $p("phone-mute").onclick = () => {
    if (!phone.session) return;
    phone.muted = !phone.muted;
    if (phone.muted) phone.session.mute({ audio: true }); else phone.session.unmute({ audio: true });
    renderPhoneButtons();
  };
  $p("phone-keys").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (!b) return;
    if (b.dataset.dtmf && phone.session && phone.session.isEstablished()) phone.session.sendDTMF(b.dataset.dtmf);
    else if (b.dataset.feature && phone.ua && !phone.session) {
      phone.ua.call(`sip:${b.dataset.feature}@${phone.cred.uri.split("@")[1]}`,
        { mediaConstraints: audioConstraints(), pcConfig: { iceServers: [] } });
    }
  });
  $p("phone-mic").onchange = () => phoneSay("已切换麦克风（下一通电话生效）", true);
  renderPhoneButtons();
}

/* The desk tells the phone where the agent is (agent.js calls it with every snapshot). */
window.deskPhone = (agent) => {
  const signedIn = agent && agent.state && agent.state !== "logged_out" && agent.seat_id;
  if (signedIn && !phone.ua) phoneStart(agent.seat_id);
  else if (!signedIn && phone.ua) phoneStop();
  ringLabel();
};

/* The board starts and stops its phone when the supervisor picks (or leaves) 本页网页电话. */
window.boardPhone = {
  start: () => phoneStart(null),
  stop: () => { if (phone.ua) phoneStop(); $p("phone-panel").hidden = true; },
};

initPhone();
