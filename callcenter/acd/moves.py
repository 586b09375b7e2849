"""A supervisor moves a waiting call to another queue or priority (board action).

The call keeps its place in line (arrival time and order): only its queue, the skill it needs
and its priority change, in the queue book and in the call's aggregate, in order with the call's
own events; the call row records it (``calls/<id>/moved`` on MQTT) and the ACD offers it at once
if an agent is free for the new queue.

- ``POST /api/queues/calls/{call_id}/move`` {queue, priority} -> the call's new place
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from callcenter.accounts.api import actor_of
from callcenter.acd.calls import WAITING
from callcenter.acd.service import AcdService
from callcenter.infra.logging import get_logger
from callcenter.infra.web import HttpError, Provided, read_json, reply

log = get_logger("acd.moves")


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queue: str = Field(min_length=1, max_length=32)
    priority: int = Field(0, ge=0, le=9)


async def move_waiting(svc: AcdService, call_id: str, queue: str, priority: int, by: str) -> dict:
    qdef = next((q for q in svc.roster.queues if q.name == queue), None)
    if qdef is None:
        raise HttpError(422, "invalid", f"unknown queue {queue!r}", {"queue": "unknown queue"})

    async def move() -> dict:
        call = svc.calls.get(call_id)
        if call is None or call.state not in WAITING or svc.book.get(call_id) is None:
            raise HttpError(409, "not_waiting", "only a call waiting in a queue can be moved")
        svc.book.update(call_id, queue=qdef.name, skill=qdef.skill, priority=priority)
        call.queue, call.skill, call.priority = qdef.name, qdef.skill, priority
        svc.live_view.publish_queues()
        await svc.records.update(call_id, "moved", at=svc.clock(), queue=qdef.name, skill=qdef.skill,
                                 priority=priority)
        log.info("call_moved", call_id=call_id, queue=qdef.name, priority=priority, by=by)
        await svc.assign()
        return {"call_id": call_id, "queue": qdef.name, "priority": priority,
                "position": svc.book.position_of(call_id) if svc.book.get(call_id) else None}

    if svc.order is None:
        return await move()
    done: asyncio.Future[dict] = asyncio.get_running_loop().create_future()

    async def job() -> None:  # in order with the call's own events
        try:
            done.set_result(await move())
        except Exception as exc:  # noqa: BLE001 - handed to the request that asked
            done.set_exception(exc)

    svc.order.in_order(call_id, job, "move")
    return await done


def routes(app: web.Application, acd: Provided[AcdService]) -> None:
    async def handler(request: web.Request) -> web.Response:
        body = await read_json(request, MoveIn)
        return reply(await move_waiting(acd.get(), request.match_info["call_id"], body.queue, body.priority,
                                        actor_of(request) or "-"))

    app.router.add_post("/api/queues/calls/{call_id}/move", handler)
