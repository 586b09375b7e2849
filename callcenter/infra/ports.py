"""Free loopback ports for the servers a test run or a benchmark starts on this machine.

A port from ``bind(0)`` lies inside the kernel's ephemeral range (32768-60999 here), which every
outgoing connection of every process draws from: between picking the port and binding it for
good (a whole test session for the FastAGI port), a client socket can take it, and the server
then fails with "address already in use" (seen mid-run: every later test lost its stack). So
ports are picked from a band just below the ephemeral range, which no outgoing connection uses.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

BAND_WIDTH = 3500  # ports below the ephemeral range to pick from


def ephemeral_low(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(kind: int = socket.SOCK_STREAM, *, rng: random.Random | None = None) -> int:
    """A port on 127.0.0.1 free for `kind` now, outside the ephemeral range when it can be."""
    low = ephemeral_low()
    rng = rng or random.SystemRandom()
    if low - BAND_WIDTH >= 1024:
        for _ in range(200):
            port = rng.randrange(low - BAND_WIDTH, low)
            with socket.socket(socket.AF_INET, kind) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket(socket.AF_INET, kind) as s:  # a machine with no room below its range
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
