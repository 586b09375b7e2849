"""Helpers for ACD tests: simulated citizens and agents on the sandbox Asterisk."""

from __future__ import annotations

import uuid

from helpers import until

from callcenter.app import PLUGINS, STATE
from callcenter.infra.ari import TRUNK_FORMATS


class Phone:
    """Places citizen calls and configures simulated agents over ARI."""

    def __init__(self, app):
        self.app = app
        self.ctx = app[STATE]["ctx"]
        self.ari = self.ctx.ari
        self.acd = app[PLUGINS].acd.service.get()

    async def agent_mode(self, seat: str, mode: str = "answer", ring: float = 0.2, talk: float = 3600,
                         tone: str = "") -> None:
        for name, value in ((f"AGENT_MODE_{seat}", mode), (f"AGENT_RING_{seat}", str(ring)),
                            (f"AGENT_TALK_{seat}", str(talk)), (f"AGENT_TONE_{seat}", tone)):
            await self.ari.post("/asterisk/variable", variable=name, value=value)

    async def login(self, agent_id: str, seat: str, *, override: bool = True, mode: str = "answer",
                    talk: float = 3600, ring: float = 0.2):
        await self.agent_mode(seat, mode, ring, talk)
        return await self.acd.login(agent_id, seat, interface=f"Local/{seat}@agent-sim/n",
                                    override_by="pytest" if override else None)

    async def call(self, *, queue: str = "general", skill: str = "", priority: int = 0, dtmf: str = "",
                   wait_before: float = 1, hold_for: float = 120, caller: str = "13800000001",
                   dnis: str = "12345", tone: str = "") -> str:
        """Returns the id of the channel that enters Stasis (the call id)."""
        call_id = f"c-{uuid.uuid4().hex[:10]}"
        variables = {"__IVR_QUEUE": queue, "__IVR_SKILL": skill, "__IVR_PRIORITY": str(priority),
                     "DTMF": dtmf, "WAIT_BEFORE": str(wait_before), "HOLD_FOR": str(hold_for),
                     "TONE": tone}
        await self.ari.post("/channels", endpoint=f"Local/{dnis}@queue-direct/n", context="citizen-sim",
                            extension="s", priority=1, formats=TRUNK_FORMATS, channelId=f"x-{call_id}", otherChannelId=call_id,
                            callerId=caller, body={"variables": variables})
        await until(lambda: call_id in self.acd.calls or self._ended(call_id), what=f"{call_id} in the ACD")
        return call_id

    def _ended(self, call_id: str) -> bool:
        return False

    def agent(self, agent_id: str):
        return self.acd.slots[agent_id].agent

    async def hangup(self, channel: str) -> None:
        await self.ari.safe(self.ari.delete(f"/channels/{channel}"))
