"""ARI client on aiohttp: REST with retries and timeouts, events WebSocket with reconnect.

Events are parsed into `AriEvent` (type, channel, bridge, raw). A malformed event is logged
and dropped; it never stops the loop. Handlers run one at a time, in arrival order.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from callcenter.infra.latency import Latency
from callcenter.infra.logging import get_logger

log = get_logger("ari")

Handler = Callable[["AriEvent"], Awaitable[None]]


# What a call from the carrier speaks: G.711, A-law first as on China's PSTN. A Local channel
# originated without formats takes slin192, and every prompt and second of music on hold is
# then resampled to 192 kHz (most of Asterisk's CPU under load, measured with perf).
TRUNK_FORMATS = "alaw,ulaw"


# statuses that mean the channel, bridge or playback is already gone (or never was): `safe()`
# expects them, and they are not logged as failures
GONE = (404, 409, 422)
# refused credentials: a configuration error that whoever called reports once, with the fix
# (the app's start, the CLI); not logged here as well
REFUSED = (401, 403)


class AriError(Exception):
    def __init__(self, status: int, message: str, method: str = "", path: str = ""):
        super().__init__(f"ARI {method} {path} -> {status}: {message}")
        self.status = status
        self.message = message


class AriUnavailable(AriError):
    """Asterisk could not be reached (connection refused, time-out)."""


@dataclass(frozen=True)
class AriEvent:
    type: str
    application: str
    timestamp: str
    raw: dict[str, Any] = field(repr=False)

    @property
    def channel(self) -> dict[str, Any] | None:
        return self.raw.get("channel")

    @property
    def channel_id(self) -> str | None:
        ch = self.raw.get("channel")
        return ch.get("id") if isinstance(ch, dict) else None

    @property
    def args(self) -> list[str]:
        return list(self.raw.get("args") or [])


def parse_event(text: str | bytes) -> AriEvent:
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ValueError("an ARI event is a JSON object with a string 'type'")
    ch = data.get("channel")
    if ch is not None and not (isinstance(ch, dict) and isinstance(ch.get("id"), str)):
        raise ValueError(f"{data['type']}: 'channel' must be an object with an id")
    return AriEvent(data["type"], str(data.get("application", "")), str(data.get("timestamp", "")), data)


class AriClient:
    """REST calls and the event stream of one Stasis application."""

    RETRY_STATUSES = {502, 503, 504}

    def __init__(self, url: str, user: str, password: str, app: str, *, timeout: float = 5.0,
                 retries: int = 2, subscribe_all: bool = False):
        self.url = url.rstrip("/")
        self.app = app
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._session: aiohttp.ClientSession | None = None
        self._handlers: list[Handler] = []
        self._on_connect: list[Callable[[], Awaitable[None]]] = []
        self._ws_task: asyncio.Task | None = None
        self.connected = asyncio.Event()
        self.replaced = False
        self.subscribe_all = subscribe_all
        self.failures = 0  # ARI calls that failed (any status >= 400 or unreachable)
        self.tolerated = 0  # ... of which `safe()` expected (the channel or bridge was already gone)
        self.requests = 0  # REST calls made
        self.events = 0  # events received
        self.latency = Latency()  # seconds per REST call (each attempt), for /metrics

    async def __aenter__(self) -> AriClient:
        await self.open()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)

    async def close(self) -> None:
        if self._ws_task:
            self._ws_task.cancel()
            await asyncio.gather(self._ws_task, return_exceptions=True)
            self._ws_task = None
        if self._session:
            await self._session.close()
            self._session = None

    # ----------------------------------------------------------------- REST
    async def request(self, method: str, path: str, *, params: dict | None = None,
                      json_body: Any = None, idempotent: bool | None = None, quiet: tuple[int, ...] = ()) -> Any:
        """One ARI call. GET/DELETE and calls marked idempotent are retried on 5xx/connect errors.
        A failure with a status in `quiet` is not logged here: the caller looks into it and logs it."""
        assert self._session is not None, "AriClient.open() first"
        retry = (method in ("GET", "DELETE")) if idempotent is None else idempotent
        clean = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        attempts = self._retries + 1 if retry else 1
        for attempt in range(attempts):
            self.requests += 1
            started = time.monotonic()
            try:
                async with self._session.request(method, f"{self.url}/ari{path}", params=clean,
                                                 json=json_body) as resp:
                    body = await resp.text()
                    self.latency.observe(time.monotonic() - started)
                    if resp.status in self.RETRY_STATUSES and attempt + 1 < attempts:
                        await asyncio.sleep(0.05 * 2**attempt)
                        continue
                    if resp.status >= 400:
                        self.failures += 1
                        if resp.status not in GONE and resp.status not in REFUSED and resp.status not in quiet:
                            log.warning("ari_request_failed", method=method, path=path, status=resp.status,
                                        message=_message(body))
                        raise AriError(resp.status, _message(body), method, path)
                    return json.loads(body) if body else None
            except (TimeoutError, aiohttp.ClientConnectionError) as exc:
                if attempt + 1 >= attempts:
                    self.failures += 1
                    raise AriUnavailable(0, str(exc) or type(exc).__name__, method, path) from None
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    async def get(self, path: str, **params) -> Any:
        return await self.request("GET", path, params=params)

    async def download(self, path: str, target: Path) -> int:
        """A binary resource (a stored recording's file) written to ``target``; returns its bytes."""
        assert self._session is not None, "AriClient.open() first"
        self.requests += 1
        try:
            async with self._session.get(f"{self.url}/ari{path}", timeout=aiohttp.ClientTimeout(total=120)) as resp:
                if resp.status >= 400:
                    self.failures += 1
                    raise AriError(resp.status, _message(await resp.text()), "GET", path)
                data = await resp.read()
            await asyncio.to_thread(target.write_bytes, data)
            return len(data)
        except (TimeoutError, aiohttp.ClientConnectionError) as exc:
            self.failures += 1
            raise AriUnavailable(0, str(exc) or type(exc).__name__, "GET", path) from None

    async def post(self, path: str, *, body: Any = None, idempotent: bool | None = None,
                   quiet: tuple[int, ...] = (), **params) -> Any:
        return await self.request("POST", path, params=params, json_body=body, idempotent=idempotent, quiet=quiet)

    async def put(self, path: str, *, body: Any = None, **params) -> Any:
        return await self.request("PUT", path, params=params, json_body=body, idempotent=True)

    async def filter_events(self, types: list[str] | None) -> None:
        """Have Asterisk send this app only these event types (None: all)."""
        body = {"allowed": [{"type": t} for t in types]} if types is not None else {"allowed": [], "disallowed": []}
        await self.put(f"/applications/{self.app}/eventFilter", body=body)

    async def delete(self, path: str, **params) -> Any:
        return await self.request("DELETE", path, params=params)

    @property
    def errors(self) -> int:
        """ARI calls that failed unexpectedly."""
        return self.failures - self.tolerated

    async def safe(self, coro: Awaitable[Any]) -> Any:
        """Run a call whose 404 (channel or bridge already gone) is expected and harmless."""
        try:
            return await coro
        except AriError as exc:
            if exc.status in GONE:
                self.tolerated += 1
                return None
            raise

    # --------------------------------------------------------------- events
    def on_event(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def on_connect(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._on_connect.append(callback)

    def start_events(self) -> None:
        if self._ws_task is None:
            self._ws_task = asyncio.create_task(self._ws_loop(), name=f"ari-events-{self.app}")

    def stop_events(self) -> None:
        if self._ws_task is not None:
            self._ws_task.cancel()
            self._ws_task = None
            self.connected.clear()

    async def _ws_loop(self) -> None:
        assert self._session is not None
        ws_url = self.url.replace("http", "ws", 1) + "/ari/events"
        backoff = 0.2
        while True:
            try:
                async with self._session.ws_connect(
                    ws_url, params={"app": self.app, "subscribeAll": _param(self.subscribe_all)}, heartbeat=10,
                    timeout=aiohttp.ClientWSTimeout(ws_close=5),
                ) as ws:
                    backoff = 0.2
                    self.replaced = False
                    log.info("ari_connected", app=self.app)
                    self.connected.set()
                    for cb in self._on_connect:
                        await _guard(cb(), "on_connect")
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            await self._dispatch(msg.data)
                        elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                            break
            except asyncio.CancelledError:
                self.connected.clear()
                raise
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                log.warning("ari_connect_failed", app=self.app, error=str(exc) or type(exc).__name__)
            self.connected.clear()
            if self.replaced:
                log.warning("ari_app_replaced", app=self.app)
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _dispatch(self, text: str) -> None:
        self.events += 1
        try:
            event = parse_event(text)
        except (ValueError, TypeError) as exc:
            log.warning("ari_bad_event", error=str(exc), sample=str(text)[:200])
            return
        if event.type == "ApplicationReplaced":
            self.replaced = True
        for handler in self._handlers:
            await _guard(handler(event), f"handler for {event.type}")


async def _guard(aw: Awaitable[Any], what: str) -> None:
    try:
        await aw
    except asyncio.CancelledError:
        raise
    except Exception:  # a bad event or a failed call must not kill the event loop task
        log.exception("ari_handler_failed", where=what)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _message(body: str) -> str:
    try:
        data = json.loads(body)
        return str(data.get("message", body)) if isinstance(data, dict) else body
    except ValueError:
        return body[:200]
