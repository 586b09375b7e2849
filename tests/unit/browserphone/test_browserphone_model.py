"""The browser phone's pure parts: credentials for the agent's own seat only, short-lived; which
phone of a seat rings; what the Asterisk config says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.acd.phones import SeatPhones
from callcenter.browserphone.model import (
    NoPhoneFree,
    NoSeat,
    contact_id,
    contact_uris,
    due,
    new_credential,
    seat_of_agent,
    supervisor_phone,
)
from callcenter.infra.asterisk_conf import render_values
from callcenter.infra.settings import Settings
from callcenter.infra.webrtc_conf import seat_of_endpoint, web_endpoint

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)


def test_a_credential_is_random_short_lived_and_for_the_seats_browser_endpoint():
    a, b = new_credential("seat03", "1003", T0, 60), new_credential("seat03", "1003", T0, 60)
    assert a.password != b.password and len(a.password) >= 24
    assert a.username == "seat03-web"
    assert not a.expired(T0 + timedelta(seconds=59)) and a.expired(T0 + timedelta(seconds=60))
    doc = a.document("wss://127.0.0.1:8089/ws", "127.0.0.1")
    assert doc["uri"] == "sip:seat03-web@127.0.0.1" and doc["refresh_s"] == 30
    assert due({"seat03": a, "seat04": new_credential("seat04", "1004", T0, 120)}, T0 + timedelta(seconds=90)) == ["seat03"]


def test_a_credential_is_taken_back_when_its_agent_leaves_the_seat():
    """Defect found by reading: a credential outlived its agent's sign-in (signed out by *22 or a
    supervisor, or moved to another seat): the browser stayed registered for up to its whole life and
    the seat's next agent's calls rang the browser of the one who had left."""
    issued = {"seat03": new_credential("seat03", "1003", T0, 600), "seat04": new_credential("seat04", "1004", T0, 600)}
    assert due(issued, T0, {"1003": "seat03", "1004": "seat04"}) == []
    assert due(issued, T0, {"1003": "seat03"}) == ["seat04"]  # 1004 signed out
    assert due(issued, T0, {"1003": "seat05", "1004": "seat04"}) == ["seat03"]  # 1003 moved to seat05
    assert due(issued, T0, {"1009": "seat03", "1004": "seat04"}) == ["seat03"]  # another agent at seat03
    assert due(issued, T0, None) == []  # sign-ins not known (no ACD yet): only the clock counts


def test_the_registered_contacts_of_an_aor_and_their_names_in_asterisk():
    fields = [{"attribute": "max_contacts", "value": "1"},
              {"attribute": "contact", "value": "sip:seat06-web@127.0.0.1:60728;transport=ws"},
              {"attribute": "contact", "value": ""}, "garbage"]
    assert contact_uris(fields) == ["sip:seat06-web@127.0.0.1:60728;transport=ws"]
    assert contact_uris({"error": "x"}) == []
    name = contact_id("seat06-web", "sip:a@b")
    assert name.startswith("seat06-web;@") and len(name.split(";@")[1]) == 32


def test_only_the_seat_the_agent_is_signed_in_at():
    seats = {"1001": "seat01", "1002": "seat02"}
    assert seat_of_agent("1002", seats) == "seat02"
    for who in ("1003", None, ""):
        with pytest.raises(NoSeat):
            seat_of_agent(who, seats)


def test_the_browser_rings_when_registered_else_the_desk_phone():
    phones = SeatPhones()
    assert not phones.reachable("seat01")
    assert phones.update("seat01", True, []) == "seat01"
    assert phones.dial("PJSIP/seat01", "seat01") == "PJSIP/seat01"
    assert phones.update("seat01-web", True, ["c1"]) == "seat01"
    assert phones.dial("PJSIP/seat01", "seat01") == "PJSIP/seat01-web"
    assert phones.dial("Local/seat01@agent-sim/n", "seat01") == "Local/seat01@agent-sim/n"  # not a SIP seat
    assert phones.seat_channels("seat01") == ["c1"]
    phones.update("seat01", False, [])
    assert phones.reachable("seat01")  # the browser still is
    phones.update("seat01-web", False, [])
    assert not phones.reachable("seat01") and phones.seat_channels("seat01") == []
    assert seat_of_endpoint(web_endpoint("seat07")) == ("seat07", True)


def test_asterisk_config_of_the_browser_phone():
    s = Settings(env="test", webrtc_port=18089)
    v = render_values(s, "/srv/callcenter/x", ["seat01"])
    assert "tlsbindaddr = 127.0.0.1:18089" in v["http_tls"]
    assert "tlscertfile = /srv/callcenter/x/keys/asterisk.crt" in v["http_tls"]
    assert "protocol = wss" in v["transport_wss"]
    assert "[seat01-web](web-template)" in v["web_seats"] and "auth = seat01-web-auth" in v["web_seats"]
    own = Settings(env="test", webrtc_cert="/etc/ssl/wss.pem", webrtc_key="/etc/ssl/wss.key")
    assert "tlscertfile = /etc/ssl/wss.pem" in render_values(own, "/x", ["seat01"])["http_tls"]
    off = render_values(Settings(env="test", webrtc_port=0), "/x", ["seat01"])
    assert "tlsenable" not in off["http_tls"] and "web-template" not in off["web_seats"]
    assert s.webrtc_wss_url == "wss://127.0.0.1:18089/ws"


def test_a_supervisor_gets_the_phone_they_hold_else_the_first_free_one():
    phones = ["sup01", "sup02"]
    assert supervisor_phone("li", {}, phones, T0) == "sup01"
    issued = {"sup01": new_credential("sup01", "li", T0, 600)}
    assert supervisor_phone("li", issued, phones, T0) == "sup01"  # the same again: a renewal
    assert supervisor_phone("wang", issued, phones, T0) == "sup02"
    issued["sup02"] = new_credential("sup02", "wang", T0, 600)
    with pytest.raises(NoPhoneFree):
        supervisor_phone("zhao", issued, phones, T0)
    assert supervisor_phone("zhao", issued, phones, T0 + timedelta(seconds=600)) == "sup01"  # li's ran out
    # a supervisor phone is not taken back because its holder is signed in at no seat
    assert due(issued, T0, {"1001": "seat01"}) == [] and issued["sup01"].supervisors


def test_supervisor_phones_are_rendered_and_dial_nothing():
    from callcenter.infra.settings import Settings
    from callcenter.infra.webrtc_conf import supervisor_phones, web_seats

    s = Settings(env="test", webrtc_port=18089, webrtc_supervisor_phones=2)
    assert supervisor_phones(s) == ["sup01", "sup02"]
    text = web_seats(s, ["seat01"])
    assert "[seat01-web](web-template)" in text and "[sup02-web](web-template)" in text
    sup = text[text.index("[sup01-web](web-template)"):]
    assert "context = supervisor-phones" in sup.split("\n\n")[0]
    assert "context" not in text[:text.index("[sup01-web]")]
    assert supervisor_phones(Settings(env="test", webrtc_port=0)) == []
