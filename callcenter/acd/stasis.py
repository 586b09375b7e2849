"""ARI events in for the ACD, translated into the call aggregate's events (`callcenter.acd.calls`)
and carried out by the `Executor`: callers entering the queue, agent and citizen legs answering,
hang-ups at any moment, DTMF for the callback offer, playbacks, SIP reachability of seats.
No decision about a call is taken here."""

from __future__ import annotations

import asyncio

from callcenter.acd.calls import Arrival, Call
from callcenter.acd.effects import LegRole
from callcenter.acd.service import AcdService
from callcenter.infra.ari import AriEvent
from callcenter.infra.logging import get_logger
from callcenter.infra.phones import canonical_caller

log = get_logger("acd.stasis")

IVR_VARS = ("IVR_QUEUE", "IVR_SKILL", "IVR_PRIORITY", "IVR_DEPARTMENT", "IVR_LINE", "IVR_LANGUAGE", "DNIS")


def _int(value: str | None, default: int = 0) -> int:
    try:
        return max(0, min(9, int(value or default)))
    except ValueError:
        return default


class AcdStasis:
    # ChannelDestroyed: an agent leg that never answered never enters Stasis, so no StasisEnd
    EVENTS = frozenset({"StasisStart", "StasisEnd", "ChannelDestroyed", "ChannelDtmfReceived",
                        "PlaybackFinished", "EndpointStateChange"})

    def __init__(self, svc: AcdService):
        self.svc = svc

    async def on_event(self, event: AriEvent) -> None:
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            await handler(event)

    async def _run(self, call: Call, step) -> None:
        await self.svc.executor.run(call, step)

    # ------------------------------------------------------------ StasisStart
    async def _on_StasisStart(self, event: AriEvent) -> None:
        kind = event.args[0] if event.args else ""
        if kind == "inbound":
            await self.inbound(event)
        elif kind in ("agent", "cbagent", "citizen"):
            leg = event.channel_id or ""
            call = self.svc.calls.get(event.args[1] if len(event.args) > 1 else "")
            if call is None:
                log.info("stale_leg", leg=leg, kind=kind)
                await self.svc.hangup(leg)
            elif kind == "citizen":
                await self._run(call, call.citizen_answered(leg, self.svc.clock()))
            else:
                await self._run(call, call.agent_answered(leg, self.svc.clock()))

    async def _vars(self, event: AriEvent) -> dict[str, str]:
        """The IVR's choices: from the snapshot's channelvars (ari.conf), else one GET each."""
        carried = (event.channel or {}).get("channelvars")
        if isinstance(carried, dict):
            return {n: str(carried.get(n) or "") for n in IVR_VARS}
        channel_id = event.channel_id or ""

        async def one(name: str) -> tuple[str, str]:
            res = await self.svc.ari.safe(self.svc.ari.get(f"/channels/{channel_id}/variable", variable=name))
            return name, (res or {}).get("value", "") if isinstance(res, dict) else ""

        return dict(await asyncio.gather(*(one(n) for n in IVR_VARS)))

    async def inbound(self, event: AriEvent) -> None:
        svc = self.svc
        ch = event.channel or {}
        v = await self._vars(event)
        queue = v["IVR_QUEUE"] if svc.roster.queue(v["IVR_QUEUE"] or "") else "general"
        qdef = svc.roster.queue(queue)
        arrival = Arrival(ch["id"], canonical_caller((ch.get("caller") or {}).get("number")), queue,
                          v["IVR_SKILL"] or (qdef.skill if qdef else "general"), _int(v["IVR_PRIORITY"]),
                          dnis=v["DNIS"] or (ch.get("dialplan") or {}).get("exten", ""),
                          line=v["IVR_LINE"] or None, vars={k: val for k, val in v.items() if val},
                          up=ch.get("state") == "Up")
        call, step = Call.arrive(arrival, svc.book.next_seq(), svc.clock())
        svc.calls[call.call_id] = call
        await self._run(call, step)
        await self._run(call, call.first_round_done())

    # -------------------------------------------------------------- hang-ups
    async def _on_StasisEnd(self, event: AriEvent) -> None:
        # a channel in the app is unsubscribed at StasisEnd: its ChannelDestroyed never comes
        await self._on_ChannelDestroyed(event)

    async def _on_ChannelDestroyed(self, event: AriEvent) -> None:
        svc = self.svc
        channel = event.channel_id or ""
        owner = svc.legs.get(channel)
        if owner is None:
            if channel in svc.fallback_calls:  # a caller the app_queue fallback took has hung up
                svc.end_fallback_call(channel)
            return
        call_id, role = owner
        call = svc.calls.get(call_id)
        if call is None:
            svc.legs.pop(channel, None)
            return
        cause = str(event.raw.get("cause_txt") or event.raw.get("cause") or "")
        now = svc.clock()
        if role == LegRole.CALLER:
            await self._run(call, call.caller_gone(now))
        elif role == LegRole.AGENT:
            await self._run(call, call.agent_leg_gone(channel, cause, now, self._rating_team(call),
                                                      svc.callback_policy))
        else:
            q850 = event.raw.get("cause")  # the Q.850 code (17 busy): the requester of a callback needs it
            await self._run(call, call.citizen_leg_gone(channel, cause, now, svc.callback_policy,
                                                        q850 if isinstance(q850, int) else None))

    def _rating_team(self, call: Call) -> str | None:
        """The agent's team when the post-call rating is on (the call decides if it applies)."""
        if not self.svc.rating_on():
            return None
        slot = self.svc.slots.get(call.agent_id or "")
        return slot.agent.team if slot is not None else ""

    # --------------------------------------------------- DTMF, playbacks, SIP
    async def _on_ChannelDtmfReceived(self, event: AriEvent) -> None:
        call = self.svc.calls.get(event.channel_id or "")
        if call is not None:
            await self._run(call, call.dtmf(str(event.raw.get("digit", "")), self.svc.clock()))

    async def _on_PlaybackFinished(self, event: AriEvent) -> None:
        pb = event.raw.get("playback") or {}
        target = str(pb.get("target_uri", ""))
        if not target.startswith("channel:"):
            return
        call = self.svc.calls.get(target[len("channel:"):])
        if call is not None:
            await self._run(call, call.playback_finished(str(pb.get("id") or "")))

    async def _on_EndpointStateChange(self, event: AriEvent) -> None:
        ep = event.raw.get("endpoint") or {}
        if ep.get("technology") == "PJSIP" and isinstance(ep.get("resource"), str):
            # the desk phone or the browser phone of a seat (`SeatPhones`): the seat is reachable
            # while either is registered
            phones = self.svc.phones
            seat = phones.update(ep["resource"], ep.get("state") == "online", list(ep.get("channel_ids") or []))
            if not self.svc.roster.has_seat(seat):  # a supervisor's browser phone, the trunk: no seat's
                return
            freed = self.svc.seat_channels(seat, phones.seat_channels(seat))
            await self.svc.set_reachable(seat, phones.reachable(seat))
            if freed:
                await self.svc.assign()
