"""The media tap over ARI: per leg, a snoop channel (`spy: in`, what that party says) in a
small mixing bridge with an `externalMedia` channel (RTP, slin16) aimed at our receiver on
127.0.0.1 (never `localhost`: it may resolve to ::1 and Asterisk then sends nowhere).

Everything the tap creates has an id that says what it is and for which call:
``tap-<leg>-<kind>-<call_id>`` (kind: snoop, rtp, bridge), so `audit()` can find leftovers
after a controller restart from ARI alone. Snoop/ and UnicastRTP/ channels enter the Stasis
app: the Stasis router must skip them (`is_tap_channel`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from callcenter.infra.ari import AriClient, AriError
from callcenter.infra.logging import get_logger
from callcenter.transcription.model import Leg

log = get_logger("transcription.tap")

PREFIX = "tap-"
SNOOP_ARG = "transcription-tap"
Addr = tuple[str, int]
ORDER = {"snoop": 0, "rtp": 1, "bridge": 2}  # teardown order
# called once the externalMedia channel's source address is known, before media can flow
OnStream = Callable[[str, Leg, Addr], Awaitable[None] | None]


def tap_id(leg: Leg, kind: str, call_id: str) -> str:
    return f"{PREFIX}{leg.value}-{kind}-{call_id}"


def parse_tap_id(ident: str) -> tuple[Leg, str, str] | None:
    """(leg, kind, call_id) of a tap object id, None for anything else."""
    if not ident.startswith(PREFIX):
        return None
    parts = ident[len(PREFIX):].split("-", 2)
    if len(parts) != 3 or parts[0] not in ("citizen", "agent") or parts[1] not in ("snoop", "rtp", "bridge"):
        return None
    return Leg(parts[0]), parts[1], parts[2]


def is_tap_channel(channel: dict[str, Any] | None) -> bool:
    """For the Stasis router: this channel belongs to a media tap, not to a call."""
    if not isinstance(channel, dict):
        return False
    name = str(channel.get("name", ""))
    return (name.startswith(("Snoop/", "UnicastRTP/")) or parse_tap_id(str(channel.get("id", ""))) is not None)


@dataclass
class LegTap:
    leg: Leg
    source: Addr | None = None
    ids: list[tuple[str, str]] = field(default_factory=list)  # (kind, id) in creation order


class MediaTap:
    """`start` taps both legs of a call, `stop` removes everything, `audit` sweeps leftovers."""

    def __init__(self, ari: AriClient, rtp_host: str, rtp_port: int, *, rate: int = 16000):
        self.ari = ari
        self.rtp_host, self.rtp_port = rtp_host, rtp_port
        self.format = "slin16" if rate == 16000 else "slin"
        self.taps: dict[str, list[LegTap]] = {}

    async def start(self, call_id: str, caller_channel: str, agent_channel: str,
                    on_stream: OnStream | None = None) -> list[LegTap]:
        """Tap both legs. A leg whose tap fails is cleaned up and skipped (the call is never
        affected); returns the legs that are tapped."""
        legs: list[LegTap] = []
        self.taps[call_id] = legs
        for leg, channel in ((Leg.CITIZEN, caller_channel), (Leg.AGENT, agent_channel)):
            tap = LegTap(leg)
            legs.append(tap)
            try:
                await self._tap_leg(call_id, channel, tap, on_stream)
            except AriError as exc:
                log.warning("tap_failed", call_id=call_id, leg=leg.value, status=exc.status, error=str(exc))
                await self._remove(tap)
                tap.source = None
        return [t for t in legs if t.source is not None]

    async def _tap_leg(self, call_id: str, channel: str, tap: LegTap, on_stream: OnStream | None) -> None:
        leg = tap.leg
        bridge = tap_id(leg, "bridge", call_id)
        await self.ari.post("/bridges", type="mixing", bridgeId=bridge, name=bridge)
        tap.ids.append(("bridge", bridge))
        rtp = tap_id(leg, "rtp", call_id)
        ch = await self.ari.post("/channels/externalMedia", app=self.ari.app, channelId=rtp,
                                 external_host=f"{self.rtp_host}:{self.rtp_port}", format=self.format,
                                 encapsulation="rtp", transport="udp", direction="both")
        tap.ids.append(("channel", rtp))
        tap.source = await self._source(rtp, ch)
        if on_stream is not None:
            res = on_stream(call_id, leg, tap.source)
            if res is not None:
                await res
        snoop = tap_id(leg, "snoop", call_id)
        await self.ari.post(f"/channels/{channel}/snoop", spy="in", whisper="none", app=self.ari.app,
                            appArgs=SNOOP_ARG, snoopId=snoop)
        tap.ids.append(("channel", snoop))
        await self._add(bridge, f"{snoop},{rtp}")

    async def _add(self, bridge: str, channels: str) -> None:
        """A new snoop/externalMedia channel enters the Stasis app just after its creation
        returns: until then addChannel answers 422 'not in Stasis'; retry briefly."""
        for attempt in range(40):
            try:
                await self.ari.post(f"/bridges/{bridge}/addChannel", channel=channels)
                return
            except AriError as exc:
                if exc.status != 422 or attempt == 39:
                    raise
                await asyncio.sleep(0.025)

    async def _source(self, rtp: str, ch: Any) -> Addr:
        vars_ = (ch or {}).get("channelvars") or {}
        addr, port = vars_.get("UNICASTRTP_LOCAL_ADDRESS"), vars_.get("UNICASTRTP_LOCAL_PORT")
        if not port:
            port = (await self.ari.get(f"/channels/{rtp}/variable", variable="UNICASTRTP_LOCAL_PORT"))["value"]
            addr = (await self.ari.get(f"/channels/{rtp}/variable", variable="UNICASTRTP_LOCAL_ADDRESS"))["value"]
        return (str(addr or self.rtp_host), int(port))

    async def stop(self, call_id: str) -> list[LegTap]:
        """Remove the call's taps (idempotent; 'already gone' is fine)."""
        legs = self.taps.pop(call_id, [])
        for tap in legs:
            await self._remove(tap)
        return legs

    async def _remove(self, tap: LegTap) -> None:
        for kind, ident in reversed(tap.ids):
            path = f"/bridges/{ident}" if kind == "bridge" else f"/channels/{ident}"
            try:
                await self.ari.safe(self.ari.delete(path))
            except AriError as exc:
                log.warning("tap_remove_failed", id=ident, status=exc.status)
        tap.ids.clear()

    async def audit(self, keep_call_ids: Iterable[str]) -> list[str]:
        """Delete every tap channel and bridge in Asterisk whose call is not in `keep_call_ids`
        (the calls this process taps now). Returns the removed ids."""
        live = set(keep_call_ids)
        found: list[tuple[int, str, str]] = []
        for kind, items in (("channel", await self.ari.get("/channels")), ("bridge", await self.ari.get("/bridges"))):
            for item in items or []:
                ident = str(item.get("id", ""))
                parsed = parse_tap_id(ident)
                if parsed is not None and parsed[2] not in live:
                    found.append((ORDER[parsed[1]], kind, ident))
        # snoops first: a snoop whose externalMedia partner went first can stay up (Asterisk 22)
        removed: list[str] = []
        for _, kind, ident in sorted(found):
            await self.ari.safe(self.ari.delete(f"/{kind}s/{ident}"))
            removed.append(ident)
        for call_id in [c for c in self.taps if c not in live]:
            self.taps.pop(call_id, None)
        return removed
