"""The browser phone's credentials against the real sandbox Asterisk: a real REGISTER over WSS
(TLS, SIP over WebSocket, digest) with what the server hands the signed-in agent. Another seat,
a wrong password, no sign-in, an expired or taken-back credential: all refused by Asterisk. And
a browser phone whose network drops turns its agent unreachable, as a dead desk phone does."""

from __future__ import annotations

import pytest
from acd_support import Phone
from helpers import until
from wss_sip import WssSip

from callcenter.app import PLUGINS
from callcenter.browserphone.service import WebPhones

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(120)]


def client(settings, asterisk, user: str, password: str) -> WssSip:
    return WssSip(settings.webrtc_wss_url, asterisk.keys_dir / "ca.crt", user, password)


# Asterisk refuses with 401 (wrong password) or 500 (an endpoint whose auth object is gone)
async def register(settings, asterisk, user: str, password: str) -> int:
    c = client(settings, asterisk, user, password)
    try:
        await c.connect()
        return await c.register()
    finally:
        await c.close()


async def credential(http, status: int = 201) -> dict:
    async with http.post("/api/webphone/credentials") as resp:
        body = await resp.json()
        assert resp.status == status, body
        return body


async def test_only_the_signed_in_agents_own_seat_registers(stack, settings, asterisk, logins):
    phone = Phone(stack)
    a, b = await logins.client("agent:1001"), await logins.client("agent:1002")
    sup = await logins.client("supervisor:li")
    try:
        assert (await credential(a, 409))["error"] == "no_seat"  # signed in nowhere
        await phone.login("1001", "seat01")
        await phone.login("1002", "seat02")
        mine = await credential(a)
        assert mine["username"] == "seat01-web" and mine["seat_id"] == "seat01"
        assert mine["ws_url"] == settings.webrtc_wss_url and mine["ttl_s"] == settings.webrtc_credential_ttl_s
        theirs = await credential(b)
        assert theirs["username"] == "seat02-web" and theirs["password"] != mine["password"]

        assert await register(settings, asterisk, "seat01-web", mine["password"]) == 200
        assert await register(settings, asterisk, "seat01-web", "guessed-" + mine["password"][:8]) >= 400
        assert await register(settings, asterisk, "seat02-web", mine["password"]) >= 400  # not my seat
        assert await register(settings, asterisk, "seat03-web", mine["password"]) >= 400  # nobody's
        assert await register(settings, asterisk, "seat01", mine["password"]) >= 400  # the desk phone's
        # a new credential replaces the last one: the old password no longer registers
        again = await credential(a)
        assert await register(settings, asterisk, "seat01-web", mine["password"]) >= 400
        assert await register(settings, asterisk, "seat01-web", again["password"]) == 200
        # signing out of the phone takes it back
        async with a.delete("/api/webphone/credentials") as resp:
            assert resp.status == 204
        assert await register(settings, asterisk, "seat01-web", again["password"]) >= 400
    finally:
        for c in (a, b, sup):
            await c.close()


async def test_an_expired_credential_is_refused(stack, settings, asterisk):
    ctx_ari = Phone(stack).ari
    phones = WebPhones(ctx_ari, ttl_s=2)
    phones.start()
    try:
        cred = await phones.issue("seat04", "1004")
        assert await register(settings, asterisk, "seat04-web", cred.password) == 200

        async def refused() -> bool:
            return await register(settings, asterisk, "seat04-web", cred.password) >= 400

        await until(refused, timeout=15, interval=0.5, what="the expired credential refused")
        assert "seat04" not in phones.issued
    finally:
        await phones.stop()


async def test_a_dropped_websocket_makes_the_agent_unreachable(stack, settings, asterisk):
    phone = Phone(stack)
    acd = phone.acd
    await acd.login("1001", "seat05", interface="PJSIP/seat05", override_by="pytest")
    assert phone.agent("1001").state == "unreachable"  # no phone registered yet
    phones = stack[PLUGINS].webphone.service.get()
    cred = await phones.issue("seat05", "1001")
    sip = client(settings, asterisk, "seat05-web", cred.password)
    await sip.connect()
    assert await sip.register(expires=600) == 200
    await until(lambda: phone.agent("1001").state == "available", timeout=15, what="reachable through the browser")
    assert acd.phones.dial("PJSIP/seat05", "seat05") == "PJSIP/seat05-web"
    await sip.drop()
    await until(lambda: phone.agent("1001").state == "unreachable", timeout=20, what="unreachable after the drop")
    assert acd.phones.dial("PJSIP/seat05", "seat05") == "PJSIP/seat05"
    await acd.logout("1001")


