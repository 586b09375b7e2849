"""The RTP receiver on a real loopback UDP socket: foreign, malformed and wrong-type packets are
dropped and counted, never crash it, and the registered stream keeps flowing in order."""

from __future__ import annotations

import socket
import struct

from helpers import until

from callcenter.transcription.model import build_rtp
from callcenter.transcription.rtp import RtpReceiver


def frame(i: int) -> bytes:
    return struct.pack(">160h", *([i] * 160))  # big-endian slin on the wire


async def test_bad_and_foreign_packets_are_dropped_and_counted_and_the_stream_flows():
    rx = RtpReceiver("127.0.0.1", 0)
    await rx.start()
    got: list[bytes] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as asterisk, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        asterisk.bind(("127.0.0.1", 0))
        stranger.bind(("127.0.0.1", 0))
        rx.register(asterisk.getsockname(), "c-1/citizen", lambda pcm, _t: got.append(pcm))
        dest = ("127.0.0.1", rx.port)
        try:
            stranger.sendto(build_rtp(1, 0, 9, frame(1)), dest)  # right format, unknown source
            asterisk.sendto(b"\x80", dest)  # short
            asterisk.sendto(b"\xff" * 40, dest)  # not RTP version 2
            asterisk.sendto(bytes([0x80, 200]) + bytes(30), dest)  # RTCP on the RTP port
            asterisk.sendto(build_rtp(1, 0, 7, frame(1)), dest)
            asterisk.sendto(build_rtp(3, 320, 7, frame(3)), dest)  # ahead of 2
            asterisk.sendto(build_rtp(2, 160, 7, frame(2)), dest)
            asterisk.sendto(build_rtp(4, 480, 7, frame(9), payload_type=0), dest)  # PCMU: not slin
            asterisk.sendto(build_rtp(4, 480, 7, frame(4) + b"\x01"), dest)  # odd byte count
            asterisk.sendto(build_rtp(4, 480, 7, frame(4), payload_type=119), dest)  # type changed mid-stream
            asterisk.sendto(build_rtp(4, 480, 7, frame(4)), dest)
            await until(lambda: len(got) == 4 and rx.packets == 11, what="all packets handled")
        finally:
            rx.stop()
    assert got == [struct.pack("=160h", *([i] * 160)) for i in (1, 2, 3, 4)]
    assert rx.counters.dropped == {"unknown_source": 1, "short": 1, "version": 1, "rtcp": 1,
                                   "payload_type": 2, "odd_payload": 1}


async def test_a_taken_rtp_port_makes_transcription_unavailable_not_the_app_fail(tmp_path):
    from transcription_support import Recorder, model_dir

    from callcenter.transcription.service import Config, TranscriptionService

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", 0))
        port = other.getsockname()[1]
        svc = TranscriptionService(Config(model_dir(), rtp_port=port, spool_dir=tmp_path), None, Recorder())
        await svc.start()
        try:
            assert not svc.available and f"127.0.0.1:{port}" in svc.reason
        finally:
            await svc.stop()
