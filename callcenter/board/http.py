"""HTTP of the board feature: the two pages, their static files, JSON snapshots, caller history
and the two WebSocket endpoints (served by :class:`callcenter.board.websocket.BoardHub`).

- ``GET /board``                      supervisor live queue board (static page)
- ``GET /agent?agent=1001&seat=seat01`` agent desktop (static page)
- ``GET /dept``, ``GET /admin``, ``GET /dispatch`` department workbench, administration, the
  hall's dispatch desk (派单台; its data: ``GET /api/hall/queue`` of the tickets feature)
- ``GET /board/static/{file}``        the pages' JS and CSS (no CDN, no build step)
- ``GET /api/board/snapshot``         the board snapshot as JSON
- ``GET /api/board/agents/{agent_id}`` one agent desktop snapshot as JSON
- ``GET /api/callers/{phone}/history`` previous calls and tickets of a number
- ``GET /ws/board``, ``GET /ws/agent/{agent_id}`` live updates (snapshot first, then on change)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web

from callcenter.accounts.identity import current_user
from callcenter.accounts.model import sees_full_number
from callcenter.board import deptfeed, history
from callcenter.board.websocket import BoardHub
from callcenter.infra.web import HttpError, Provided, json_error, reply

STATIC = Path(__file__).parent / "static"
_AGENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_NO_CACHE = {"Cache-Control": "no-cache"}


BOARD = web.AppKey("board", Provided)


def _reply(doc: Any) -> web.Response:
    return reply(doc, headers=_NO_CACHE)


def hub(request: web.Request) -> BoardHub:
    return request.app[BOARD].get()


def _page(name: str):
    async def handler(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / name, headers=_NO_CACHE)

    return handler


def _agent_id(request: web.Request) -> str:
    agent_id = request.match_info["agent_id"]
    if not _AGENT_ID.match(agent_id):
        raise HttpError(400, "bad_agent", "malformed agent id", {"agent_id": "malformed"})
    return agent_id


async def board_snapshot(request: web.Request) -> web.Response:
    return _reply(await hub(request).snapshots.board())


async def agent_snapshot(request: web.Request) -> web.Response:
    agent_id = _agent_id(request)
    doc = await hub(request).snapshots.agent(agent_id)
    if doc.get("call") and not sees_full_number(current_user(request), agent_id):  # a supervisor looking on
        doc = doc | {"call": doc["call"] | {"caller": doc["call"]["caller_masked"]}}
    return _reply(doc)


async def caller_history(request: web.Request) -> web.Response:
    phone = history.normalise_phone(request.match_info["phone"])
    if phone is None:
        return json_error(422, "invalid", "a phone number has 3 to 15 digits", {"phone": "3 to 15 digits"})
    try:
        limit = min(max(int(request.query.get("limit", history.HISTORY_LIMIT)), 1), 100)
    except ValueError:
        return json_error(422, "invalid", "limit must be a number", {"limit": "1..100"})
    return _reply(await history.caller_history(hub(request).snapshots.pool, phone, limit=limit))


async def ws_board(request: web.Request) -> web.WebSocketResponse:
    return await hub(request).serve(request)


async def ws_agent(request: web.Request) -> web.WebSocketResponse:
    agent_id = _agent_id(request)
    return await hub(request).serve(request, agent_id)


async def _close_sockets(app: web.Application) -> None:
    found = app[BOARD].maybe()
    if found is not None:
        await found.close_clients()


def routes(app: web.Application, board: Provided[BoardHub]) -> None:
    app[BOARD] = board
    app.router.add_get("/board", _page("board.html"))
    app.router.add_get("/agent", _page("agent.html"))
    app.router.add_get("/dept", _page("dept.html"))  # department workbench (accounts issue 11)
    app.router.add_get("/admin", _page("admin.html"))  # users and roles
    app.router.add_get("/dispatch", _page("dispatch.html"))  # 派单台: the hall's dispatcher
    deptfeed.routes(app)  # /ws/dept/{code}: the department workbench's live ticket events
    app.router.add_static("/board/static/", STATIC, append_version=False)
    app.router.add_get("/api/board/snapshot", board_snapshot)
    app.router.add_get("/api/board/agents/{agent_id}", agent_snapshot)
    app.router.add_get("/api/callers/{phone}/history", caller_history)
    app.router.add_get("/ws/board", ws_board)
    app.router.add_get("/ws/agent/{agent_id}", ws_agent)
    app.on_shutdown.append(_close_sockets)
