"""The web shell the features' pages sit on; like `callcenter.infra`, it imports no feature.

- :mod:`~callcenter.web.pages`: a feature registers its pages (``GET /board`` -> a file) and its
  static directory (served at ``/static/<feature>/<file>``); the shell's own files (``common.js``,
  ``session.js``, ``style.css``) are ``/static/web/...``;
- :mod:`~callcenter.web.hub`: the live hub machinery (MQTT in, WebSocket out, debounced pushes,
  periodic refresh, reconnect with back-off) that the board, the agent desks and the department
  feed each extend;
- :mod:`~callcenter.web.headers`: the security headers (CSP, frame and sniffing protection, no
  caching of API answers) on every response.

Each page lives with the feature it serves (docs/architecture.md lists them).
"""
