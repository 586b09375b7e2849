"""The WebSocket session watcher closes by default: a socket whose session cannot be checked
(Redis or PostgreSQL failing) is closed, not left open past a logout or a disabled account."""

from __future__ import annotations

import asyncio

from callcenter.accounts.guard import _end_with_session


class Transport:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Request:
    path = "/ws/board"

    def __init__(self) -> None:
        self.transport = Transport()


class Sessions:
    """The accounts service's `current`: a session for the first `alive` checks, then `then`."""

    ws_recheck_s = 0.0

    def __init__(self, alive: int, then: Exception | None) -> None:
        self.alive, self.then, self.checks = alive, then, 0

    async def current(self, token: str):
        self.checks += 1
        if self.checks <= self.alive:
            return ("user", "session")
        if self.then is not None:
            raise self.then
        return None


async def watch(sessions: Sessions) -> Request:
    request = Request()
    await asyncio.wait_for(_end_with_session(sessions, "t", request), 30)  # type: ignore[arg-type]
    return request


async def test_a_failed_session_check_closes_the_socket() -> None:
    for error in (ConnectionError("redis down"), OSError("pg gone"), RuntimeError("anything")):
        sessions = Sessions(alive=2, then=error)
        request = await watch(sessions)
        assert request.transport.closed and sessions.checks == 3


async def test_an_ended_session_still_closes_the_socket() -> None:
    request = await watch(Sessions(alive=1, then=None))
    assert request.transport.closed
