"""``GET /ws/dept/{code}``: the live feed of the department workbench (/dept).

Each socket subscribes to ``<prefix>/tickets/<code>/#`` (the ticket events of the department's
queue, published through the outbox) and forwards every event as
``{"type": "ticket", "topic", "payload"}``; the page then re-reads its queue through the REST
API, which stays the only source of truth. The payloads never hold a phone number. Who may open
which department's feed is the accounts policy (a handler: its own department only).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re

import aiomqtt
from aiohttp import WSMsgType, web

from callcenter.context import SETTINGS
from callcenter.infra.logging import get_logger
from callcenter.infra.web import HttpError

log = get_logger("board.dept")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
FEEDS = web.AppKey("dept_feeds", set)


async def dept_feed(request: web.Request) -> web.WebSocketResponse:
    code = request.match_info["code"]
    if not _CODE.match(code):
        raise HttpError(400, "bad_department", "malformed department code", {"code": "malformed"})
    settings = request.app[SETTINGS]
    ws = web.WebSocketResponse(heartbeat=25.0)
    await ws.prepare(request)
    feeds = request.app[FEEDS]
    feeds.add(ws)
    forward = asyncio.create_task(_forward(ws, settings, code), name=f"dept-feed-{code}")
    try:
        await ws.send_str(json.dumps({"type": "hello", "department": code}))
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        feeds.discard(ws)
        forward.cancel()
        await asyncio.gather(forward, return_exceptions=True)
    return ws


async def _forward(ws: web.WebSocketResponse, settings, code: str) -> None:
    prefix, backoff = settings.mqtt_prefix, 0.2
    while not ws.closed:
        try:
            async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, timeout=5) as client:
                await client.subscribe(f"{prefix}/tickets/{code}/#", qos=1)
                await ws.send_str(json.dumps({"type": "live", "live": True}))
                backoff = 0.2
                async for msg in client.messages:
                    try:
                        payload = json.loads(msg.payload) if isinstance(msg.payload, bytes | str) else None
                    except ValueError:
                        continue
                    await ws.send_str(json.dumps({"type": "ticket", "topic": str(msg.topic)[len(prefix) + 1:],
                                                  "payload": payload}, ensure_ascii=False))
        except (aiomqtt.MqttError, OSError) as exc:
            log.warning("dept_feed_mqtt_unavailable", department=code, error=str(exc), retry_in=backoff)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(json.dumps({"type": "live", "live": False}))
        except (ConnectionError, RuntimeError):
            return  # the socket went away
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 5.0)


async def _close_feeds(app: web.Application) -> None:
    await asyncio.gather(*(ws.close(code=1001, message=b"server shutdown") for ws in list(app[FEEDS])),
                         return_exceptions=True)


def routes(app: web.Application) -> None:
    app[FEEDS] = set()
    app.router.add_get("/ws/dept/{code}", dept_feed)
    app.on_shutdown.append(_close_feeds)
