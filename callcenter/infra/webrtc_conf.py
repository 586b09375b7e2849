"""The browser phone's part of the Asterisk config (pure: settings in, config text out).

Asterisk's HTTP server takes TLS on `CALLCENTER_WEBRTC_PORT` and carries SIP over secure
WebSocket (`wss://host:port/ws`, res_pjsip_transport_websocket). Each seat has two endpoints:
`seatNN` for a desk phone (UDP, or TLS) and `seatNN-web` for the browser (`webrtc = yes`:
DTLS-SRTP, ICE, AVPF, rtcp-mux; Opus and G.711). The browser endpoint's `auth` object is in
no file: the controller pushes a short-lived random password for it over ARI when the seat's
agent asks for one (callcenter/browserphone), into the memory wizard that sorcery.conf adds for
res_pjsip auth objects. Until then, and once it expires, no REGISTER for `seatNN-web` passes. Supervisors' browser
phones (`sup01-web`.., `CALLCENTER_WEBRTC_SUPERVISOR_PHONES`) are endpoints of the same kind that
no seat owns: the controller lends one to a signed-in supervisor for listen/whisper/barge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callcenter.infra.settings import Settings

WEB_SUFFIX = "-web"


def web_endpoint(seat_id: str) -> str:
    """The browser endpoint of a seat (`seat01` -> `seat01-web`)."""
    return seat_id + WEB_SUFFIX


def web_auth_id(seat_id: str) -> str:
    return web_endpoint(seat_id) + "-auth"


def seat_of_endpoint(resource: str) -> tuple[str, bool]:
    """`seat01-web` -> ("seat01", True); `seat01` -> ("seat01", False)."""
    if resource.endswith(WEB_SUFFIX):
        return resource[: -len(WEB_SUFFIX)], True
    return resource, False


def cert_paths(s: Settings, inst_dir: str) -> tuple[str, str]:
    """The certificate and key as Asterisk sees them: the operator's, else the local CA's."""
    if s.webrtc_cert and s.webrtc_key:
        return s.webrtc_cert, s.webrtc_key
    return f"{inst_dir}/keys/asterisk.crt", f"{inst_dir}/keys/asterisk.key"


def http_tls(s: Settings, inst_dir: str) -> str:
    if not s.webrtc_port:
        return "; no TLS (CALLCENTER_WEBRTC_PORT=0): no browser phone"
    cert, key = cert_paths(s, inst_dir)
    return (f"tlsenable = yes\ntlsbindaddr = {s.webrtc_bind}:{s.webrtc_port}\n"
            f"tlscertfile = {cert}\ntlsprivatekey = {key}\n")


def transport_wss(s: Settings) -> str:
    if not s.webrtc_port:
        return "; no WSS transport (CALLCENTER_WEBRTC_PORT=0)"
    # the WebSocket rides on the HTTP server above: `bind` is required but not used
    return "[transport-wss]\ntype = transport\nprotocol = wss\nbind = 0.0.0.0\n"


SUPERVISOR_PREFIX = "sup"


def is_supervisor_phone(phone: str) -> bool:
    """`sup01` (a supervisor's browser phone), not a seat."""
    return phone.startswith(SUPERVISOR_PREFIX)


def supervisor_phones(s: Settings) -> list[str]:
    """The supervisors' browser phones (`sup01`.. -> endpoints `sup01-web`..)."""
    return [f"{SUPERVISOR_PREFIX}{i:02d}" for i in range(1, s.webrtc_supervisor_phones + 1)] if s.webrtc_port else []


def web_seats(s: Settings, seats: Sequence[str]) -> str:
    if not s.webrtc_port:
        return "; no browser endpoints (CALLCENTER_WEBRTC_PORT=0)"
    blocks = []
    for seat in [*seats, *supervisor_phones(s)]:
        ep = web_endpoint(seat)
        # a supervisor's phone only takes the supervision the controller rings it with: it dials nothing
        own = "context = supervisor-phones\n" if is_supervisor_phone(seat) else ""
        blocks.append(
            f"[{ep}](web-template)\nauth = {web_auth_id(seat)}\naors = {ep}\n{own}"
            f"callerid = \"{seat}\" <{seat}>\n\n[{ep}](web-aor-template)\n"
        )
    return "\n".join(blocks)
