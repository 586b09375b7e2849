"""Agents on real SIP softphones (baresip): a seat that cannot ring is never offered a call,
and an agent follows the phone's registration (unreachable within seconds, back on register)."""

from __future__ import annotations

import asyncio

import pytest
from acd_support import Phone
from helpers import until
from softphone import Baresip

from callcenter.acd.agents import AgentState
from callcenter.infra.asterisk_conf import seat_password


@pytest.fixture
async def phone(stack):
    yield Phone(stack)


@pytest.fixture
def softphones(settings):
    phones: list[Baresip] = []

    def make(seat: str) -> Baresip:
        p = Baresip(seat, seat_password(settings.sip_secret, seat), settings.sip_port)
        phones.append(p)
        return p

    yield make
    for p in phones:
        p.kill()


async def test_call_rings_a_registered_softphone_and_agent_follows_registration(phone, softphones):
    sp = softphones("seat05")
    sp.start()
    await until(lambda: phone.acd.endpoint_online("seat05"),
                timeout=15, what="seat05 registered")
    await phone.acd.login("1005", "seat05", override_by="pytest")
    assert phone.agent("1005").state is AgentState.AVAILABLE
    call = await phone.call()
    await until(lambda: phone.acd.calls[call].state == "bridged", timeout=15,
                what=f"softphone answered ({sp.output()[-1500:]})")
    assert phone.acd.calls[call].agent_id == "1005"
    await phone.hangup(call)
    await until(lambda: phone.agent("1005").state is AgentState.WRAP_UP, what="wrap-up")

    sp.kill()  # no unregister: only qualify (OPTIONS) notices
    await until(lambda: phone.agent("1005").state is AgentState.UNREACHABLE, timeout=20,
                what="agent unreachable after the phone died")
    waiting = await phone.call()
    await phone.acd.assign()
    assert phone.acd.calls[waiting].state == "queued"  # never offered to a seat that cannot ring

    sp.start()
    await until(lambda: phone.agent("1005").state is not AgentState.UNREACHABLE, timeout=20,
                what=f"agent back after re-register ({sp.output()[-1500:]})")
    await phone.hangup(waiting)


async def test_login_on_unregistered_seat_is_unreachable(phone):
    agent = await phone.acd.login("1006", "seat06", override_by="pytest")
    assert agent.state is AgentState.UNREACHABLE
    call = await phone.call()
    assert phone.acd.calls[call].state == "queued"
    await phone.hangup(call)


async def test_feature_codes_from_the_softphone(phone, softphones, settings):
    """*23 from seat07's phone pauses its agent, *24 makes it available again."""
    sp = softphones("seat07")
    sp.start()
    await until(lambda: phone.acd.endpoint_online("seat07"), timeout=15, what="seat07 registered")
    await phone.acd.login("1007", "seat07", override_by="pytest")
    sp.dial("*23")
    await until(lambda: phone.agent("1007").state is AgentState.PAUSED, timeout=15,
                what=f"paused by *23 ({sp.output()[-400:]})")
    sp.dial("*24")
    await until(lambda: phone.agent("1007").state is AgentState.AVAILABLE, timeout=15, what="available by *24")

    async def hung_up() -> bool:  # the confirmation's end hangs the phone up
        return not (await phone.ari.get("/endpoints/PJSIP/seat07")).get("channel_ids")

    await until(hung_up, timeout=15, what="the *24 confirmation over")


async def test_a_feature_code_in_flight_when_the_controller_changes_is_ended_by_the_next(phone, softphones):
    """Seen in CI: the controller stopped while a seat heard *23's confirmation, the prompt's end
    (which hangs the phone up) went to nobody, and the seat's channel stayed in the app: the next
    controller saw the seat busy on another call for ever and never offered it a caller."""
    acd, ari = phone.acd, phone.ari
    sp = softphones("seat09")
    sp.start()
    await until(lambda: acd.endpoint_online("seat09"), timeout=15, what="seat09 registered")
    await acd.login("1009", "seat09", override_by="pytest")

    async def seat_channels() -> list[str]:
        return list((await ari.get("/endpoints/PJSIP/seat09")).get("channel_ids") or [])

    sp.dial("*23")
    await until(lambda: phone.agent("1009").state is AgentState.PAUSED, timeout=15,
                what=f"paused by *23 ({sp.output()[-400:]})")
    assert await seat_channels()  # the confirmation is playing (2.3 s)
    ari.stop_events()  # the controller goes away before the prompt ends
    await asyncio.sleep(3)  # the prompt ends while nobody holds the app
    assert await seat_channels()  # nobody hung the phone up
    ari.start_events()
    await asyncio.wait_for(ari.connected.wait(), 10)

    async def ended() -> bool:
        return not await seat_channels()

    await until(ended, timeout=15, what="the stale confirmation hung up by the new controller")
    await acd.unpause("1009")
    await until(lambda: "seat09" not in acd.busy_elsewhere, timeout=15, what="seat09 not busy elsewhere")
    call = await phone.call()
    await until(lambda: acd.calls[call].state == "bridged", timeout=30,
                what=f"a caller put through to seat09 ({sp.output()[-800:]})")
    await phone.hangup(call)