async def test_signing_out_takes_the_seat_from_a_registered_browser(stack, settings, asterisk):
    """Defect found by reading: the credential outlived the agent's sign-in and a registered browser
    kept ringing for the seat until its registration ran out (up to 10 minutes), so the seat's next
    agent's calls rang the browser of the one who had left. Now the sweep takes the credential back
    when the agent leaves the seat, and taking it back removes the browser's registration."""
    phone = Phone(stack)
    acd = phone.acd
    await acd.login("1002", "seat06", interface="PJSIP/seat06", override_by="pytest")
    phones = stack[PLUGINS].webphone.service.get()
    cred = await phones.issue("seat06", "1002")
    sip = client(settings, asterisk, "seat06-web", cred.password)
    try:
        await sip.connect()
        assert await sip.register(expires=600) == 200
        await until(lambda: acd.phones.browser("seat06"), timeout=15, what="the browser registered")
        await acd.logout("1002")
        await until(lambda: "seat06" not in phones.issued, timeout=10, what="the credential taken back")
        await until(lambda: not acd.phones.browser("seat06"), timeout=10, what="the browser's registration removed")
        assert acd.phones.dial("PJSIP/seat06", "seat06") == "PJSIP/seat06"
        assert await sip.register(expires=600) >= 400  # and it cannot register again
    finally:
        await sip.close()


async def test_supervisors_borrow_their_own_browser_phones(stack, settings, asterisk, logins):
    """A supervisor's board has a browser phone for listen/whisper/barge: a supervisor phone
    (sup01-web..) is lent to them, the same one while they hold it; it is nobody's seat."""
    phone = Phone(stack)
    li, wang = await logins.client("supervisor:li"), await logins.client("supervisor:wang")
    agent = await logins.client("agent:1003")
    try:
        mine = await credential(li)
        assert mine["username"] == "sup01-web" and mine["seat_id"] == "sup01"
        assert (await credential(li))["username"] == "sup01-web"  # a renewal keeps the phone
        theirs = await credential(wang)
        assert theirs["username"] == "sup02-web"
        again = await credential(li)
        assert await register(settings, asterisk, "sup01-web", again["password"]) == 200
        assert await register(settings, asterisk, "sup02-web", again["password"]) >= 400  # not mine
        await phone.login("1003", "seat03")
        seat = await credential(agent)
        assert seat["username"] == "seat03-web"
        assert await register(settings, asterisk, "sup01-web", seat["password"]) >= 400
        async with li.delete("/api/webphone/credentials") as resp:
            assert resp.status == 204
        assert await register(settings, asterisk, "sup01-web", again["password"]) >= 400
        assert await register(settings, asterisk, "sup02-web", theirs["password"]) == 200  # wang's untouched
    finally:
        for c in (li, wang, agent):
            await c.close()


async def test_supervising_on_the_browser_phone_needs_one_registered(stack, settings, asterisk, logins):
    phone = Phone(stack)
    await phone.login("1004", "seat04")
    call = await phone.call(caller="13812345678")
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    li = await logins.client("supervisor:li")
    try:
        for body in ({"mode": "listen"}, {"mode": "listen", "phone": "browser", "seat": "seat20"}):
            async with li.post(f"/api/calls/{call}/supervise", json=body) as r:
                assert r.status == 422, body
        async with li.post(f"/api/calls/{call}/supervise", json={"mode": "listen", "phone": "browser"}) as r:
            assert r.status == 409 and (await r.json())["error"] == "no_browser_phone"
        await credential(li)  # held, but no page has registered it
        async with li.post(f"/api/calls/{call}/supervise", json={"mode": "listen", "phone": "browser"}) as r:
            assert r.status == 409 and (await r.json())["error"] == "browser_phone_offline"
        assert stack[PLUGINS].acd.supervision.get().active == {}
    finally:
        async with li.delete("/api/webphone/credentials"):
            pass
        await li.close()
        await phone.hangup(call)
