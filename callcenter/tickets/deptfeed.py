"""``GET /ws/dept/{code}``: the live feed of the department workbench (/dept) and of the hall's
dispatch desk (``/ws/dept/hall``), on the web shell's hub (:class:`callcenter.web.hub.Hub`).

One MQTT subscription to ``<prefix>/tickets/#`` (the ticket events of every department's queue,
published through the outbox), opened with the first socket; each socket is in the group of its
department and gets ``{"type": "hello", "department"}`` first, then ``{"type": "live", "live"}``
(at once when the subscription is up; then whenever it comes up or is lost), and every event of its department as
``{"type": "ticket", "topic", "payload"}`` (only events of the shape :mod:`.feed_events` expects,
validated; the rest is dropped and logged). The page then re-reads its queue through the REST
API, which stays the only source of truth. The payloads never hold a phone number. Who may open
which department's feed is the accounts policy (a handler: its own department only).
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

from aiohttp import web

from callcenter.context import SETTINGS
from callcenter.infra.web import HttpError
from callcenter.tickets.feed_events import TICKET_FEED
from callcenter.web.hub import Hub, dumps

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class DeptFeed(Hub):
    relay = TICKET_FEED

    def __init__(self) -> None:
        super().__init__(name="tickets.dept_feed", topics="tickets/#", push=False)

    def listens(self, topic: str) -> bool:
        return topic.count("/") >= 1 and bool(self.groups.get(topic.split("/")[1]))

    async def event(self, topic: str, payload: Any) -> None:
        clients = self.groups.get(topic.split("/")[1])
        if clients and (doc := self.relay.shape(topic, payload)) is not None:
            await self.send(clients, dumps({"type": "ticket", "topic": topic, "payload": doc}))

    async def opened(self, ws: web.WebSocketResponse, key: Hashable) -> None:
        await self.send({ws}, dumps({"type": "hello", "department": key}))
        if self.connected.is_set():  # else the subscription says so once it is up (or lost)
            await self.send({ws}, dumps({"type": "live", "live": True}))

    async def live(self, up: bool) -> None:
        await self.broadcast(None, {"type": "live", "live": up})


FEED = web.AppKey("dept_feed", DeptFeed)


async def dept_feed(request: web.Request) -> web.WebSocketResponse:
    code = request.match_info["code"]
    if not _CODE.match(code):
        raise HttpError(400, "bad_department", "malformed department code", {"code": "malformed"})
    feed = request.app[FEED]
    if not feed.running:  # the subscription opens with the first socket
        await feed.start(request.app[SETTINGS])
    return await feed.serve(request, code)


async def _close_feed(app: web.Application) -> None:
    await app[FEED].stop()


def routes(app: web.Application) -> None:
    app[FEED] = DeptFeed()
    app.router.add_get("/ws/dept/{code}", dept_feed)
    app.on_shutdown.append(_close_feed)
