"""Issue 25 item 1: a citizen's full number is for the agent bridged to their call (while it
lasts and through that agent's wrap-up), masked for every other agent; on the real stack."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from acd_support import Phone
from helpers import until

pytestmark = pytest.mark.asterisk
CALLER = "13812345678"
MASKED = "138****5678"


async def phones(http, number: str) -> tuple[set[str], str]:
    """The caller_phone values ``GET /api/tickets`` shows, and the one of the ticket document."""
    async with http.get("/api/tickets") as r:
        assert r.status == 200, await r.text()
        listed = {t["caller_phone"] for t in (await r.json())["items"]}
    async with http.get(f"/api/tickets/{number}") as r:
        assert r.status == 200, await r.text()
        return listed, (await r.json())["caller_phone"]


async def test_only_the_agent_on_the_call_reads_the_full_number(stack, logins):
    phone = Phone(stack)
    await phone.login("1001", "seat01")
    call = await phone.call(caller=CALLER)
    await until(lambda: phone.acd.calls[call].state == "bridged", what="bridged")
    async with await logins.client("agent:1001") as mine:
        async with mine.post("/api/tickets", json={"kind": "complaint", "caller_phone": CALLER, "call_ids": [call],
                                                   "description": "商家卖假冒伪劣商品，要求退货"}) as r:
            assert r.status == 201, await r.text()
            created = await r.json()
        assert created["caller_phone"] == CALLER
        number = created["number"]
        assert await phones(mine, number) == ({CALLER}, CALLER)  # on the call
        async with await logins.client("agent:1012") as other, await logins.client("supervisor:li") as hall:
            for http in (other, hall):  # never took the call
                assert await phones(http, number) == ({MASKED}, MASKED)
            await phone.hangup(call)
            await until(lambda: phone.agent("1001").state == "wrap_up", what="wrap-up")
            assert await phones(mine, number) == ({CALLER}, CALLER)  # their own wrap-up
            assert await phones(other, number) == ({MASKED}, MASKED)
            phone.agent("1001").wrap_up_until = datetime.now(UTC)  # wrap-up over at the next tick
            await until(lambda: phone.agent("1001").state == "available", what="wrap-up over")
            assert await phones(mine, number) == ({MASKED}, MASKED)  # the call is over
