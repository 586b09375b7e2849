"""The automatic quality checks of one call, for the inspector (and the hall):

- ``GET /api/calls/{call_id}/quality``  the default scorecard's items, each automatic check's
  finding with its evidence (transcript line index, time, text), and the score so far (None
  until the inspector has scored the items no check decides).
- ``GET /api/qa/word-lists``             the word lists in force (服务禁语, anger words)
- ``PUT /api/qa/word-lists/{name}``      a supervisor replaces one (``{"words": [...]}``; audited
  with the words added and removed)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from callcenter.accounts.api import current_user
from callcenter.infra.web import HttpError, Provided, read_json, reply
from callcenter.quality.checks import Finding, Line
from callcenter.quality.scorecard import Scorecard, auto_findings, fatal_hits, file_words, score, with_words
from callcenter.quality.word_lists import WordListRefused, WordLists

Segments = Callable[[Any, str], Awaitable[list[dict[str, Any]]]]  # a call's transcript (transcription's)
Lengths = Callable[[Any, str], Awaitable[tuple[float | None, list[float]]]]  # recordings' call_lengths


class WordListBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    words: list[str] = Field(max_length=1000)


class Inspection:
    def __init__(self, pool: Any, card: Scorecard, segments: Segments, lengths: Lengths) -> None:
        self.pool, self.card, self.segments, self.lengths = pool, card, segments, lengths
        self.lists = WordLists(pool, file_words(card))  # the hall's word lists replace the file's

    async def card_now(self) -> Scorecard:
        """The scorecard with the word lists in force now."""
        return with_words(self.card, await self.lists.current())

    async def _facts(self, call_id: str, lengths: bool = True) -> tuple[list[Line], float, list[float]]:
        rows = await self.segments(self.pool, call_id)
        lines = [Line(r["leg"], float(r["start_s"]), float(r["end_s"]), r["text"] or "", r.get("status") or "ok")
                 for r in rows]
        length, typical = await self.lengths(self.pool, call_id) if lengths else (None, [])
        duration = length if length is not None else max((ln.end_s for ln in lines), default=0.0)
        return lines, duration, typical

    async def findings(self, call_id: str) -> dict[str, Finding]:
        lines, duration, typical = await self._facts(call_id)
        return auto_findings(await self.card_now(), lines, duration, typical)

    async def fatal(self, call_ids: list[str], parallel: int = 4) -> dict[str, tuple[str, ...]]:
        """Call id -> the fatal items its automatic checks fail (calls without one left out)."""
        card, gate = await self.card_now(), asyncio.Semaphore(parallel)
        # the recorded length is read only when a fatal check needs it (one query a call fewer)
        timed = any(i.fatal and i.check is not None and i.check.kind in ("length_outlier", "long_silence")
                    for i in card.items)

        async def one(call_id: str) -> tuple[str, tuple[str, ...]]:
            async with gate:
                return call_id, fatal_hits(card, *await self._facts(call_id, lengths=timed))

        return {c: hits for c, hits in await asyncio.gather(*(one(c) for c in call_ids)) if hits}

    async def of_call(self, call_id: str) -> dict[str, Any]:
        lines, duration, typical = await self._facts(call_id)
        card = await self.card_now()
        found = auto_findings(card, lines, duration, typical)
        result = score(card, found)
        return {"call_id": call_id, "scorecard": self.card.name, "pass_mark": self.card.pass_mark,
                "duration_s": duration, "lines": len(lines), "score": result.score, "passed": result.passed,
                "fatal_hits": list(result.fatal_hits),
                "items": [{"id": r.item, "name": r.name, "weight": r.weight, "fatal": r.fatal, "passed": r.passed,
                           "by": r.by, "finding": asdict(r.finding) if r.finding is not None else None}
                          for r in result.items]}


def routes(app: web.Application, service: Provided[Inspection]) -> None:
    async def quality(request: web.Request) -> web.Response:
        call_id = request.match_info["call_id"]
        if not call_id or len(call_id) > 128:
            raise HttpError(422, "invalid", "call id: 1 to 128 characters", {"call_id": "a call id"})
        return reply(await service.get().of_call(call_id))

    async def word_lists(_request: web.Request) -> web.Response:
        return reply({"lists": await service.get().lists.all()})

    async def replace_list(request: web.Request) -> web.Response:
        user = current_user(request)
        if user is None:
            raise HttpError(401, "login_required", "log in first")
        body = await read_json(request, WordListBody)
        try:
            doc = await service.get().lists.replace(request.match_info["name"], body.words, user.actor,
                                                    user.username, request.remote)
        except WordListRefused as exc:
            raise HttpError(422, "invalid", str(exc), {"words": str(exc)}) from None
        return reply(doc)

    app.router.add_get("/api/calls/{call_id}/quality", quality)
    app.router.add_get("/api/qa/word-lists", word_lists)
    app.router.add_put("/api/qa/word-lists/{name}", replace_list)
