"""The live hub: one MQTT subscription to ``<prefix>/#`` fanned out to WebSocket clients.

Every client first gets a full snapshot. After that, any MQTT event marks the snapshot stale;
the pusher waits ``debounce_s`` (events come in bursts: a call being offered moves a queue and
an agent at once), rebuilds the snapshots that clients are watching and pushes them. A quiet
period of ``refresh_s`` also triggers a refresh (KPIs, overdue tickets). MQTT is only the
trigger: a lost event costs freshness until the next one, never correctness, and the
subscription reconnects with back-off (and refreshes everything once it is back).

Agent desktops also get the raw events about themselves and their current call
(``{"type": "event", "topic", "payload"}``), for features such as the live transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiomqtt
from aiohttp import WSMsgType, web

from callcenter.board.snapshot import Snapshots
from callcenter.infra.logging import get_logger

log = get_logger("board.ws")
SEND_TIMEOUT_S = 2.0


def _dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, default=str)


class BoardHub:
    def __init__(self, settings: Any, snapshots: Snapshots, *, debounce_s: float = 0.1,
                 refresh_s: float = 15.0) -> None:
        self.settings = settings
        self.snapshots = snapshots
        self.debounce_s, self.refresh_s = debounce_s, refresh_s
        self.board_clients: set[web.WebSocketResponse] = set()
        self.agent_clients: dict[str, set[web.WebSocketResponse]] = {}
        self.connected = asyncio.Event()
        self.events = 0  # MQTT messages received (tests, health)
        self.pushes = 0
        self._wake = asyncio.Event()
        self._stopping = False  # loops also end on this flag: 3.11 can swallow a cancel
        self._tasks: list[asyncio.Task] = []
        snapshots.live_connected = self.connected.is_set

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._subscribe(), name="board-mqtt"),
                       asyncio.create_task(self._pusher(), name="board-pusher")]

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        for t in self._tasks:
            t.cancel()
        if self._tasks:
            _done, stuck = await asyncio.wait(self._tasks, timeout=5.0)
            if stuck:  # never hang the app's shutdown on the board
                log.warning("board_tasks_stuck", tasks=[t.get_name() for t in stuck])
        self._tasks = []
        await self.close_clients()

    async def close_clients(self) -> None:
        clients = list(self.board_clients) + [ws for s in self.agent_clients.values() for ws in s]
        self.board_clients.clear()
        self.agent_clients.clear()
        await asyncio.gather(*(ws.close(code=1001, message=b"server shutdown") for ws in clients),
                             return_exceptions=True)

    # ------------------------------------------------------------------ MQTT in
    async def _subscribe(self) -> None:
        prefix, backoff = self.settings.mqtt_prefix, 0.2
        while not self._stopping:
            try:
                async with aiomqtt.Client(self.settings.mqtt_host, self.settings.mqtt_port, timeout=5) as client:
                    await client.subscribe(f"{prefix}/#", qos=1)
                    self.connected.set()
                    backoff = 0.2
                    self.changed("*")  # events may have been missed while we were away
                    async for msg in client.messages:
                        if self._stopping:
                            return
                        await self.on_message(str(msg.topic)[len(prefix) + 1:], msg.payload)
            except asyncio.CancelledError:
                raise
            except (aiomqtt.MqttError, OSError) as exc:
                log.warning("board_mqtt_unavailable", error=str(exc), retry_in=backoff)
            self.connected.clear()
            self.changed("*")  # clients learn that the board is not live
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def on_message(self, topic: str, raw: Any) -> None:
        self.events += 1
        self.changed(topic)
        if not self.agent_clients:
            return
        try:
            payload = json.loads(raw) if isinstance(raw, bytes | str) else raw
        except ValueError:
            return  # not ours: the snapshot is refreshed anyway
        parts = topic.split("/")
        for agent_id, clients in list(self.agent_clients.items()):
            mine = (parts[0] == "agents" and len(parts) > 1 and parts[1] == agent_id) or (
                parts[0] == "calls" and len(parts) > 1 and parts[1] == self.snapshots.current_call_id(agent_id))
            if mine:
                await self._send(clients, _dumps({"type": "event", "topic": topic, "payload": payload}))

    def changed(self, topic: str) -> None:
        self.snapshots.invalidate(topic)
        self._wake.set()

    # ------------------------------------------------------------------ push out
    async def _pusher(self) -> None:
        while not self._stopping:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that lands as
                # the event is set, and the task would never stop
                async with asyncio.timeout(self.refresh_s):
                    await self._wake.wait()
                await asyncio.sleep(self.debounce_s)
            except TimeoutError:
                self.snapshots.invalidate("*")
            if self._stopping:
                return
            self._wake.clear()
            try:
                await self.push_all()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep pushing after a failed rebuild
                log.warning("board_push_failed", error=str(exc))

    async def push_all(self) -> None:
        if self.board_clients:
            await self._send(self.board_clients, _dumps(await self.snapshots.board()))
        for agent_id, clients in list(self.agent_clients.items()):
            if clients:
                await self._send(clients, _dumps(await self.snapshots.agent(agent_id)))
        self.pushes += 1

    async def _send(self, clients: set[web.WebSocketResponse], text: str) -> None:
        async def one(ws: web.WebSocketResponse) -> None:
            try:
                async with asyncio.timeout(SEND_TIMEOUT_S):
                    await ws.send_str(text)
            except (ConnectionError, RuntimeError, TimeoutError):
                clients.discard(ws)
                with contextlib.suppress(Exception):
                    await ws.close()

        await asyncio.gather(*(one(ws) for ws in list(clients) if not ws.closed))

    # ------------------------------------------------------------------ WebSocket handlers
    async def serve(self, request: web.Request, agent_id: str | None = None) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=25.0)
        await ws.prepare(request)
        clients = self.board_clients if agent_id is None else self.agent_clients.setdefault(agent_id, set())
        clients.add(ws)
        try:
            await self._send({ws}, _dumps(await self._snapshot(agent_id)))
            async for msg in ws:
                if msg.type == WSMsgType.TEXT and msg.data.strip() == '{"type":"refresh"}':
                    await self._send({ws}, _dumps(await self._snapshot(agent_id)))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            clients.discard(ws)
            if agent_id is not None and not clients:
                self.agent_clients.pop(agent_id, None)
        return ws

    async def _snapshot(self, agent_id: str | None) -> dict[str, Any]:
        return await (self.snapshots.board() if agent_id is None else self.snapshots.agent(agent_id))
