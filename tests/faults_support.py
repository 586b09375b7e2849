"""Private servers for fault tests: a Redis of the test's own on a free port, which the test
may kill and start again. Never the machine's shared servers."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

from helpers import free_port


class PrivateRedis:
    """A throw-away redis-server (no persistence: a restart comes back empty, as after a crash
    of a cache-only Redis) on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="faults-redis-")
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()
        self.restarts += 1

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
