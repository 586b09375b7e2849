"""The automatic quality checks of one call, for the inspector (and the hall):

- ``GET /api/calls/{call_id}/quality``  the default scorecard's items, each automatic check's
  finding with its evidence (transcript line index, time, text), and the score so far (None
  until the inspector has scored the items no check decides).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web

from callcenter.infra.web import HttpError, Provided, reply
from callcenter.quality.checks import Finding, Line
from callcenter.quality.scorecard import Scorecard, auto_findings, score

Segments = Callable[[Any, str], Awaitable[list[dict[str, Any]]]]  # a call's transcript (transcription's)
Lengths = Callable[[Any, str], Awaitable[tuple[float | None, list[float]]]]  # recordings' call_lengths


class Inspection:
    def __init__(self, pool: Any, card: Scorecard, segments: Segments, lengths: Lengths) -> None:
        self.pool, self.card, self.segments, self.lengths = pool, card, segments, lengths

    async def _facts(self, call_id: str) -> tuple[list[Line], float, list[float]]:
        rows = await self.segments(self.pool, call_id)
        lines = [Line(r["leg"], float(r["start_s"]), float(r["end_s"]), r["text"] or "") for r in rows]
        length, typical = await self.lengths(self.pool, call_id)
        duration = length if length is not None else max((ln.end_s for ln in lines), default=0.0)
        return lines, duration, typical

    async def findings(self, call_id: str) -> dict[str, Finding]:
        lines, duration, typical = await self._facts(call_id)
        return auto_findings(self.card, lines, duration, typical)

    async def of_call(self, call_id: str) -> dict[str, Any]:
        lines, duration, typical = await self._facts(call_id)
        found = auto_findings(self.card, lines, duration, typical)
        result = score(self.card, found)
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

    app.router.add_get("/api/calls/{call_id}/quality", quality)