async def test_an_agent_whose_phone_registers_again_unseen_is_brought_back_by_the_audit(phone, softphones):
    """Seen in CI: a softphone registered again and its agent stayed unreachable (no endpoint
    event reached the controller). The leg audit asks Asterisk about unreachable agents' seats."""
    from callcenter.app import PLUGINS

    acd, ari = phone.acd, phone.ari
    agent = await acd.login("1010", "seat10", override_by="pytest")
    assert agent.state is AgentState.UNREACHABLE
    app = f"/applications/{acd.app}/subscription"
    await ari.delete(app, eventSource="endpoint:PJSIP")  # the endpoint's event gets lost
    try:
        sp = softphones("seat10")
        sp.start()

        async def registered() -> bool:
            return (await ari.get("/endpoints/PJSIP/seat10")).get("state") == "online"

        await until(registered, timeout=15, what=f"seat10 registered ({sp.output()[-400:]})")
        # nobody told the controller (the audit's own 15 s round may have run meanwhile)
        await phone.app[PLUGINS].acd.audit.get().run_once()
        assert phone.agent("1010").state is AgentState.AVAILABLE
    finally:
        await ari.post(app, eventSource="endpoint:PJSIP")


class Played:
    """Records what the controller finished playing to each channel (PlaybackFinished)."""

    EVENTS = frozenset({"PlaybackFinished"})

    def __init__(self) -> None:
        self.media: list[str] = []

    async def on_event(self, event) -> None:
        if event.type == "PlaybackFinished":
            self.media.append(str((event.raw.get("playback") or {}).get("media_uri", "")))


async def test_an_off_shift_sign_in_from_the_phone_is_refused_and_the_phone_says_why(phone, softphones, asterisk):
    from datetime import UTC, datetime

    from callcenter.app import STATE

    acd = phone.acd
    on_shift = acd.roster.on_shift_teams(datetime.now(UTC))
    seat = next(s.id for s in acd.roster.seats if s.team not in on_shift)
    played = Played()
    phone.app[STATE]["router"].register(None, played)
    sp = softphones(seat)
    sp.start()
    await until(lambda: acd.endpoint_online(seat), timeout=15, what=f"{seat} registered")
    sp.dial("*21")
    await until(lambda: "sound:callcenter/agent_off_shift" in played.media, timeout=20,
                what=f"the off-shift notice played to {seat} ({played.media}, {sp.output()[-400:]})")
    assert not any(s.agent.logged_in for s in acd.slots.values() if s.agent.seat_id == seat)
    # a SIP call makes Asterisk look up its own address: the sandbox resolves its own name, so
    # no failed lookups of the host name or A.ROOT-SERVERS.NET are logged
    log = (asterisk.host_dir / "log" / "messages.log").read_text(errors="replace")
    assert "Unable to lookup" not in log and "getaddrinfo" not in log


async def test_the_desktop_offers_the_seats_whose_softphone_is_registered(phone, softphones, logins):
    # an earlier test's softphone may still be registered on its seat: compare with a seat that
    # was not registered before this one started
    quiet = [s for s in ("seat16", "seat17", "seat18", "seat19", "seat20") if not await phone.acd.endpoint_online(s)]
    assert quiet, "some seat has no softphone"
    sp = softphones("seat08")
    sp.start()
    await until(lambda: phone.acd.endpoint_online("seat08"), timeout=15, what="seat08 registered")
    await phone.login("1002", "seat02")
    async with await logins.client("agent:1001") as http:
        async with http.get("/api/seats") as r:
            seats = {s["seat_id"]: s for s in await r.json()}
    assert len(seats) == 20 and seats["seat08"]["registered"] and not seats[quiet[0]]["registered"]
    assert seats["seat02"]["agent_id"] == "1002" and seats["seat08"]["agent_id"] is None
