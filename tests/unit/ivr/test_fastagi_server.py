"""The asyncio FastAGI server over loopback TCP with a fake Asterisk: session lifecycle, hang-up,
concurrency limit, shutdown, ticket lookups from the worker thread."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

from helpers import until

from callcenter.ivr.actions import CallContext
from callcenter.ivr.fastagi import FastAgiServer, SessionPlan, SessionResult
from callcenter.ivr.lines import load_merged_lines
from callcenter.ivr.loader import load_flows

FLOWS_DIR = Path(__file__).resolve().parents[3] / "ivr_flows"
FLOWS = load_flows(FLOWS_DIR)
LINES = load_merged_lines(FLOWS_DIR / "merged_lines.yaml")
SECRET = "the-dialplans-key"
ENV = ("agi_network: yes\nagi_network_script: ivr\nagi_channel: Local/12345@from-trunk-00000001;2\n"
       f"agi_uniqueid: u-1\nagi_callerid: 13800000000\nagi_arg_1: 12345\nagi_arg_2: {SECRET}\n\n")


class Handler:
    def __init__(self) -> None:
        self.results: list[SessionResult] = []
        self.lookups: list[tuple[str, bool]] = []
        self.finished_event = asyncio.Event()

    async def prepare(self, env: dict[str, str]) -> SessionPlan:
        name, vars_ = LINES.choose_flow(env.get("agi_arg_1", ""))
        ctx = CallContext(env.get("agi_callerid", ""), "12345", dt.datetime.now(dt.UTC), vars_, 0)
        return SessionPlan(env["agi_uniqueid"], ctx.caller, "12345", name, FLOWS[name], ctx)

    async def lookup_ticket(self, number: str) -> str:
        self.lookups.append((number, threading.current_thread() is threading.main_thread()))
        return "in_progress"

    async def finished(self, plan: SessionPlan, result: SessionResult) -> None:
        self.results.append(result)
        self.finished_event.set()


def answers(digits: list[str]) -> Callable[[str], str | None]:
    """A well-behaved Asterisk: digits are pressed during prompts / GET DATA."""

    def reply(cmd: str) -> str | None:
        if cmd.startswith("GET DATA"):
            return f"200 result={digits.pop(0)}" if digits else "200 result= (timeout)"
        if cmd.startswith("STREAM FILE") and '"0123456789*#"' in cmd and digits:
            return f"200 result={ord(digits.pop(0))} endpos=10"
        return "200 result=1" if cmd.startswith("SET VARIABLE") else "200 result=0"

    return reply


async def fake_asterisk(port: int, reply: Callable[[str], str | None], env: str = ENV) -> list[str]:
    """Connect like Asterisk's AGI(): send the environment, answer commands until the server closes.
    `reply` returning None stops answering (the caller just listens)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(env.encode())
    commands: list[str] = []
    try:
        while line := await reader.readline():
            commands.append(line.decode().strip())
            answer = reply(commands[-1])
            if answer is None:
                continue
            writer.write(answer.encode() + b"\n")
            await writer.drain()
    finally:
        writer.close()
        await writer.wait_closed()
    return commands


async def started(handler: Handler, **kw) -> FastAgiServer:
    server = FastAgiServer(handler, "127.0.0.1", 0, secret=SECRET, **kw)
    await server.start()
    return server


async def test_a_session_runs_the_flow_sets_variables_and_closes_the_socket():
    handler = Handler()
    server = await started(handler)
    try:
        commands = await asyncio.wait_for(fake_asterisk(server.port, answers(["1", "20240001", "0"])), 10)
        await asyncio.wait_for(handler.finished_event.wait(), 5)
    finally:
        await server.stop()
    assert commands[0] == "ANSWER" and commands[-1] == 'SET VARIABLE "IVR_OUTCOME" "queue"'
    assert 'SET VARIABLE "IVR_TICKET" "20240001"' in commands
    [result] = handler.results
    assert result.outcome == "queue" and result.variables["IVR_CALL_ID"] == "u-1"
    assert handler.lookups == [("20240001", True)]  # computed on the loop, asked from the worker
    assert server.active == 0


async def test_inline_hangup_closes_the_session_at_once():
    handler = Handler()
    server = await started(handler)

    def reply(cmd: str) -> str:
        return "HANGUP" if cmd.startswith("STREAM FILE") else "200 result=0"

    try:
        commands = await asyncio.wait_for(fake_asterisk(server.port, reply), 10)
        await asyncio.wait_for(handler.finished_event.wait(), 5)
    finally:
        await server.stop()
    assert commands == ["ANSWER", 'STREAM FILE callcenter/welcome "0123456789*#" 0']
    assert handler.results[0].outcome == "ended" and handler.results[0].last_node == "greeting"


