"""HTTP of the supervisor board and the agent desktop: the two pages, JSON snapshots, caller
history and the two WebSocket endpoints (served by :class:`callcenter.acd.board.hub.BoardHub`).

- ``GET /board``                      supervisor live queue board (static page)
- ``GET /agent?agent=1001&seat=seat01`` agent desktop (static page)
- ``GET /static/acd/{file}``          the pages' JS (the shell's common files: ``/static/web/``)
- ``GET /api/board/snapshot``         the board snapshot as JSON
- ``GET /api/board/agents/{agent_id}`` one agent desktop snapshot as JSON
- ``GET /api/callers/{phone}/history`` previous calls and tickets of a number
- ``GET /ws/board``, ``GET /ws/agent/{agent_id}`` live updates (snapshot first, then on change);
  a supervisor's ``/ws/agent/{agent_id}`` watches that desk with the caller's number masked
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web

from callcenter.accounts.api import current_user, sees_full_number
from callcenter.acd.board.hub import BOARD as BOARD_GROUP
from callcenter.acd.board.hub import BoardHub, Watch
from callcenter.acd.board.reads import HISTORY_LIMIT, caller_history, normalise_phone
from callcenter.acd.board.views import masked_desk
from callcenter.infra.web import HttpError, Provided, json_error, reply
from callcenter.web.pages import NO_CACHE, add_page, add_static

STATIC = Path(__file__).parent / "static"
_AGENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


BOARD = web.AppKey("board", Provided)


def _reply(doc: Any) -> web.Response:
    return reply(doc, headers=NO_CACHE)


def hub(request: web.Request) -> BoardHub:
    return request.app[BOARD].get()


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
    return _reply(doc if sees_full_number(current_user(request), agent_id) else masked_desk(doc))


async def history(request: web.Request) -> web.Response:
    phone = normalise_phone(request.match_info["phone"])
    if phone is None:
        return json_error(422, "invalid", "a phone number has 3 to 15 digits", {"phone": "3 to 15 digits"})
    try:
        limit = min(max(int(request.query.get("limit", HISTORY_LIMIT)), 1), 100)
    except ValueError:
        return json_error(422, "invalid", "limit must be a number", {"limit": "1..100"})
    snapshots = hub(request).snapshots
    return _reply(await caller_history(snapshots.records, snapshots.pool, phone, limit=limit))


async def ws_board(request: web.Request) -> web.WebSocketResponse:
    return await hub(request).serve(request, BOARD_GROUP)


async def ws_agent(request: web.Request) -> web.WebSocketResponse:
    """The agent's own desk, or a supervisor watching it (:class:`Watch`: the number masked)."""
    agent_id = _agent_id(request)
    mine = sees_full_number(current_user(request), agent_id)
    return await hub(request).serve(request, agent_id if mine else Watch(agent_id))


async def _close_sockets(app: web.Application) -> None:
    found = app[BOARD].maybe()
    if found is not None:
        await found.close_clients()


def routes(app: web.Application, board: Provided[BoardHub]) -> None:
    app[BOARD] = board
    add_page(app, "/board", STATIC / "board.html")
    add_page(app, "/agent", STATIC / "agent.html")
    add_static(app, "acd", STATIC)
    app.router.add_get("/api/board/snapshot", board_snapshot)
    app.router.add_get("/api/board/agents/{agent_id}", agent_snapshot)
    app.router.add_get("/api/callers/{phone}/history", history)
    app.router.add_get("/ws/board", ws_board)
    app.router.add_get("/ws/agent/{agent_id}", ws_agent)
    app.on_shutdown.append(_close_sockets)
