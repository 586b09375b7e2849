"""Test and benchmark servers get ports below the kernel's ephemeral range, where no outgoing
connection can take them between the pick and the bind."""

from __future__ import annotations

import random
import socket
from pathlib import Path

from callcenter.infra import ports


def test_ports_come_from_below_the_ephemeral_range_and_are_free(tmp_path: Path, monkeypatch) -> None:
    low = ports.ephemeral_low()
    rng = random.Random(7)
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        for _ in range(20):
            port = ports.free_port(kind, rng=rng)
            assert low - ports.BAND_WIDTH <= port < low
            with socket.socket(socket.AF_INET, kind) as s:
                s.bind(("127.0.0.1", port))  # free for that kind at the time it was given


def test_a_taken_port_is_skipped(monkeypatch) -> None:
    low = ports.ephemeral_low()
    with socket.socket() as held:
        held.bind(("127.0.0.1", low - 1))
        picks = iter([low - 1, low - 2])
        monkeypatch.setattr(random.SystemRandom, "randrange", lambda self, a, b: next(picks))
        assert ports.free_port() == low - 2


def test_the_range_is_read_from_the_kernel_with_a_fallback(tmp_path: Path) -> None:
    f = tmp_path / "range"
    f.write_text("40000\t60999\n")
    assert ports.ephemeral_low(f) == 40000
    assert ports.ephemeral_low(tmp_path / "missing") == 32768