async def test_busy_server_refuses_at_once_and_stop_ends_running_sessions():
    handler = Handler()
    server = await started(handler, max_sessions=1)
    first = asyncio.create_task(fake_asterisk(server.port, lambda c: "200 result=0" if c == "ANSWER" else None))
    await until(lambda: server.active == 1, what="the first session running")
    # a second call is closed without a word: its AGI() fails and the dialplan goes on to Stasis
    refused = await asyncio.wait_for(fake_asterisk(server.port, lambda c: "200 result=0"), 5)
    assert refused == [] and server.rejected == 1

    await asyncio.wait_for(server.stop(), 10)
    commands = await asyncio.wait_for(first, 5)
    assert commands[:2] == ["ANSWER", 'STREAM FILE callcenter/welcome "0123456789*#" 0']
    assert handler.results[0].outcome == "shutdown"  # not counted as the caller's abandonment
    assert not server.running and server.active == 0


async def test_a_connection_without_environment_is_dropped_quietly():
    handler = Handler()
    server = await started(handler)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"\n")
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        await writer.wait_closed()
    finally:
        await server.stop()
    assert handler.results == []


async def test_garbage_and_foreign_protocols_are_never_calls():
    """Only a real AGI session (agi_* lines naming a channel) reaches the handler: a port scan or
    a stray HTTP client must not become an IVR call with an empty caller in the reports."""
    handler = Handler()
    prepared: list[dict[str, str]] = []
    real_prepare = handler.prepare

    async def prepare(env: dict[str, str]) -> SessionPlan:
        prepared.append(env)
        return await real_prepare(env)

    handler.prepare = prepare  # type: ignore[method-assign]
    server = await started(handler)
    try:
        for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\n\n",
                     b"hello\n\n", b"agi_network: yes\nagi_uniqueid: u-9\n\n",  # no channel
                     b"agi_channel: PJSIP/x-1\nFoo: bar\n\n"):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(junk)
            assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, no command sent
            writer.close()
            await writer.wait_closed()
        await until(lambda: server.not_agi == 5 and server.active == 0, what="junk connections closed")
        commands = await asyncio.wait_for(fake_asterisk(server.port, answers(["0"])), 10)
        await asyncio.wait_for(handler.finished_event.wait(), 5)
    finally:
        await server.stop()
    assert [env["agi_channel"] for env in prepared] == ["Local/12345@from-trunk-00000001;2"]
    assert "agi_arg_2" not in prepared[0]  # the secret goes no further than the door
    assert commands[0] == "ANSWER" and handler.results[0].outcome == "queue"


async def test_a_taken_port_names_the_agi_port_setting():
    import socket

    from callcenter.infra.errors import StartupError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = FastAgiServer(Handler(), "127.0.0.1", port, secret=SECRET)
        try:
            await server.start()
        except StartupError as exc:
            message = str(exc)
        else:
            await server.stop()
            raise AssertionError("the server started on a taken port")
    assert f"FastAGI port {port}" in message and "CALLCENTER_AGI_PORT" in message
    assert "HTTP" not in message and not server.running


async def test_an_environment_without_the_secret_is_never_answered():
    handler = Handler()
    server = await started(handler)
    try:
        for env in (ENV.replace(f"agi_arg_2: {SECRET}\n", ""), ENV.replace(SECRET, "guessed")):
            assert await asyncio.wait_for(fake_asterisk(server.port, answers(["0"]), env), 5) == []
        await until(lambda: server.refused == 2 and server.active == 0, what="both refused")
    finally:
        await server.stop()
    assert handler.results == []


async def test_silent_connections_time_out_and_the_oldest_make_room_for_asterisk():
    handler = Handler()
    server = await started(handler, header_timeout=0.5, pending_per_source=4, max_pending=6)
    try:
        idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(10)]
        # ten silent connections from one address: the oldest six were dropped for newer ones
        await until(lambda: server.dropped == 6, what="the oldest silent connections dropped")
        assert await asyncio.wait_for(idle[0][0].read(), 5) == b""
        commands = await asyncio.wait_for(fake_asterisk(server.port, answers(["0"])), 10)
        assert commands[0] == "ANSWER"  # a real call still gets its session
        await until(lambda: server.timed_out == 3, what="the rest timed out")  # 4 kept, minus the call's room
        for _, writer in idle:
            writer.close()
    finally:
        await server.stop()
    assert handler.results[0].outcome == "queue"
