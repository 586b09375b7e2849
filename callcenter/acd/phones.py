"""A seat's two phones: the desk phone (`PJSIP/seat01`) and the browser phone in the agent desk
(`PJSIP/seat01-web`, callcenter/infra/webrtc_conf.py). One seat, either phone: the seat can ring
while one of them is registered, and the ACD rings the browser when it is registered (the desk
page is then the agent's workplace), else the desk phone. Endpoint events of either phone update
the seat's reachability the same way, and the channels on both count for "busy elsewhere".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callcenter.infra.ari import AriClient, AriError
from callcenter.infra.webrtc_conf import seat_of_endpoint, web_endpoint


@dataclass
class SeatPhones:
    online: dict[str, set[bool]] = field(default_factory=dict)  # seat -> {False: desk, True: browser}
    channels: dict[tuple[str, bool], list[str]] = field(default_factory=dict)

    def update(self, resource: str, online: bool, channels: list[str]) -> str:
        """An endpoint snapshot (ARI): returns the seat it belongs to."""
        seat, web = seat_of_endpoint(resource)
        phones = self.online.setdefault(seat, set())
        if online:
            phones.add(web)
        else:
            phones.discard(web)
        self.channels[(seat, web)] = list(channels)
        return seat

    def reachable(self, seat: str) -> bool:
        return bool(self.online.get(seat))

    def browser(self, seat: str) -> bool:
        return True in self.online.get(seat, set())

    def seat_channels(self, seat: str) -> list[str]:
        return [*self.channels.get((seat, False), []), *self.channels.get((seat, True), [])]

    def dial(self, interface: str, seat: str) -> str:
        """What to originate to for a seat whose roster interface is `interface`."""
        if interface == f"PJSIP/{seat}" and self.browser(seat):
            return f"PJSIP/{web_endpoint(seat)}"
        return interface

    async def refresh(self, ari: AriClient, seat: str) -> list[str]:
        """Ask Asterisk for both phones of a seat; returns the channels on them."""
        for resource in (seat, web_endpoint(seat)):
            try:
                ep = await ari.get(f"/endpoints/PJSIP/{resource}")
            except AriError:
                ep = {}
            self.update(resource, ep.get("state") == "online", list(ep.get("channel_ids") or []))
        return self.seat_channels(seat)
