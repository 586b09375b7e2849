"""What a caller in the ACD hears: music on hold, prompts (position, expected wait), and music
when an agent's phone rings for long."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from callcenter.acd.agents import AgentState

if TYPE_CHECKING:
    from callcenter.acd.service import CallSession
    from callcenter.infra.ari import AriClient


class CallerMedia:
    """Mixed into `AcdService`."""

    ari: AriClient
    calls: dict
    slots: dict
    timers: dict[str, asyncio.TimerHandle]
    handle_times: deque[float]
    ringback_after_s: float
    in_order: Callable[[str, Callable[[], Awaitable[None]], str], None] | None
    clock: Callable[[], datetime]
    cancel_timer: Callable[[str], None]

    def music_if_still_ringing(self, session: CallSession, leg: str) -> None:
        """A caller routed at once hears nothing while the agent's phone rings: music on hold
        if the agent has not answered within `ringback_after_s` (agents who answer at once cost
        no extra ARI requests)."""
        async def check() -> None:
            if self.calls.get(session.call_id) is session and session.state == "offering" \
                    and session.agent_leg == leg:
                await self.moh(session, True)

        def due() -> None:
            self.timers.pop(_ringback(leg), None)
            if self.in_order is not None:
                self.in_order(session.call_id, check, "ringback")

        self.timers[_ringback(leg)] = asyncio.get_running_loop().call_later(self.ringback_after_s, due)

    def cancel_ringback(self, leg: str) -> None:
        """The agent answered: no music needed."""
        self.cancel_timer(_ringback(leg))

    def recent_aht_s(self) -> float | None:
        return sum(self.handle_times) / len(self.handle_times) if self.handle_times else None

    def agents_serving(self, skill: str) -> int:
        """Logged-in agents with the skill who are taking calls (not paused, reachable)."""
        working = {AgentState.AVAILABLE, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP}
        return sum(1 for s in self.slots.values() if skill in s.agent.skills and s.agent.state in working)

    async def play(self, session: CallSession, *prompts: str) -> None:
        """Play prompts, one after the other, to a waiting caller (music on hold pauses, resumes after)."""
        pb_id = f"{session.call_id}-p{int(self.clock().timestamp() * 1000)}"
        await self.moh(session, False)
        media = ",".join(f"sound:callcenter/{p}" for p in prompts)
        res = await self.ari.safe(self.ari.post(f"/channels/{session.call_id}/play", media=media, playbackId=pb_id))
        if res is not None:
            session.playback_id = pb_id

    async def moh(self, session: CallSession, on: bool) -> None:
        if on and not session.moh:
            session.moh = True
            await self.ari.safe(self.ari.post(f"/channels/{session.call_id}/moh", mohClass="default"))
        elif not on and session.moh:
            session.moh = False
            await self.ari.safe(self.ari.delete(f"/channels/{session.call_id}/moh"))


def _ringback(leg: str) -> str:
    return f"ringback {leg}"
