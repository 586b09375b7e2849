"""FastAGI server of the IVR (asyncio); each session's flow runs in a worker thread via pyst2.

Dialplan (``asterisk_conf/extensions.conf``, context ``from-trunk``)::

    AGI(agi://127.0.0.1:4573/ivr,${EXTEN},${AGI_KEY})   ; /<flow> instead of /ivr forces that flow
    ; IVR_OUTCOME = transfer -> Dial(TRANSFER_NUMBER); hangup | ended -> Hangup()
    Stasis(callcenter,inbound)                ; anything else, an empty IVR_OUTCOME included

If the AGI server is down, busy (``agi_max_sessions`` reached) or fails mid-call, ``AGI()``
returns with ``IVR_OUTCOME`` empty and the call reaches Stasis: the caller gets an agent,
not silence.

Channel variables set before the session returns. ``IVR_OUTCOME`` is set last, so a
session cut short never leaves half a decision behind; the ACD reads them on StasisStart
(``GET /channels/{id}/variable?variable=...``):

=================  ==========================================================================
IVR_OUTCOME        ``queue`` | ``transfer`` | ``hangup``; ``ended`` = the caller hung up (the
                   channel is gone, so it is rarely seen); empty = no IVR decision -> agent
IVR_QUEUE          ACD queue (queue outcome), else ""
IVR_SKILL          skill wanted (queue outcome), else ""
IVR_PRIORITY       0..10; a repeat caller (same number within 24 h) gets at least 5
IVR_DEPARTMENT     department picked in the menu or owning the merged line, else ""
IVR_LINE           dialled line, normalised: ``12345`` or a merged line such as ``12315``
IVR_LANGUAGE       ``zh`` (Mandarin) or ``dialect``
IVR_REPEAT         ``1`` if the same number called within 24 h, else ``0``
TRANSFER_NUMBER    number the dialplan dials (transfer outcome), else ""
IVR_EMERGENCY      ``1`` for a one-key transfer to 110/119/120/122, else ``0``
IVR_CALL_ID        the channel's uniqueid (``agi_uniqueid``); also ``ivr_paths.call_id``
IVR_FLOW           flow that ran (``main``, ``merged_line``, ``business_line``)
IVR_TICKET         ticket number keyed in for a progress enquiry, else ""
=================  ==========================================================================

Lifecycle: the asyncio side accepts the socket and reads the AGI environment on the loop
(``header_timeout``; at most a few waiting connections per source address, the oldest dropped:
``fastagi_gate.py``); an environment without the dialplan's secret (``AGI_KEY``, the second
argument) is closed without a word and never becomes a call; calls beyond ``max_sessions`` are
refused (closing at once sends them to Stasis). The service builds the session plan on the
loop (flow, blacklist, repeat caller); a worker thread runs the flow over the socket, wrapped in
text files (``fastagi_session.run_session``); the service records the path; the socket is
closed. On hang-up Asterisk sends ``HANGUP``/``511`` and the worker ends at once. ``stop()``
drops the waiting connections and shuts every session's socket down, which wakes each worker
with EOF.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from callcenter.infra.errors import StartupError
from callcenter.infra.logging import get_logger

from .fastagi_gate import SECRET_ARG, Pending, Prefixed, authentic, read_header
from .fastagi_session import PystAGI, SessionPlan, SessionResult, run_session

log = get_logger("ivr.fastagi")

__all__ = ["FastAgiServer", "SessionHandler", "SessionPlan", "SessionResult"]


def is_agi_session(env: dict[str, str]) -> bool:
    """Asterisk's AGI() sends only ``agi_*`` lines and always names the channel; anything else
    (garbage, an HTTP request, an empty connection) is not a call."""
    return bool(env.get("agi_channel")) and all(key.startswith("agi_") for key in env)


def _peer(conn: socket.socket) -> str:
    try:
        host, port = conn.getpeername()[:2]
    except OSError:
        return "?"
    return f"{host}:{port}"


class SessionHandler(Protocol):
    async def prepare(self, env: dict[str, str]) -> SessionPlan | None: ...

    async def lookup_ticket(self, number: str) -> str: ...

    async def attach_incident(self, plan: SessionPlan, incident_id: str) -> bool: ...

    async def finished(self, plan: SessionPlan, result: SessionResult) -> None: ...


class FastAgiServer:
    def __init__(self, handler: SessionHandler, host: str = "127.0.0.1", port: int = 4573, *, secret: str,
                 max_sessions: int = 64, reply_timeout: float = 300.0, lookup_timeout: float = 5.0,
                 header_timeout: float = 5.0, pending_per_source: int = 8, max_pending: int = 64):
        self.handler = handler
        self.host = host
        self._port = port
        self.secret = secret  # the dialplan's AGI_KEY (fastagi_gate.py)
        self.max_sessions = max_sessions
        self.reply_timeout = reply_timeout  # longest wait for one AGI reply (prompt + input)
        self.lookup_timeout = lookup_timeout
        self.header_timeout = header_timeout  # longest wait for the AGI environment
        self.rejected = 0
        self.not_agi = 0  # connections that sent no AGI environment (never recorded as calls)
        self.refused = 0  # environments without the dialplan's secret (never answered)
        self.timed_out = 0  # connections that sent no complete environment in time
        self._pending = Pending(pending_per_source, max_pending)
        self._listener: socket.socket | None = None
        self._accept_task: asyncio.Task | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._sessions: dict[asyncio.Task, socket.socket] = {}
        self._stopping = False

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1] if self._listener is not None else self._port

    @property
    def active(self) -> int:
        return len(self._sessions)

    @property
    def dropped(self) -> int:
        """Connections dropped while their environment was coming, to make room for newer ones."""
        return self._pending.dropped

    @property
    def running(self) -> bool:
        return self._accept_task is not None and not self._accept_task.done()

    async def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        try:
            self._listener = socket.create_server((self.host, self._port), backlog=128)
        except OSError as exc:  # the operator fixes this: say which port and which setting
            raise StartupError(f"FastAGI port {self._port} on {self.host} is taken or not available "
                               f"({exc.strerror or exc}); stop the other process (another `callcenter run`?) "
                               "or set CALLCENTER_AGI_PORT / CALLCENTER_AGI_HOST") from None
        self._listener.setblocking(False)
        self._pool = ThreadPoolExecutor(self.max_sessions, thread_name_prefix="fastagi")
        self._accept_task = asyncio.create_task(self._accept_loop(), name="fastagi-accept")
        log.info("agi_listening", host=self.host, port=self.port, max_sessions=self.max_sessions)

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, end running sessions (their sockets are shut down) and wait for them."""
        self._stopping = True
        if self._accept_task is not None:
            self._accept_task.cancel()
            await asyncio.gather(self._accept_task, return_exceptions=True)
            self._accept_task = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        waiting = self._pending.cancel_all()
        if waiting:
            await asyncio.wait(waiting, timeout=timeout)
        for conn in list(self._sessions.values()):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._sessions:
            await asyncio.wait(list(self._sessions), timeout=timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._listener is not None
        while True:
            try:
                conn, addr = await loop.sock_accept(self._listener)
            except OSError as exc:  # e.g. out of file descriptors: back off, keep serving
                log.warning("agi_accept_failed", error=str(exc))
                await asyncio.sleep(0.2)
                continue
            task = asyncio.create_task(self._connection(conn), name="fastagi-connection")
            self._pending.admit(task, str(addr[0]) if isinstance(addr, tuple) else "?")

    async def _connection(self, conn: socket.socket) -> None:
        """Read the environment on the loop (no thread, ``header_timeout``), check the secret,
        then run the session; the socket is closed whatever happens."""
        task = asyncio.current_task()
        assert task is not None
        try:
            conn.setblocking(False)
            try:
                async with asyncio.timeout(self.header_timeout):
                    env, rest = await read_header(conn)
            except TimeoutError:
                self.timed_out += 1
                log.info("agi_header_timeout", peer=_peer(conn))
                return
            finally:
                self._pending.done(task)
            if self._admitted(conn, env):
                self._sessions[task] = conn
                await self._session(conn, env, rest)
        except asyncio.CancelledError:
            if not self._stopping:  # dropped to make room for a newer connection
                log.debug("agi_pending_dropped", peer=_peer(conn))
        finally:
            self._sessions.pop(task, None)
            conn.close()

    def _admitted(self, conn: socket.socket, env: dict[str, str]) -> bool:
        if self._stopping:
            return False
        if not is_agi_session(env):  # a port scan, a health probe, a stray client: no call
            self.not_agi += 1
            log.info("agi_not_a_session", peer=_peer(conn), keys=sorted(env)[:5])
            return False
        if not authentic(env, self.secret):  # not our dialplan: not a word, no call record
            self.refused += 1
            log.warning("agi_refused_without_secret", peer=_peer(conn))
            return False
        if len(self._sessions) >= self.max_sessions:
            self.rejected += 1
            log.warning("agi_busy_refused", active=len(self._sessions))
            return False  # AGI() fails, the dialplan goes on to Stasis: an agent, not silence
        return True

    async def _session(self, conn: socket.socket, env: dict[str, str], rest: bytes) -> None:
        loop = asyncio.get_running_loop()
        files: list[Any] = []
        plan: SessionPlan | None = None
        env = {k: v for k, v in env.items() if k != SECRET_ARG}  # the secret goes no further
        try:
            conn.setblocking(True)
            conn.settimeout(self.reply_timeout)
            rfile = conn.makefile("r", encoding="utf-8", errors="replace", newline="\n")
            wfile = conn.makefile("w", encoding="utf-8", errors="replace", newline="\n")
            files = [rfile, wfile]
            agi = PystAGI(Prefixed(rest, rfile) if rest else rfile, wfile, env=env)
            plan = await self.handler.prepare(agi.env)
            if plan is None or self._stopping:
                return
            lookup = functools.partial(self._lookup, loop)
            attach = functools.partial(self._attach, loop, plan)
            result = await loop.run_in_executor(self._pool, run_session, agi, plan, lookup, attach)
            if self._stopping and result.outcome == "ended":
                result.outcome = "shutdown"  # not the caller's abandonment
            await self.handler.finished(plan, result)
        except Exception:
            log.exception("agi_session_failed", call_id=plan.call_id if plan else None)
        finally:
            for f in files:
                with contextlib.suppress(OSError, ValueError):
                    f.close()

    def _lookup(self, loop: asyncio.AbstractEventLoop, number: str) -> str:
        """Ticket status from the worker thread, computed on the loop; "" on any failure."""
        return self._on_loop(loop, lambda: self.handler.lookup_ticket(number))

    def _attach(self, loop: asyncio.AbstractEventLoop, plan: SessionPlan, incident_id: str) -> str:
        """Attach the call to an incident from the worker thread: "ok", or "" on any failure."""
        attach = getattr(self.handler, "attach_incident", None)
        if attach is None:
            return ""

        async def run() -> str:
            return "ok" if await attach(plan, incident_id) else ""

        return self._on_loop(loop, run)

    def _on_loop(self, loop: asyncio.AbstractEventLoop, make: Any) -> str:
        try:
            fut = asyncio.run_coroutine_threadsafe(make(), loop)
        except RuntimeError:  # loop closed
            return ""
        try:
            value = fut.result(self.lookup_timeout)
        except Exception:
            fut.cancel()
            return ""
        return value if isinstance(value, str) else ""
