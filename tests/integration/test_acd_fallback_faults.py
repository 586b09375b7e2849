"""The app_queue fallback and the controller share the seats (issue 10, defect 9): a seat the
fallback put a call through to while no controller held the app is never offered a call by
the controller that comes back, until that call ends. A real softphone (baresip) on the seat."""

from __future__ import annotations

import uuid

from acd_support import Phone
from helpers import until
from softphone import Baresip

from callcenter.acd.agents import AgentState
from callcenter.app import PLUGINS
from callcenter.infra.ari import TRUNK_FORMATS
from callcenter.infra.asterisk_conf import seat_password


async def test_a_seat_on_a_fallback_call_is_not_offered_a_call(stack, settings, pool):
    phone = Phone(stack)
    acd, ari = phone.acd, phone.ari
    sp = Baresip("seat06", seat_password(settings.sip_secret, "seat06"), settings.sip_port)
    sp.start()
    try:
        await until(lambda: acd.endpoint_online("seat06"), timeout=15, what="seat06 registered")
        await acd.login("1006", "seat06", override_by="pytest")
        assert phone.agent("1006").state is AgentState.AVAILABLE
        ari.stop_events()  # no controller holds the app: callers go to app_queue
        leg = f"fb-{uuid.uuid4().hex[:8]}"
        await ari.post("/channels", endpoint="Local/s@fallback/n", context="citizen-sim", extension="s",
                       priority=1, formats=TRUNK_FORMATS, channelId=f"x-{leg}", otherChannelId=leg,
                       body={"variables": {"HOLD_FOR": "120"}})

        async def seat_talking() -> bool:
            ep = await ari.get("/endpoints/PJSIP/seat06")
            states = [(await ari.get(f"/channels/{c}"))["state"] for c in ep.get("channel_ids") or []]
            return bool(states) and all(s == "Up" for s in states)

        await until(seat_talking, timeout=30, what=f"the fallback put a call through to seat06 ({sp.output()[-800:]})")
        ari.start_events()  # the controller is back
        await until(lambda: "seat06" in acd.busy_elsewhere, timeout=15, what="seat06 seen busy on takeover")
        # the fallback's caller gets its row when the controller comes back
        await until(lambda: leg in acd.fallback_calls, what="the fallback call followed")
        await acd.journal.flush()
        row = await pool.fetchrow("SELECT line, ended_at FROM calls WHERE call_id=$1", leg)
        assert row is not None and row["line"] == "fallback" and row["ended_at"] is None
        assert await pool.fetchval("SELECT count(*) FROM calls WHERE line = 'fallback'") == 1  # not the seat's
        waiting = await phone.call()
        await acd.assign()
        assert acd.calls[waiting].state == "queued"  # never offered to the seat the fallback uses
        assert phone.agent("1006").state is AgentState.AVAILABLE
        await ari.delete(f"/channels/{leg}")  # the fallback call ends
        audit = stack[PLUGINS].acd.audit.get()

        async def freed() -> bool:
            await audit.run_once()  # the back-stop, if no endpoint event said so first
            return "seat06" not in acd.busy_elsewhere

        await until(freed, timeout=15, what="seat06 free again")
        await until(lambda: leg not in acd.fallback_calls, what="the fallback call's end seen")
        await acd.journal.flush()
        row = await pool.fetchrow("SELECT disposition, ended_at FROM calls WHERE call_id=$1", leg)
        assert row["disposition"] == "fallback" and row["ended_at"] is not None
        await until(lambda: acd.calls[waiting].state == "bridged", timeout=20, what="the waiting call on seat06")
        assert acd.calls[waiting].agent_id == "1006"
        await phone.hangup(waiting)
    finally:
        sp.kill()


async def test_a_softphone_dying_mid_call_puts_the_caller_back_first_in_line(stack, settings, pool):
    """Issue 10, also seen: a softphone killed mid-call left the citizen in dead air until they
    hung up. Now the caller goes back to the front of the line (with an apology) and the agent
    is unreachable."""
    phone = Phone(stack)
    acd, ari = phone.acd, phone.ari
    sp = Baresip("seat07", seat_password(settings.sip_secret, "seat07"), settings.sip_port)
    sp.start()
    try:
        await until(lambda: acd.endpoint_online("seat07"), timeout=15, what="seat07 registered")
        await acd.login("1007", "seat07", override_by="pytest")
        call = await phone.call()
        await until(lambda: acd.calls[call].state == "bridged", timeout=45, what="bridged on the softphone")
        sp.kill()  # no BYE, no unregister
        # the state turns 'queued' at once, the book gets the call when the executor has run the
        # effects before it (ARI requests): on a busy machine (parallel workers) that is later
        await until(lambda: acd.calls[call].state == "queued" and acd.book.ordered_all(), timeout=30,
                    what="caller back in line")
        assert acd.book.ordered_all()[0].call_id == call
        assert await ari.safe(ari.get(f"/channels/{call}")) is not None  # the caller is still there
        await until(lambda: phone.agent("1007").state is AgentState.UNREACHABLE, what="agent unreachable")
        await phone.hangup(call)
        await until(lambda: call not in acd.calls, what="call ended")
        await acd.journal.flush()
        assert await pool.fetchval("SELECT disposition FROM calls WHERE call_id=$1", call) == "answered"
        assert await pool.fetchval("SELECT count(*) FROM call_legs WHERE ended_at IS NULL") == 0
    finally:
        sp.kill()
