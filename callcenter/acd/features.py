"""Feature codes dialled from a seat's softphone: *21 login, *22 logout, *23 pause, *24 unpause.

The seat comes from the calling channel (PJSIP/seat05-0000002a). Login from the phone uses
the agent last seen at that seat (or the seat id) and is for on-shift agents only; an off-shift
login needs a supervisor through the REST API. The agent hears a confirmation and the call ends.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from callcenter.acd.agents import IllegalAgentTransition, NotOnShift
from callcenter.acd.service import AcdError, AcdService
from callcenter.infra.ari import AriEvent
from callcenter.infra.logging import get_logger

log = get_logger("acd.features")
_SEAT = re.compile(r"^PJSIP/(seat\d{2})-")
CONFIRM = {"login": "agent_logged_in", "logout": "agent_logged_out", "pause": "agent_paused",
           "unpause": "agent_available"}
OFF_SHIFT = "agent_off_shift"


class SeatFeatures:
    EVENTS = frozenset({"StasisStart", "PlaybackFinished"})

    def __init__(self, svc: AcdService):
        self.svc = svc
        self._ending: set[str] = set()

    async def on_event(self, event: AriEvent) -> None:
        if event.type == "StasisStart" and event.args[:1] == ["feature"]:
            await self.run(event)
        elif event.type == "PlaybackFinished":
            target = str((event.raw.get("playback") or {}).get("target_uri", ""))
            channel = target.partition(":")[2]
            if channel in self._ending:
                self._ending.discard(channel)
                await self.svc.hangup(channel)

    async def run(self, event: AriEvent) -> None:
        ch = event.channel or {}
        action = event.args[1] if len(event.args) > 1 else ""
        m = _SEAT.match(ch.get("name", ""))
        prompt = "agent_refused"
        if m and action in CONFIRM:
            try:
                await self.apply(m.group(1), action)
                prompt = CONFIRM[action]
            except NotOnShift as exc:  # the phone says why: off shift, a shift lead can authorise
                prompt = OFF_SHIFT
                log.warning("feature_refused", seat=m.group(1), action=action, error=str(exc))
            except (AcdError, IllegalAgentTransition, ValueError) as exc:
                log.warning("feature_refused", seat=m.group(1), action=action, error=str(exc))
        await self.svc.ari.safe(self.svc.ari.post(f"/channels/{ch['id']}/answer"))
        self._ending.add(ch["id"])
        played = await self.svc.ari.safe(self.svc.ari.post(f"/channels/{ch['id']}/play",
                                                           media=f"sound:callcenter/{prompt}"))
        if played is None:
            self._ending.discard(ch["id"])
            await self.svc.hangup(ch["id"])

    async def apply(self, seat: str, action: str) -> None:
        svc = self.svc
        at_seat = [s.agent for s in svc.slots.values() if s.agent.seat_id == seat and s.agent.logged_in]
        if action == "login":
            known = [s.agent for s in svc.slots.values() if s.agent.seat_id == seat]
            last = max(known, key=lambda a: a.since or datetime.min.replace(tzinfo=UTC), default=None)
            await svc.login(last.agent_id if last else seat, seat)  # the LAST agent seen at the seat
            return
        if not at_seat:
            raise AcdError(f"nobody is logged in at {seat}")
        agent_id = at_seat[0].agent_id
        if action == "pause":
            await svc.pause(agent_id, "break")
        else:
            await getattr(svc, action)(agent_id)
