"""The door of the FastAGI server: what a connection must show before a session runs.

Only Asterisk may speak FastAGI. The dialplan passes a shared secret as the second AGI argument
(``AGI(${AGI_URL}/ivr,${EXTEN},${AGI_KEY})``; ``AGI_KEY`` is `Settings.agi_secret`, rendered into
``extensions.conf``), and nothing is answered (not even ``ANSWER``) until the environment carried
it. The environment is read on the event loop, so a connection that says nothing holds no worker
thread and no session; it is dropped after ``header_timeout`` seconds. While their environment is
still coming, connections wait in :class:`Pending`: at most ``per_source`` from one address and
``limit`` in all, the oldest dropped to make room (Asterisk sends its environment within
milliseconds of connecting, so a fresh connection always gets its turn; a client that only holds
connections open loses them).
"""

from __future__ import annotations

import asyncio
import hmac
import io
import socket
from collections.abc import Iterable
from typing import Any

SECRET_ARG = "agi_arg_2"
MAX_HEADER_BYTES = 64 * 1024
MAX_ENV_LINES = 200


def parse_env(lines: Iterable[str]) -> dict[str, str]:
    """``agi_key: value`` lines (the blank line that ends them already removed)."""
    env: dict[str, str] = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip():
            env[key.strip()] = value.strip()
    return env


def split_header(data: bytes) -> tuple[dict[str, str], bytes] | None:
    """The AGI environment at the start of ``data`` and the bytes after it; None while the blank
    line that ends it has not arrived (at most ``MAX_ENV_LINES`` lines are read, as pyst2 does)."""
    lines: list[str] = []
    start = 0
    while len(lines) < MAX_ENV_LINES:
        end = data.find(b"\n", start)
        if end < 0:
            return None
        line = data[start:end].decode("utf-8", "replace").strip()
        start = end + 1
        if not line:
            break
        lines.append(line)
    return parse_env(lines), data[start:]


async def read_header(conn: socket.socket) -> tuple[dict[str, str], bytes]:
    """Read the environment from a non-blocking socket (EOF or an oversized header: what came)."""
    loop = asyncio.get_running_loop()
    data = b""
    while (found := split_header(data)) is None:
        chunk = await loop.sock_recv(conn, 4096) if len(data) < MAX_HEADER_BYTES else b""
        if not chunk:
            return split_header(data + b"\n\n") or ({}, b"")
        data += chunk
    return found


def authentic(env: dict[str, str], secret: str) -> bool:
    """The environment carries the dialplan's secret (compared in constant time); an empty secret
    admits nobody."""
    given = env.get(SECRET_ARG, "")
    return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())


class Pending:
    """Connections whose environment is still coming, oldest first, by source address."""

    def __init__(self, per_source: int, limit: int) -> None:
        self.per_source, self.limit = per_source, limit
        self._waiting: dict[asyncio.Task, str] = {}
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def admit(self, task: asyncio.Task, source: str) -> None:
        """Let ``task`` wait for its environment; cancel the oldest waiting ones to make room."""
        mine = [t for t, s in self._waiting.items() if s == source]
        while len(mine) >= self.per_source:
            self._drop(mine.pop(0))
        while len(self._waiting) >= self.limit:
            self._drop(next(iter(self._waiting)))
        self._waiting[task] = source

    def done(self, task: asyncio.Task) -> None:
        self._waiting.pop(task, None)

    def cancel_all(self) -> list[asyncio.Task]:
        tasks = list(self._waiting)
        self._waiting.clear()
        for task in tasks:
            task.cancel()
        return tasks

    def _drop(self, task: asyncio.Task) -> None:
        self._waiting.pop(task, None)
        self.dropped += 1
        task.cancel()


class Prefixed:
    """A text file that first gives back the bytes read past the environment (say an inline
    ``HANGUP`` that followed it at once), then reads on from ``file``."""

    def __init__(self, rest: bytes, file: Any) -> None:
        self._rest = io.StringIO(rest.decode("utf-8", "replace"))
        self._file = file

    def readline(self, limit: int = -1) -> str:
        return self._rest.readline(limit) or self._file.readline(limit)

    def close(self) -> None:
        self._file.close()
