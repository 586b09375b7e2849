"""Render `asterisk_conf/` for one Asterisk instance from settings and the seat roster.

One source of truth: the seat ids are given by the caller (they come from the ACD roster;
infra knows no feature), seat passwords and the FastAGI key are derived from `CALLCENTER_SIP_SECRET`, ports and
ARI credentials from settings.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from callcenter.infra.settings import REPO_ROOT, Settings
from callcenter.infra.trunk import carrier_dids, pjsip_trunk, seat_media, transport_nat, transport_tls
from callcenter.infra.webrtc_conf import http_tls, transport_wss, web_seats

TEMPLATE_DIR = REPO_ROOT / "asterisk_conf"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class SeatCredential:
    seat_id: str
    password: str


def seat_password(secret: str, seat_id: str) -> str:
    return hmac.new(secret.encode(), seat_id.encode(), hashlib.sha256).hexdigest()[:12]


def seat_credentials(settings: Settings, seats: Sequence[str]) -> list[SeatCredential]:
    return [SeatCredential(s, seat_password(settings.sip_secret, s)) for s in seats]


def _pjsip_seats(creds: list[SeatCredential]) -> str:
    blocks = []
    for c in creds:
        blocks.append(
            f"[{c.seat_id}](seat-template)\nauth = {c.seat_id}-auth\naors = {c.seat_id}\n"
            f"callerid = \"{c.seat_id}\" <{c.seat_id}>\n\n"
            f"[{c.seat_id}-auth]\ntype = auth\nauth_type = userpass\n"
            f"username = {c.seat_id}\npassword = {c.password}\n\n"
            f"[{c.seat_id}](seat-aor-template)\n"
        )
    return "\n".join(blocks)


def render_values(settings: Settings, inst_dir: str, seats: Sequence[str], *,
                  simulated_pstn: bool | None = None) -> dict[str, str]:
    """Placeholder values; outside calls go to the PSTN simulator unless a trunk is configured."""
    creds = seat_credentials(settings, seats)
    if simulated_pstn is None:
        simulated_pstn = settings.trunk_mode == "none"
    return {
        "instance": settings.asterisk_instance,
        "inst_dir": inst_dir,
        "ari_port": str(settings.ari_port),
        "ari_user": settings.ari_user,
        "ari_password": settings.ari_password,
        "ari_app": settings.ari_app,
        "http_port": str(settings.http_port),
        "agi_port": str(settings.agi_port),
        "agi_host": settings.agi_dial_host,
        "agi_secret": settings.agi_secret,
        "agi_url2": f"agi://{settings.agi_dial_host}:{settings.agi_standby_port}" if settings.agi_standby_port else "",
        "ari_bind": settings.ari_bind,
        "sip_bind": settings.sip_bind,
        "sip_port": str(settings.sip_port),
        "transport_nat": transport_nat(settings),
        "transport_tls": transport_tls(settings),
        "seat_media": seat_media(settings),
        "http_tls": http_tls(settings, inst_dir),
        "transport_wss": transport_wss(settings),
        "web_seats": web_seats(settings, seats),
        "pjsip_trunk": pjsip_trunk(settings),
        "carrier_dids": carrier_dids(settings),
        "outbound_cid": settings.trunk_caller_id,
        "rtp_start": str(settings.rtp_start),
        "rtp_end": str(settings.rtp_end),
        "outbound_prefix": "Local/" if simulated_pstn else "PJSIP/",
        "outbound_suffix": "@pstn-sim" if simulated_pstn else "@trunk",
        "pjsip_seats": _pjsip_seats(creds),
        "queue_members": "\n".join(f"member => PJSIP/{c.seat_id}" for c in creds),
        "bench_members": "\n".join(
            f"member => Local/{c.seat_id}@agent-sim/n,0,{c.seat_id},Custom:{c.seat_id}" for c in creds),
    }


def render_text(text: str, values: dict[str, str], name: str = "<template>") -> str:
    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values:
            raise KeyError(f"{name}: unknown placeholder {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(sub, text)


def render_all(settings: Settings, target: Path, inst_dir: str, seats: Sequence[str], *,
               template_dir: Path = TEMPLATE_DIR) -> list[Path]:
    """Write every rendered `*.conf` into `target`; returns the files written."""
    values = render_values(settings, inst_dir, seats)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for tpl in sorted(template_dir.glob("*.conf")):
        out = target / tpl.name
        out.write_text(render_text(tpl.read_text(encoding="utf-8"), values, tpl.name), encoding="utf-8")
        written.append(out)
    return written
