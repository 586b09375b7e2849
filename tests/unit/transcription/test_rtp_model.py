from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.transcription.model import (
    BadPacket,
    Reorderer,
    be16_to_native,
    build_rtp,
    parse_rtp,
)


def test_plain_packet_parses():
    pkt = parse_rtp(build_rtp(7, 320, 0xDEADBEEF, b"\x00\x01\x00\x02", marker=True))
    assert (pkt.payload_type, pkt.marker, pkt.seq, pkt.timestamp, pkt.ssrc) == (118, True, 7, 320, 0xDEADBEEF)
    assert pkt.payload == b"\x00\x01\x00\x02"


def test_csrc_extension_and_padding_are_skipped():
    csrc = struct.pack("!II", 1, 2)
    ext = struct.pack("!HH", 0xBEDE, 1) + b"\xaa\xbb\xcc\xdd"
    payload = b"\x01\x02\x03\x04"
    pad = b"\x00\x00\x03"
    head = bytes([0x80 | 0x20 | 0x10 | 2, 118]) + struct.pack("!HII", 5, 0, 9)
    pkt = parse_rtp(head + csrc + ext + payload + pad)
    assert pkt.payload == payload


@pytest.mark.parametrize("data, reason", [
    (b"", "short"),
    (b"\x80\x76\x00", "short"),
    (bytes([0x40, 118]) + bytes(10), "version"),  # RTP version 1
    (bytes([0x80, 200]) + bytes(10), "rtcp"),  # an RTCP sender report
    (bytes([0x82, 118]) + bytes(10) + bytes(4), "short"),  # 2 CSRCs announced, 1 present
    (bytes([0x90, 118]) + bytes(10) + b"\x00\x00\x00\x05", "short"),  # extension longer than packet
    (bytes([0xA0, 118]) + bytes(10) + b"\x01\x02\x00", "padding"),  # padding count 0
    (bytes([0xA0, 118]) + bytes(10) + b"\x01\x02\x09", "padding"),  # padding longer than payload
])
def test_malformed_packets_raise_bad_packet_with_a_reason(data, reason):
    with pytest.raises(BadPacket) as exc:
        parse_rtp(data)
    assert exc.value.reason == reason


@settings(deadline=None)  # the machine is shared: no per-example deadline
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_bad_packet(data):
    try:
        pkt = parse_rtp(data)
    except BadPacket:
        return
    assert len(pkt.payload) <= len(data) - 12


def test_slin_is_big_endian_on_the_wire():
    assert be16_to_native(struct.pack(">hh", 1000, -2)) == struct.pack("=hh", 1000, -2)
    with pytest.raises(BadPacket):
        be16_to_native(b"\x00\x01\x02")


def frames(n: int) -> list[bytes]:
    return [bytes([i % 256]) * 4 for i in range(n)]


def test_in_order_packets_pass_straight_through():
    r = Reorderer()
    out = []
    for seq, f in enumerate(frames(10), start=65530):  # across the 16-bit wrap
        out += r.push(seq % 65536, f)
    assert out == frames(10)
    assert r.stats.lost == 0


def test_swapped_packets_are_put_back_in_order():
    r = Reorderer()
    f = frames(4)
    out = r.push(0, f[0]) + r.push(2, f[2]) + r.push(1, f[1]) + r.push(3, f[3])
    assert out == f


def test_a_lost_packet_is_counted_and_filled_with_silence_of_its_length():
    r = Reorderer(depth=3)
    f = frames(8)
    out = []
    for seq in (0, 1, 3, 4, 5, 6, 7):
        out += r.push(seq, f[seq])
    assert r.stats.lost == 1
    assert out == [f[0], f[1], bytes(4), *f[3:]]


def test_duplicates_and_late_packets_are_dropped_and_counted():
    r = Reorderer(depth=2)
    f = frames(6)
    out = []
    for seq in (0, 1, 1, 3, 3, 4, 5, 2):  # 1 again once released, 3 twice while held, 2 too late
        out += r.push(seq, f[seq])
    assert r.stats.duplicate == 1 and r.stats.late == 2 and r.stats.lost == 1
    assert len(out) == 6


def test_a_big_jump_resyncs_instead_of_counting_thousands_lost():
    r = Reorderer()
    r.push(10, b"ab")
    assert r.push(20000, b"cd") == [b"cd"]
    assert r.stats.resyncs == 1 and r.stats.lost == 0


@settings(deadline=None)  # the machine is shared: no per-example deadline
@given(st.permutations(list(range(30))))
def test_any_local_shuffle_within_depth_loses_nothing_when_flushed(order):
    r = Reorderer(depth=64)
    f = frames(30)
    out = []
    for seq in order:
        out += r.push(seq, f[seq])
    out += r.flush()
    if order[0] == 0:
        assert out == f and r.stats.lost == 0
    assert len(out) == 30 - r.stats.late + r.stats.lost


@settings(deadline=None)  # the machine is shared: no per-example deadline
@given(st.lists(st.tuples(st.integers(0, 65535), st.binary(min_size=2, max_size=8)), max_size=200))
def test_memory_stays_bounded_whatever_arrives(packets):
    r = Reorderer(depth=4)
    for seq, payload in packets:
        r.push(seq, payload)
        assert len(r.pending) <= 4
