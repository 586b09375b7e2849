"""The live hub machinery the pages sit on: MQTT in, WebSocket out.

A :class:`Hub` holds one MQTT subscription (``<prefix>/<topics>``) that reconnects with back-off,
and WebSocket clients in groups by a key (the board: one group; the agent desks: one per agent;
the department feed: one per department). A feature's hub fills in the hooks:

- ``changed(topic)``: an MQTT event arrived; also ``"*"`` when the subscription comes back or is
  lost (events may have been missed). The hub then wakes its pusher;
- ``document(key)``: the fresh document of a group. The pusher waits ``debounce_s`` after a
  change (events come in bursts: a call being offered moves a queue and an agent at once),
  rebuilds the document of every group that has clients and pushes it; a quiet period of
  ``refresh_s`` calls ``refreshed()`` and pushes too. A hub without documents (``push=False``)
  runs no pusher;
- ``listens(topic)`` and ``event(topic, payload)``: raw events forwarded to the clients they
  concern (the payload is the decoded JSON; an event that is not JSON is not forwarded). What a
  hub forwards raw goes through its ``relay`` table first (:mod:`callcenter.web.relay`): only
  expected topics, in the expected shape; the rest is dropped and logged;
- ``opened(ws, key)``: what a new client gets first (its group's document by default); a text
  ``{"type":"refresh"}`` from a client sends it the document again;
- ``live(up)``: the subscription came up or went down.

MQTT is only the trigger: a lost event costs freshness until the next one, never correctness.
A client that cannot take a message within ``SEND_TIMEOUT_S`` is dropped without stopping the
others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Hashable, Iterable
from typing import Any

import aiomqtt
from aiohttp import WSMsgType, web

from callcenter.infra.logging import get_logger
from callcenter.infra.mqtt import log_failure
from callcenter.web.relay import RelayTable

SEND_TIMEOUT_S = 2.0
HEARTBEAT_S = 25.0
REFRESH = '{"type":"refresh"}'


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, default=str)


class Hub:
    relay: RelayTable | None = None  # what the hub forwards raw (its subclass's table)

    def __init__(self, settings: Any = None, *, name: str, topics: str = "#", push: bool = True,
                 debounce_s: float = 0.1, refresh_s: float = 15.0) -> None:
        self.settings, self.name, self.topics, self.push = settings, name, topics, push
        self.debounce_s, self.refresh_s = debounce_s, refresh_s
        self.groups: dict[Hashable, set[web.WebSocketResponse]] = {}
        self.connected = asyncio.Event()
        self.events = 0  # MQTT messages received (tests, health)
        self.pushes = 0
        self.log = get_logger(name)
        self._wake = asyncio.Event()
        self._stopping = False  # loops also end on this flag: 3.11 can swallow a cancel
        self._tasks: list[asyncio.Task] = []

    # ------------------------------------------------------------------ hooks
    def changed(self, topic: str) -> None:
        """An MQTT topic (without prefix) arrived, or ``"*"``: what it makes stale."""

    async def document(self, key: Hashable) -> dict[str, Any] | None:
        """The current document of a group, or None (nothing to push)."""
        return None

    def refreshed(self) -> None:
        """A quiet ``refresh_s`` went by: drop what may have aged (KPIs, overdue tickets)."""

    def listens(self, topic: str) -> bool:
        """Whether some client wants this event raw (then it is decoded and given to `event`)."""
        return False

    async def event(self, topic: str, payload: Any) -> None:
        """Forward a raw event to the clients it concerns."""

    async def opened(self, ws: web.WebSocketResponse, key: Hashable) -> None:
        await self.send_document({ws}, key)

    async def live(self, up: bool) -> None:
        """The MQTT subscription came up (True) or was lost (False)."""

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def start(self, settings: Any = None) -> None:
        self.settings = settings if settings is not None else self.settings
        self._stopping = False
        self._tasks = [asyncio.create_task(self._subscribe(), name=f"{self.name}-mqtt")]
        if self.push:
            self._tasks.append(asyncio.create_task(self._pusher(), name=f"{self.name}-pusher"))

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        for t in self._tasks:
            t.cancel()
        if self._tasks:
            _done, stuck = await asyncio.wait(self._tasks, timeout=5.0)
            if stuck:  # never hang the app's shutdown on a page's feed
                self.log.warning("hub_tasks_stuck", tasks=[t.get_name() for t in stuck])
        self._tasks = []
        await self.close_clients()

    async def close_clients(self) -> None:
        clients = [ws for group in self.groups.values() for ws in group]
        self.groups.clear()
        await asyncio.gather(*(ws.close(code=1001, message=b"server shutdown") for ws in clients),
                             return_exceptions=True)

    # ------------------------------------------------------------------ MQTT in
    async def _subscribe(self) -> None:
        prefix, backoff = self.settings.mqtt_prefix, 0.2
        while not self._stopping:
            try:
                async with aiomqtt.Client(self.settings.mqtt_host, self.settings.mqtt_port, timeout=5,
                                          **self.settings.mqtt_login("web")) as client:
                    granted = await client.subscribe(f"{prefix}/{self.topics}", qos=1)
                    if any(getattr(code, "value", code) >= 0x80 for code in granted):  # the ACL said no
                        raise aiomqtt.MqttError(f"subscription to {prefix}/{self.topics} refused by the broker")
                    self.connected.set()
                    backoff = 0.2
                    self.touch("*")  # events may have been missed while we were away
                    await self.live(True)
                    async for msg in client.messages:
                        if self._stopping:
                            return
                        await self.on_message(str(msg.topic)[len(prefix) + 1:], msg.payload)
            except asyncio.CancelledError:
                raise
            except (aiomqtt.MqttError, OSError) as exc:
                log_failure(self.log, exc, user=self.settings.mqtt_login("web")["username"], retry_in=backoff,
                            settings="CALLCENTER_MQTT_WEB_USERNAME / CALLCENTER_MQTT_WEB_PASSWORD")
            self.connected.clear()
            self.touch("*")  # clients learn that the page is not live
            await self.live(False)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def on_message(self, topic: str, raw: Any) -> None:
        self.events += 1
        self.touch(topic)
        if not self.listens(topic):
            return
        try:
            payload = json.loads(raw) if isinstance(raw, bytes | str) else raw
        except ValueError:  # not ours: documents are refreshed anyway
            if self.relay is not None:
                self.relay.drop(topic, "not JSON")
            return
        await self.event(topic, payload)

    def touch(self, topic: str) -> None:
        self.changed(topic)
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
                self.refreshed()
            if self._stopping:
                return
            self._wake.clear()
            try:
                await self.push_all()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep pushing after a failed rebuild
                self.log.warning("hub_push_failed", error=str(exc))

    async def push_all(self) -> None:
        for key, clients in list(self.groups.items()):
            if clients:
                await self.send_document(clients, key)
        self.pushes += 1

    async def send_document(self, clients: set[web.WebSocketResponse], key: Hashable) -> None:
        doc = await self.document(key)
        if doc is not None:
            await self.send(clients, dumps(doc))

    async def send(self, clients: set[web.WebSocketResponse], text: str) -> None:
        async def one(ws: web.WebSocketResponse) -> None:
            try:
                async with asyncio.timeout(SEND_TIMEOUT_S):
                    await ws.send_str(text)
            except (ConnectionError, RuntimeError, TimeoutError):
                clients.discard(ws)
                with contextlib.suppress(Exception):
                    await ws.close()

        await asyncio.gather(*(one(ws) for ws in list(clients) if not ws.closed))

    async def broadcast(self, keys: Iterable[Hashable] | None, doc: Any) -> None:
        """``doc`` to every client of these groups (None: of all groups)."""
        groups = list(self.groups.values()) if keys is None else [self.groups.get(k, set()) for k in keys]
        text = dumps(doc)
        await asyncio.gather(*(self.send(clients, text) for clients in groups if clients))

    # ------------------------------------------------------------------ WebSocket handler
    async def serve(self, request: web.Request, key: Hashable = None) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
        await ws.prepare(request)
        clients = self.groups.setdefault(key, set())
        clients.add(ws)
        try:
            await self.opened(ws, key)
            async for msg in ws:
                if msg.type == WSMsgType.TEXT and msg.data.strip() == REFRESH:
                    await self.send_document({ws}, key)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            clients.discard(ws)
            if not clients and self.groups.get(key) is clients:
                self.groups.pop(key, None)
        return ws
