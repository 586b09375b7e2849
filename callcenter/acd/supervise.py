"""Supervisor listen / whisper / barge on a live call, over ARI snoop channels.

A supervisor picks a bridged call and a mode; the controller

1. creates a mixing bridge for the supervision,
2. snoops on the AGENT's leg (``spy=both``: the supervisor hears agent and caller) with the
   whisper direction of the mode: ``listen`` none, ``whisper`` out (only the agent hears the
   supervisor), ``barge`` both (agent and caller hear the supervisor),
3. rings the supervisor's own seat phone (the seat's interface from the roster settings, never a
   dial string from the request), or with ``phone: browser`` the browser phone the board's page
   holds (the supervisor phone lent to this very user, `sup01-web`..; 409 when they hold none
   or it is not registered), and bridges it with the snoop channel when it answers.

Nothing about it reaches the agent: no agent state changes, no event on the agent's topics.
Ending it (or the call ending, or the supervisor hanging up) tears the snoop, phone and bridge
down.

A whispering or barging supervisor speaks into the call, and the call's recording must hold it:
once their phone is in, the call recorder (callcenter/recordings, handed in as a `VoiceRecorder`)
is told, records what the phone says and mixes it into the hall's channel (never awaited: a
recording never holds up the supervision).

- ``POST /api/calls/{call_id}/supervise`` {mode, seat} or {mode, phone: browser} -> 201 the supervision
- ``GET /api/supervisions``                 the active ones
- ``DELETE /api/supervisions/{sid}``        end one
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from callcenter.accounts.api import actor_of, current_user
from callcenter.acd.service import AcdService
from callcenter.infra.ari import AriError, AriEvent
from callcenter.infra.logging import get_logger
from callcenter.infra.web import HttpError, Provided, read_json, reply

log = get_logger("acd.supervise")
KIND = "supervise"
#: mode -> (spy, whisper) directions of the snoop on the agent's leg
MODES = {"listen": ("both", "none"), "whisper": ("both", "out"), "barge": ("both", "both")}


class VoiceRecorder(Protocol):
    """What the supervision tells the call recorder (callcenter.recordings.recorder.Recorder fits)."""

    def supervisor_joined(self, call_id: str, channel: str, *, sid: str, mode: str, by: str = "",
                          seat: str = "") -> None: ...

    def supervisor_left(self, call_id: str, sid: str) -> None: ...


@dataclass
class Watch:
    sid: str
    call_id: str
    agent_id: str
    agent_leg: str
    mode: str
    seat: str
    by: str
    snoop: str
    phone: str
    bridge: str
    connected: bool = False


class Supervision:
    EVENTS = frozenset({"StasisStart", "StasisEnd"})

    def __init__(self, svc: AcdService, seat_interface: str,
                 recorder: Callable[[], VoiceRecorder | None] = lambda: None,
                 browser_phone: Callable[[str], str | None] = lambda _username: None) -> None:
        self.svc, self.seat_interface, self.recorder = svc, seat_interface, recorder
        self.browser_phone = browser_phone  # username -> the browser endpoint lent to them (browserphone)
        self.active: dict[str, Watch] = {}

    async def _browser(self, username: str) -> str:
        endpoint = self.browser_phone(username)
        if endpoint is None:
            raise HttpError(409, "no_browser_phone", "this page holds no browser phone: open the board's 网页电话 first")
        try:
            state = (await self.svc.ari.get(f"/endpoints/PJSIP/{endpoint}")).get("state")
        except AriError:
            state = None
        if state != "online":
            raise HttpError(409, "browser_phone_offline", "the board's browser phone is not registered")
        return f"PJSIP/{endpoint}"

    async def start(self, call_id: str, mode: str, seat: str | None, by: str, *, username: str = "") -> Watch:
        """On `seat`'s phone, or (seat None) on the browser phone lent to `username`."""
        svc = self.svc
        session = svc.calls.get(call_id)
        if session is None or session.state != "bridged" or not session.agent_leg or not session.agent_id:
            raise HttpError(409, "not_bridged", "only a call in conversation with an agent can be supervised")
        if seat is None:
            endpoint = await self._browser(username)
        else:
            try:
                svc.roster.seat(seat)
            except (KeyError, ValueError):
                raise HttpError(422, "invalid", f"unknown seat {seat!r}", {"seat": "unknown seat"}) from None
            endpoint = self.seat_interface.format(seat=seat)
        sid = uuid.uuid4().hex[:12]
        w = Watch(sid, call_id, session.agent_id, session.agent_leg, mode, seat or "", by, snoop=f"snoop-{sid}",
                  phone=f"sv-{sid}", bridge=f"svb-{sid}")
        spy, whisper = MODES[mode]
        self.active[sid] = w
        try:
            await svc.ari.post("/bridges", type="mixing", bridgeId=w.bridge, name=f"supervise {call_id}")
            await svc.ari.post(f"/channels/{w.agent_leg}/snoop", spy=spy, whisper=whisper, app=svc.app,
                               appArgs=f"{KIND},{sid}", snoopId=w.snoop)
            await svc.ari.post("/channels", endpoint=endpoint, app=svc.app,
                               appArgs=f"{KIND},{sid}", channelId=w.phone, callerId=f"班长 {mode} <{seat or 'web'}>",
                               timeout=30)
        except AriError as exc:
            await self.stop(sid)
            raise HttpError(502, "ari_failed", f"Asterisk refused the supervision: {exc}") from None
        log.info("supervision_started", call_id=call_id, mode=mode, seat=seat, by=by)
        return w

    async def on_event(self, event: AriEvent) -> None:
        channel = event.channel_id or ""
        if event.type == "StasisStart" and event.args[:1] == [KIND]:
            w = self.active.get(event.args[1] if len(event.args) > 1 else "")
            if w is not None and channel in (w.snoop, w.phone):
                await self.svc.ari.safe(self.svc.ari.post(f"/bridges/{w.bridge}/addChannel", channel=channel))
                if channel == w.phone and not w.connected:
                    w.connected = True
                    if w.mode != "listen" and (rec := self.recorder()) is not None:
                        rec.supervisor_joined(w.call_id, w.phone, sid=w.sid, mode=w.mode, by=w.by, seat=w.seat)
            return
        if event.type == "StasisEnd":
            for w in list(self.active.values()):
                if channel in (w.snoop, w.phone, w.agent_leg, w.call_id):
                    await self.stop(w.sid)

    async def stop(self, sid: str) -> bool:
        w = self.active.pop(sid, None)
        if w is None:
            return False
        ari = self.svc.ari
        if w.connected and w.mode != "listen" and (rec := self.recorder()) is not None:
            rec.supervisor_left(w.call_id, w.sid)
        await ari.safe(ari.delete(f"/bridges/{w.bridge}"))
        # a snoop channel notices its hang-up on its next audio frame: at once on a real call,
        # but on a silent simulated line only when the spied call ends
        for ch in (w.phone, w.snoop):
            await ari.safe(ari.delete(f"/channels/{ch}"))
        log.info("supervision_ended", call_id=w.call_id, mode=w.mode)
        return True

    async def close(self) -> None:
        for sid in list(self.active):
            await self.stop(sid)


class SuperviseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["listen", "whisper", "barge"]
    seat: str | None = Field(None, pattern=r"^seat\d{2}$", description="the supervisor's own seat phone")
    phone: Literal["seat", "browser"] = "seat"  # browser: the board's own browser phone

    @model_validator(mode="after")
    def _one_phone(self) -> SuperviseIn:
        if (self.phone == "seat") == (self.seat is None):
            raise ValueError("name the seat whose phone rings, or phone=browser without a seat")
        return self


def routes(app: web.Application, provided: Provided[Supervision]) -> None:
    async def start(request: web.Request) -> web.Response:
        body = await read_json(request, SuperviseIn)
        user = current_user(request)
        w = await provided.get().start(request.match_info["call_id"], body.mode, body.seat,
                                       actor_of(request) or "-", username=user.username if user is not None else "")
        return reply(asdict(w), 201)

    async def listing(_request: web.Request) -> web.Response:
        return reply({"supervisions": [asdict(w) for w in provided.get().active.values()]})

    async def stop(request: web.Request) -> web.Response:
        if not await provided.get().stop(request.match_info["sid"]):
            raise HttpError(404, "not_found", "no such supervision")
        return web.Response(status=204)

    app.router.add_post("/api/calls/{call_id}/supervise", start)
    app.router.add_get("/api/supervisions", listing)
    app.router.add_delete("/api/supervisions/{sid}", stop)
