"""Helpers for IVR tests on the sandbox Asterisk: citizens dialling in over the real dialplan
(`dial`), a stand-in for the ACD on the "inbound" route that reads the IVR's variables
(`Landing`), and the recorded IVR path of a call (`path_row`, `inputs`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from helpers import until

from callcenter.app import STATE
from callcenter.infra.ari import AriClient, AriError, AriEvent

IVR_VARS = ("IVR_OUTCOME", "IVR_QUEUE", "IVR_SKILL", "IVR_PRIORITY", "IVR_DEPARTMENT", "IVR_LINE",
            "IVR_LANGUAGE", "IVR_REPEAT", "TRANSFER_NUMBER", "IVR_EMERGENCY", "IVR_CALL_ID", "IVR_FLOW",
            "IVR_TICKET")


class Landing:
    """Stands in for the ACD on the "inbound" route: reads the IVR variables, hangs up."""

    def __init__(self, ari: AriClient):
        self.ari = ari
        self.calls: dict[str, dict[str, str]] = {}
        self.entered: dict[str, float] = {}  # seconds from channel creation to queue entry (Asterisk's clock)

    async def on_event(self, event: AriEvent) -> None:
        if event.type != "StasisStart" or event.args[:1] != ["inbound"] or not event.channel_id:
            return
        created = (event.channel or {}).get("creationtime")
        if created and event.raw.get("timestamp"):
            self.entered[event.channel_id] = (datetime.fromisoformat(event.raw["timestamp"])
                                              - datetime.fromisoformat(created)).total_seconds()
        values: dict[str, str] = {}
        for name in IVR_VARS:
            try:
                reply = await self.ari.get(f"/channels/{event.channel_id}/variable", variable=name)
                values[name] = reply.get("value", "")
            except AriError:
                values[name] = ""
        self.calls[event.channel_id] = values
        await self.ari.safe(self.ari.delete(f"/channels/{event.channel_id}"))


async def variables(stack, channel: str) -> dict[str, str]:
    ari = stack[STATE]["ari"]
    return {name: (await ari.get(f"/channels/{channel}/variable", variable=name)).get("value", "")
            for name in IVR_VARS}


async def dial(stack, dnis: str, *, caller: str | None = None, dtmf: str = "", wait_before: float = 1,
               hold_for: float = 60) -> str:
    """Originate a citizen dialling `dnis`; returns the id of the channel running the IVR."""
    ari = stack[STATE]["ari"]
    citizen, line = f"c-{uuid.uuid4().hex[:12]}", f"l-{uuid.uuid4().hex[:12]}"
    await ari.post("/channels", endpoint=f"Local/{dnis}@from-trunk", context="citizen-sim", extension="s",
                   priority=1, channelId=citizen, otherChannelId=line, formats="alaw",
                   callerId=caller or f"139{uuid.uuid4().int % 10**8:08d}",
                   body={"variables": {"WAIT_BEFORE": str(wait_before), "DTMF": dtmf,
                                       "HOLD_FOR": str(hold_for)}})
    return line


async def path_row(pool, call_id: str, timeout: float = 40):
    return await until(lambda: pool.fetchrow("SELECT * FROM ivr_paths WHERE call_id=$1", call_id),
                       timeout=timeout, what=f"ivr_paths row for {call_id}")


def inputs(row) -> list[tuple[str, str | None]]:
    return [(step["node"], step["input"]) for step in row["path"]]
