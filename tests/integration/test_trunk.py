"""The carrier trunk against the real sandbox Asterisk: sipp on loopback plays the carrier.

An IP-authenticated trunk (the carrier identified by its address), DIDs mapped to the hotline,
A-law only, an unknown DID refused, and our outbound calls presenting caller ID 12345.
Its own Asterisk instance (trunk settings), ports and Stasis app.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket

import pytest
from carrier import Carrier
from helpers import free_port, until

from callcenter.infra.ari import AriClient, AriEvent
from callcenter.infra.settings import Settings
from callcenter.stack import roster_seat_ids

pytestmark = pytest.mark.asterisk


@pytest.fixture(scope="module")
def trunk_asterisk(settings: Settings):
    from callcenter.infra.sandbox import start_instance

    carrier_port = free_port(socket.SOCK_DGRAM)
    s = settings.model_copy(update=dict(
        ari_url=f"http://127.0.0.1:{free_port()}", ari_app=f"trunk-test-{os.getpid()}",
        sip_port=free_port(socket.SOCK_DGRAM), rtp_start=settings.rtp_start + 100, rtp_end=settings.rtp_end,
        asterisk_instance=f"test-trunk-{os.getpid()}", trunk_mode="ip",
        trunk_host=f"127.0.0.1:{carrier_port}", trunk_match="127.0.0.1",
        trunk_dids="12345,08123612345=12345,12315", webrtc_port=0))
    inst = start_instance(s, roster_seat_ids(), echo=lambda *_: None)
    yield inst, carrier_port
    inst.stop()
    shutil.rmtree(inst.host_dir, ignore_errors=True)


@pytest.fixture
async def ari_events(trunk_asterisk):
    inst, _ = trunk_asterisk
    s = inst.settings
    seen: list[AriEvent] = []
    async with AriClient(s.ari_url, s.ari_user, s.ari_password, s.ari_app) as ari:
        async def collect(ev: AriEvent) -> None:
            seen.append(ev)

        ari.on_event(collect)
        ari.start_events()
        await asyncio.wait_for(ari.connected.wait(), 10)
        yield ari, seen
        ari.stop_events()


@pytest.fixture
def carrier():
    made: list[Carrier] = []

    def make(port: int | None = None) -> Carrier:
        c = Carrier(port or free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM))
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()


async def test_carrier_did_reaches_the_hotline_in_alaw(trunk_asterisk, ari_events, carrier):
    inst, _ = trunk_asterisk
    ari, seen = ari_events
    sipp = carrier()
    sipp.call(f"127.0.0.1:{inst.settings.sip_port}", "08123612345", caller="13912345678")

    def started():
        return next((e for e in seen if e.type == "StasisStart" and e.args[:1] == ["inbound"]), None)

    ev = await until(started, timeout=30, what="the carrier's call in Stasis")
    ch = ev.channel or {}
    assert ch["name"].startswith("PJSIP/trunk-")
    assert ch["caller"]["number"] == "13912345678"
    assert ch["channelvars"]["DNIS"] == "12345"  # the carrier's DID, mapped to the hotline
    fmt = await ari.get(f"/channels/{ch['id']}/variable", variable="CHANNEL(audionativeformat)")
    assert fmt["value"] == "(alaw)"
    await ari.safe(ari.delete(f"/channels/{ch['id']}"))


async def test_unknown_did_is_refused(trunk_asterisk, ari_events, carrier):
    inst, _ = trunk_asterisk
    _, seen = ari_events
    sipp = carrier()
    sipp.call(f"127.0.0.1:{inst.settings.sip_port}", "99999", expect="404")
    assert await asyncio.to_thread(sipp.wait, 30) == 0, sipp.messages()
    assert not [e for e in seen if e.type == "StasisStart"]


async def test_outbound_call_goes_out_on_the_trunk_as_12345(trunk_asterisk, ari_events, carrier):
    inst, carrier_port = trunk_asterisk
    ari, _ = ari_events
    far_end = carrier(carrier_port)
    far_end.answer()
    await ari.post("/channels", endpoint="Local/13800000009@outbound", app=inst.settings.ari_app,
                   appArgs="callback", formats="alaw")

    def invite():
        text = far_end.messages()
        return text if "INVITE sip:13800000009@" in text else None

    text = await until(invite, timeout=20, what="our INVITE at the carrier")
    invite_msg = text[text.index("INVITE sip:13800000009@"):]
    from_line = next(line for line in invite_msg.splitlines() if line.lower().startswith("from:"))
    assert "sip:12345@" in from_line
    media = next(line for line in invite_msg.splitlines() if line.startswith("m=audio"))
    assert media.split()[3:4] == ["8"]  # A-law (PCMA) first in the offer
    assert "PCMU" not in invite_msg


def test_tls_transport_and_seat_srtp_load_in_asterisk(settings: Settings, tmp_path):
    """Softphones on other networks: a TLS transport and SRTP-only seats, as Asterisk loads them."""
    import subprocess

    from callcenter.infra.sandbox import AsteriskInstance, build_root

    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing")
    root = build_root(settings.asterisk_cache, echo=lambda *_: None)
    name = f"test-tls-{os.getpid()}"
    keys = root / "srv" / "callcenter" / name / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=hall",
                    "-keyout", str(keys / "hall.key"), "-out", str(keys / "hall.crt")],
                   check=True, capture_output=True)
    inside = f"/srv/callcenter/{name}/keys"
    s = settings.model_copy(update=dict(
        ari_url=f"http://127.0.0.1:{free_port()}", sip_port=free_port(socket.SOCK_DGRAM),
        sip_tls_port=free_port(), sip_tls_cert=f"{inside}/hall.crt", sip_tls_key=f"{inside}/hall.key",
        seat_srtp=True, asterisk_instance=name, webrtc_port=0))
    inst = AsteriskInstance(s, root, tuple(roster_seat_ids()))
    try:
        inst.start()
        transports = inst.cli("pjsip show transports")
        assert "transport-tls" in transports and f":{s.sip_tls_port}" in transports
        assert "sdes" in inst.cli("pjsip show endpoint seat01").lower()
    finally:
        inst.stop()
        shutil.rmtree(inst.host_dir, ignore_errors=True)
