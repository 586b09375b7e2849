"""The ACD's resync after its events stopped (an Asterisk restart, a lost WebSocket) while
the journal lags behind (issue 10)."""

from __future__ import annotations

import asyncio

from acd_support import Phone
from helpers import until

from callcenter.acd.recovery import resync
from callcenter.acd.stasis import AcdStasis


async def test_resync_never_relabels_a_call_that_just_ended(stack, pool):
    """Defect 8: the resync read the row before the journal's `answered` write landed and wrote
    its own verdict last: a just-ended answered call became lost (now it would be abandoned)."""
    phone = Phone(stack)
    svc, ari = phone.acd, phone.ari
    call = await phone.call()
    await svc.journal.flush()
    gate = asyncio.Event()  # the journal lags: everything from here waits behind this
    svc.journal.write("gate", gate.wait)
    await phone.login("1001", "seat01")
    await until(lambda: svc.calls[call].state == "bridged", what="bridged")
    await until(lambda: _talking(ari, f"{call}-b"), what="both legs in the bridge")
    ari.stop_events()  # the events stop (Asterisk restarting, say); the caller hangs up
    await ari.delete(f"/channels/{call}")
    await until(lambda: _gone(ari, call), what="caller gone")
    await resync(svc, AcdStasis(svc))
    assert call not in svc.calls
    gate.set()
    await svc.journal.flush()
    row = await pool.fetchrow("SELECT disposition, answered_at, ended_at FROM calls WHERE call_id=$1", call)
    assert row["disposition"] == "answered" and row["answered_at"] is not None and row["ended_at"] is not None
    ended = await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", f"calls/{call}/ended")
    assert ended == 1
    open_legs = await pool.fetchval("SELECT count(*) FROM call_legs WHERE call_id=$1 AND ended_at IS NULL", call)
    assert open_legs == 0
    ari.start_events()


async def _gone(ari, channel: str) -> bool:
    return await ari.safe(ari.get(f"/channels/{channel}")) is None


async def _talking(ari, bridge: str) -> bool:
    b = await ari.safe(ari.get(f"/bridges/{bridge}"))
    return bool(b) and len(b.get("channels") or []) == 2
