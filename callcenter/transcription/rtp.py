"""The RTP receiver: one asyncio UDP endpoint for every tapped leg.

Asterisk's `externalMedia` channels send from their own local port; the tap registers that
source address for the leg before any media flows. A datagram from an unregistered source,
a malformed or short packet, RTCP, or a payload type other than the one the stream locked
onto is dropped and counted (`counters.dropped[reason]`); nothing here raises into asyncio.
Per stream: the first SSRC is kept (a new SSRC restarts the sequence tracking, counted),
packets are reordered by sequence number with loss accounting, the big-endian slin payload
is turned into native samples and handed to the stream's sink with its arrival time. The
work per packet is a header parse and a byte swap (microseconds): decoding happens elsewhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from callcenter.infra.logging import get_logger
from callcenter.transcription.model import BadPacket, Counters, Reorderer, be16_to_native, parse_rtp

log = get_logger("transcription.rtp")

Addr = tuple[str, int]
Sink = Callable[[bytes, float], None]


@dataclass
class Stream:
    key: str
    sink: Sink
    ssrc: int | None = None
    payload_type: int | None = None
    reorder: Reorderer = field(default_factory=Reorderer)
    ssrc_changes: int = 0


class RtpReceiver(asyncio.DatagramProtocol):
    def __init__(self, host: str = "127.0.0.1", port: int = 0, counters: Counters | None = None):
        self.host, self.port = host, port
        self.counters = counters or Counters()
        self.streams: dict[Addr, Stream] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.packets = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(self.host, self.port))
        self.transport = transport  # type: ignore[assignment]
        self.port = transport.get_extra_info("sockname")[1]

    def stop(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def register(self, addr: Addr, key: str, sink: Sink) -> None:
        self.streams[addr] = Stream(key, sink)

    def unregister(self, addr: Addr) -> None:
        """Stop listening to `addr`; what the reorderer still holds goes to the sink first."""
        stream = self.streams.pop(addr, None)
        if stream is not None:
            now = time.monotonic()
            for payload in stream.reorder.flush():
                self._deliver(stream, payload, now)
            self.counters.packets_lost += stream.reorder.stats.lost
            self.counters.packets_late += stream.reorder.stats.late

    # ------------------------------------------------------------------- asyncio
    def datagram_received(self, data: bytes, addr: tuple) -> None:  # type: ignore[override]
        self.packets += 1
        try:
            stream = self.streams.get((addr[0], addr[1]))
            if stream is None:
                self.counters.drop("unknown_source")
                return
            try:
                pkt = parse_rtp(data)
                if not 96 <= pkt.payload_type <= 127 and pkt.payload_type not in (10, 11):
                    raise BadPacket("payload_type")
                if stream.payload_type is None:
                    stream.payload_type = pkt.payload_type
                elif pkt.payload_type != stream.payload_type:
                    raise BadPacket("payload_type")
                if len(pkt.payload) % 2:
                    raise BadPacket("odd_payload")
            except BadPacket as bad:
                self.counters.drop(bad.reason)
                return
            if stream.ssrc != pkt.ssrc:
                if stream.ssrc is not None:
                    stream.ssrc_changes += 1
                    now = time.monotonic()
                    for payload in stream.reorder.flush():
                        self._deliver(stream, payload, now)
                    stream.reorder = Reorderer()
                stream.ssrc = pkt.ssrc
            now = time.monotonic()
            for payload in stream.reorder.push(pkt.seq, pkt.payload):
                self._deliver(stream, payload, now)
        except Exception:  # a receiver must survive anything a datagram can do
            self.counters.drop("error")
            log.exception("rtp_packet_failed")

    def _deliver(self, stream: Stream, payload: bytes, now: float) -> None:
        if payload:
            stream.sink(be16_to_native(payload), now)

    def error_received(self, exc: Exception) -> None:
        log.warning("rtp_socket_error", error=str(exc))

    def stats(self) -> dict:
        lost = sum(s.reorder.stats.lost for s in self.streams.values())
        return {"packets": self.packets, "dropped": dict(self.counters.dropped), "streams": len(self.streams),
                "lost": self.counters.packets_lost + lost, "late": self.counters.packets_late}
