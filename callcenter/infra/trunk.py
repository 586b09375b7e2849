"""The carrier trunk, rendered into pjsip.conf and extensions.conf (pure: text in, text out).

Chinese carriers offer SIP trunks in two ways, both supported:
- `ip`: IP-authenticated. The carrier's SBC sends from known addresses (`CALLCENTER_TRUNK_MATCH`,
  default the trunk host) and accepts our calls from our public address; no registration.
- `register`: we register to the carrier with a user and password (`CALLCENTER_TRUNK_USER` /
  `_PASSWORD`) and authenticate our outbound INVITEs with them.
Calls arrive in `[from-carrier]`, which maps each DID the carrier delivers to a hotline number
(`CALLCENTER_TRUNK_DIDS`, e.g. `12345,12315,08123612345=12345`) and hands it to the IVR in
`[from-trunk]`; an unknown DID is refused. A-law (China's PSTN) by default; outbound calls
(survey and missed-call callbacks) present caller ID 12345 (`CALLCENTER_TRUNK_CALLER_ID`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callcenter.infra.settings import Settings

_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")
CODECS = {"alaw", "ulaw", "g722", "g729", "gsm", "opus"}


def parse_dids(text: str) -> list[tuple[str, str]]:
    """`DID[=hotline],...` -> [(did, hotline)]; a DID without `=` is its own hotline number."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        did, _, hotline = item.partition("=")
        did, hotline = did.strip(), (hotline.strip() or did.strip())
        for n in (did, hotline):
            if not _NUMBER.match(n):
                raise ValueError(f"{n!r} is not a telephone number (digits, optional leading +)")
        if did in seen:
            raise ValueError(f"DID {did} is listed twice")
        seen.add(did)
        out.append((did, hotline))
    if not out:
        raise ValueError("needs at least one DID, e.g. 12345")
    return out


def _matches(s: Settings) -> list[str]:
    raw = s.trunk_match or s.trunk_host.rsplit(":", 1)[0]
    return [m.strip() for m in raw.split(",") if m.strip()]


def check_trunk(s: Settings) -> list[str]:
    """One line per problem (empty when the trunk settings are consistent)."""
    problems: list[str] = []
    try:
        parse_dids(s.trunk_dids)
    except ValueError as exc:
        problems.append(f"CALLCENTER_TRUNK_DIDS: {exc}")
    codecs = [c.strip() for c in s.trunk_codecs.split(",") if c.strip()]
    if not codecs or any(c not in CODECS for c in codecs):
        problems.append(f"CALLCENTER_TRUNK_CODECS: {s.trunk_codecs!r}; choose from {', '.join(sorted(CODECS))}")
    for cidr in (c.strip() for c in s.sip_local_net.split(",") if c.strip()):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            problems.append(f"CALLCENTER_SIP_LOCAL_NET: {cidr!r} is not a network (e.g. 10.0.0.0/8)")
    if s.sip_tls_port and not (s.sip_tls_cert and s.sip_tls_key):
        problems.append("CALLCENTER_SIP_TLS_CERT / CALLCENTER_SIP_TLS_KEY: needed with CALLCENTER_SIP_TLS_PORT")
    if s.seat_srtp and not s.sip_tls_port:
        problems.append("CALLCENTER_SEAT_SRTP: SRTP keys travel in the SIP messages; set CALLCENTER_SIP_TLS_PORT too")
    if s.trunk_mode == "none":
        return problems
    if not _HOST.match(s.trunk_host or ""):
        problems.append(f"CALLCENTER_TRUNK_HOST: {s.trunk_host!r} must be host[:port] of the carrier "
                        f"(needed with CALLCENTER_TRUNK_MODE={s.trunk_mode})")
    elif not _matches(s):
        problems.append("CALLCENTER_TRUNK_MATCH: no address to identify the carrier by")
    if s.trunk_mode == "register" and not (s.trunk_user and s.trunk_password):
        problems.append("CALLCENTER_TRUNK_USER / CALLCENTER_TRUNK_PASSWORD: needed with "
                        "CALLCENTER_TRUNK_MODE=register")
    return problems


def transport_nat(s: Settings) -> str:
    """Lines for the UDP transport when softphones or the carrier reach us through NAT."""
    lines = []
    if s.sip_external_address:
        lines += [f"external_media_address = {s.sip_external_address}",
                  f"external_signaling_address = {s.sip_external_address}"]
    lines += [f"local_net = {c.strip()}" for c in s.sip_local_net.split(",") if c.strip()]
    return "\n".join(lines)


def transport_tls(s: Settings) -> str:
    """A TLS transport for softphones on other networks (CALLCENTER_SIP_TLS_PORT), or nothing."""
    if not s.sip_tls_port:
        return "; no TLS transport (CALLCENTER_SIP_TLS_PORT=0)"
    nat = transport_nat(s)
    return (f"[transport-tls]\ntype = transport\nprotocol = tls\nbind = {s.sip_bind}:{s.sip_tls_port}\n"
            f"cert_file = {s.sip_tls_cert}\npriv_key_file = {s.sip_tls_key}\nmethod = tlsv1_2\n"
            + (nat + "\n" if nat else ""))


def seat_media(s: Settings) -> str:
    """Seat endpoint lines for SRTP (CALLCENTER_SEAT_SRTP), or nothing."""
    return "media_encryption = sdes\nmedia_encryption_optimistic = no" if s.seat_srtp else ""


def pjsip_trunk(s: Settings) -> str:
    if s.trunk_mode == "none":
        return "; no carrier trunk (CALLCENTER_TRUNK_MODE=none): outside calls go to the PSTN simulator"
    host, user = s.trunk_host, s.trunk_user
    cid = s.trunk_caller_id
    register = s.trunk_mode == "register"
    blocks = [
        f"; carrier trunk, mode {s.trunk_mode}\n[trunk](trunk-template)\n"
        # no `callerid` here: on an endpoint it would replace the citizen's number on inbound
        # calls; outbound caller ID is set by [outbound] in the dialplan (OUTBOUND_CID)
        f"allow = {s.trunk_codecs}\naors = trunk\nfrom_user = {user if register else cid}\n"
        "send_pai = yes\n"
        + ("outbound_auth = trunk-auth\n" if register else ""),
        f"[trunk]\ntype = aor\ncontact = sip:{host}\nqualify_frequency = 30\n",
        "[trunk]\ntype = identify\nendpoint = trunk\n" + "".join(f"match = {m}\n" for m in _matches(s)),
    ]
    if register:
        blocks += [
            f"[trunk-auth]\ntype = auth\nauth_type = userpass\nusername = {user}\npassword = {s.trunk_password}\n",
            f"[trunk]\ntype = registration\ntransport = transport-udp\noutbound_auth = trunk-auth\n"
            f"server_uri = sip:{host}\nclient_uri = sip:{user}@{host}\ncontact_user = {user}\n"
            "retry_interval = 30\nforbidden_retry_interval = 300\nexpiration = 300\nline = yes\n"
            "endpoint = trunk\n",
        ]
    return "\n".join(blocks)


def carrier_dids(s: Settings) -> str:
    """`[from-carrier]` extensions: each DID to its hotline number in from-trunk."""
    lines = [f"exten => {did},1,Goto(from-trunk,{hotline},1)" for did, hotline in parse_dids(s.trunk_dids)]
    return "\n".join(lines)
