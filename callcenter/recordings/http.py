"""The recordings' REST API and the call's page. Who may hear which call is `model.refusal`; the
facts it needs come from the call record (was it bridged to this agent: calls' api) and the
tickets of the call (tickets' api).

- ``GET /api/calls/{call_id}/recordings``        the call's parts (state, length, agent, seat)
- ``GET /api/calls/{call_id}/recording?part=N``  the stereo file (Ogg Vorbis), HTTP ranges (a
  store without local files, e.g. an object store, is streamed range by range through `Store.read`);
  ``&download=1`` as an attachment. Each download is in the audit log, and each playback: a
  request of any range, unless the same user played the same part in the last 10 minutes.
- ``GET /calls/{call_id}``                       the page: player and transcript side by side
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web

from callcenter.accounts.api import Audit, User, current_user
from callcenter.calls.api import CallTickets, call_parties
from callcenter.infra.web import HttpError, Provided, reply
from callcenter.recordings.model import CallParties, Recording, State, refusal
from callcenter.recordings.storage import Store, StoreError
from callcenter.recordings.store import RecordingStore
from callcenter.web.pages import add_page, add_static

STATIC = Path(__file__).parent / "static"
PLAYED_WITHIN_S = 600.0  # one playback's seeks are one audit line
STATE_LABELS = {"recording": "录音中", "finalizing": "保存中", "stored": "已保存", "failed": "录音失败",
                "deleted": "已过保存期删除"}


class Playback:
    """What the routes need, filled by the plugin when it starts."""

    def __init__(self, store: RecordingStore, files: Store, audit: Audit, tickets: CallTickets) -> None:
        self.store, self.files, self.audit, self.tickets = store, files, audit, tickets

    async def parties(self, call_id: str, user: User) -> CallParties:
        return await call_parties(self.store.pool, call_id, user, self.tickets)


def _doc(r: Recording) -> dict[str, Any]:
    return {"part": r.part, "state": r.state.value, "state_label": STATE_LABELS[r.state.value],
            "started_at": r.started_at.isoformat(), "ended_at": r.ended_at.isoformat() if r.ended_at else None,
            "duration_s": r.duration_s, "bytes": r.bytes, "sha256": r.sha256, "agent_id": r.agent_id,
            "seat_id": r.seat_id, "held": r.held, "reason": r.reason,
            "channels": {"left": "caller", "right": "agent"},
            # supervisors heard in the part, mixed into the right (hall's) channel from offset_s on
            "voices": [{"mode": v.mode, "seat": v.seat, "offset_s": round(v.offset_s, 2)} for v in r.voices]}


async def _allowed(request: web.Request, pb: Playback) -> tuple[str, User]:
    call_id = request.match_info["call_id"]
    if not call_id or len(call_id) > 128:
        raise HttpError(422, "invalid", "call id: 1 to 128 characters", {"call_id": "a call id"})
    user = current_user(request)
    if user is None:
        raise HttpError(401, "login_required", "log in first")
    why = refusal(user, await pb.parties(call_id, user))
    if why is not None:
        raise HttpError(403, "forbidden", why)
    return call_id, user


def _part(request: web.Request) -> int | None:
    raw = request.query.get("part")
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= 1000:  # not str.isdigit: "²" is one
        raise HttpError(422, "invalid", "part: a number from 1", {"part": "1, 2, ..."})
    return int(raw)


async def _audit(request: web.Request, pb: Playback, user: User, call_id: str, part: int) -> None:
    """Every download, and every playback: a request of any range counts unless this user played
    this part within the last PLAYED_WITHIN_S (the range requests of seeking within one playback).
    The Range header's text decides nothing ("bytes=-N", "bytes=1-" fetch the whole file too)."""
    if request.query.get("download") == "1":
        action = "recording_downloaded"
    elif await pb.audit.written_within(PLAYED_WITHIN_S, user.actor, "recording_played", call_id, part=part):
        return
    else:
        action = "recording_played"
    await pb.audit.write(user.actor, action, call_id, request.remote, part=part, username=user.username)


def byte_range(header: str, size: int) -> tuple[int, int, bool] | None:
    """(first, last, partial) of what a ``Range`` header asks of ``size`` bytes (RFC 9110, one
    range; partial: answer 206). A header that is not one bytes range means the whole (200); None:
    it asks for none of the bytes (416)."""
    spec = header.replace(" ", "")
    first, dash, last = spec[len("bytes="):].partition("-")
    if (not spec.startswith("bytes=") or not dash or "," in spec or first == last == ""
            or not all(x == "" or re.fullmatch(r"[0-9]{1,18}", x) for x in (first, last))):
        return (0, size - 1, False) if size else None
    if first == "":  # the last N bytes
        n = int(last)
        return (max(0, size - n), size - 1, True) if n and size else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end, True) if start <= end else None


async def _stream(request: web.Request, files: Store, key: str, headers: dict[str, str]) -> web.StreamResponse:
    """A recording from a store with no local file, with ranges as a file response has them."""
    size = await files.size(key)
    if size is None:
        raise HttpError(404, "no_recording", "the recording's file is not in the store")
    asked = request.headers.get("Range")
    span = byte_range(asked or "", size)
    if span is None:
        return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
    start, end, partial = span
    status = 206 if partial else 200
    out = {**headers, "Accept-Ranges": "bytes", "Content-Length": str(end - start + 1)}
    if status == 206:
        out["Content-Range"] = f"bytes {start}-{end}/{size}"
    resp = web.StreamResponse(status=status, headers=out)
    await resp.prepare(request)
    try:
        async for chunk in files.read(key, start, end):
            await resp.write(chunk)
    except StoreError:
        return resp  # gone meanwhile (retention): the answer ends short, the player says so
    await resp.write_eof()
    return resp


def routes(app: web.Application, service: Provided[Playback]) -> None:
    async def parts(request: web.Request) -> web.Response:
        pb = service.get()
        call_id, _user = await _allowed(request, pb)
        rows = await pb.store.for_call(call_id)
        return reply({"call_id": call_id, "recordings": [_doc(r) for r in rows]})

    async def recording(request: web.Request) -> web.StreamResponse:
        pb = service.get()
        call_id, user = await _allowed(request, pb)
        wanted = _part(request)
        rows = [r for r in await pb.store.for_call(call_id) if wanted is None or r.part == wanted]
        stored = [r for r in rows if r.state is State.STORED and r.storage_key]
        if not stored:
            why = rows[-1].state.value if rows else "none"
            raise HttpError(404, "no_recording", f"no stored recording of this call (state: {why})")
        rec = stored[0]  # the part asked for, else the first
        assert rec.storage_key is not None
        path = pb.files.path(rec.storage_key)
        await _audit(request, pb, user, call_id, rec.part)
        download = request.query.get("download") == "1"
        headers = {"Cache-Control": "private, no-store", "Content-Type": "audio/ogg"}
        if download:
            headers["Content-Disposition"] = f'attachment; filename="call-{rec.part}.ogg"'
        if path is None:  # an object store: streamed by ranges
            return await _stream(request, pb.files, rec.storage_key, headers)
        return web.FileResponse(path, headers=headers)

    app.router.add_get("/api/calls/{call_id}/recordings", parts)
    app.router.add_get("/api/calls/{call_id}/recording", recording)
    add_page(app, "/calls/{call_id}", STATIC / "call.html")
    add_static(app, "recordings", STATIC)
