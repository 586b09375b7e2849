"""The browser phone in the agent desk (WebRTC over Asterisk's WSS): short-lived credentials for
the signed-in agent's own seat, and the page's phone (static/phone.js with the vendored JsSIP)."""
