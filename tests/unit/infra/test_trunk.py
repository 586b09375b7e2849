"""Carrier trunk settings and rendering (pure)."""

from __future__ import annotations

import re

import pytest

from callcenter.infra.asterisk_conf import render_all
from callcenter.infra.settings import Settings, SettingsError, load_settings
from callcenter.infra.trunk import parse_dids


def test_dids_map_to_hotlines():
    assert parse_dids("12345, 12315,08123612345=12345") == [
        ("12345", "12345"), ("12315", "12315"), ("08123612345", "12345")]


@pytest.mark.parametrize("text,match", [("", "at least one"), ("12a45", "not a telephone"),
                                        ("12345,12345", "twice"), ("999=x", "not a telephone")])
def test_bad_dids_are_refused(text, match):
    with pytest.raises(ValueError, match=match):
        parse_dids(text)


def test_trunk_mode_needs_host_and_register_needs_credentials():
    with pytest.raises(SettingsError, match="CALLCENTER_TRUNK_HOST"):
        load_settings(trunk_mode="ip")
    with pytest.raises(SettingsError, match="CALLCENTER_TRUNK_USER / CALLCENTER_TRUNK_PASSWORD"):
        load_settings(trunk_mode="register", trunk_host="sbc.example.net")
    with pytest.raises(SettingsError, match="CALLCENTER_TRUNK_CODECS"):
        load_settings(trunk_codecs="speex")


def _render(tmp_path, **kw) -> dict[str, str]:
    render_all(Settings(**kw), tmp_path, "/srv/callcenter/x", ["seat01", "seat02"])
    return {p.name: p.read_text() for p in tmp_path.glob("*.conf")}


def test_default_render_binds_loopback_and_simulates_pstn(tmp_path):
    conf = _render(tmp_path)
    assert "bind = 127.0.0.1:5060" in conf["pjsip.conf"]
    assert "bindaddr = 127.0.0.1" in conf["http.conf"]
    assert "OUTBOUND_PREFIX = Local/" in conf["extensions.conf"]
    assert "type = registration" not in conf["pjsip.conf"]
    assert "exten => 12345,1,Goto(from-trunk,12345,1)" in conf["extensions.conf"]
    assert not re.search(r"\{\{\w+\}\}", "".join(conf.values()))


def test_ip_trunk_renders_identify_alaw_and_caller_id(tmp_path):
    conf = _render(tmp_path, sip_bind="0.0.0.0", ari_bind="0.0.0.0", agi_host="0.0.0.0",
                   trunk_mode="ip", trunk_host="203.0.113.5:5060", trunk_dids="12345,0812-1=12345".replace("-", ""),
                   sip_external_address="198.51.100.7", sip_local_net="10.0.0.0/8")
    pj, ext = conf["pjsip.conf"], conf["extensions.conf"]
    assert "bind = 0.0.0.0:5060" in pj and "external_media_address = 198.51.100.7" in pj
    assert "local_net = 10.0.0.0/8" in pj
    assert "match = 203.0.113.5" in pj and "allow = alaw" in pj and "from_user = 12345" in pj
    assert "contact = sip:203.0.113.5:5060" in pj and "type = registration" not in pj
    assert "OUTBOUND_PREFIX = PJSIP/" in ext and "OUTBOUND_SUFFIX = @trunk" in ext
    assert "OUTBOUND_CID = 12345" in ext
    assert "exten => 08121,1,Goto(from-trunk,12345,1)" in ext
    assert "AGI_URL = agi://127.0.0.1:" in ext  # a wildcard bind is reached on loopback


def test_register_trunk_renders_registration_and_outbound_auth(tmp_path):
    conf = _render(tmp_path, trunk_mode="register", trunk_host="sbc.example.net", trunk_user="0812123",
                   trunk_password="pw")
    pj = conf["pjsip.conf"]
    assert "type = registration" in pj and "client_uri = sip:0812123@sbc.example.net" in pj
    assert "outbound_auth = trunk-auth" in pj and "password = pw" in pj


def test_tls_transport_and_seat_srtp(tmp_path):
    with pytest.raises(SettingsError, match="CALLCENTER_SIP_TLS_CERT"):
        load_settings(sip_tls_port=5061)
    with pytest.raises(SettingsError, match="CALLCENTER_SEAT_SRTP"):
        load_settings(seat_srtp=True)
    conf = _render(tmp_path, sip_tls_port=5061, sip_tls_cert="/etc/asterisk/keys/hall.crt",
                   sip_tls_key="/etc/asterisk/keys/hall.key", seat_srtp=True)
    pj = conf["pjsip.conf"]
    assert "protocol = tls" in pj and "bind = 127.0.0.1:5061" in pj and "cert_file = /etc/asterisk/keys/hall.crt" in pj
    seat_template = pj[pj.index("[seat-template](!)"):pj.index("[seat-aor-template](!)")]
    assert "media_encryption = sdes" in seat_template
    assert "media_encryption" not in _render(tmp_path / "plain")["pjsip.conf"]
