"""Wiring of the supervisor board and agent desktop (see callcenter/context.py for the contract).

`routes(app)` adds the pages, JSON snapshots, caller history and WebSockets
(:mod:`callcenter.acd.board.http`); `start(ctx)` runs the live hub (MQTT in, WebSocket out) until
the app stops. The board reads the ACD's view, the ticket figures, the surveys (today's post-call
ratings) and the other features' records (:class:`~callcenter.acd.board.reads.Records`) it is
given; it changes none of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from callcenter.acd.board import http
from callcenter.acd.board.hub import BoardHub
from callcenter.acd.board.reads import QualityFigures, RecordingStatus, Records, SurveyRatings, TicketFigures
from callcenter.acd.board.snapshot import Snapshots
from callcenter.context import Context
from callcenter.infra.web import Provided

if TYPE_CHECKING:
    from callcenter.acd.view import AcdView


class BoardPlugin:
    name = "board"

    def __init__(self, *, acd: Provided[AcdView], tickets: Provided[TicketFigures], records: Records,
                 surveys: Provided[SurveyRatings] | None = None,
                 recording: Provided[RecordingStatus] | None = None,
                 quality: Provided[QualityFigures] | None = None) -> None:
        self.acd, self.tickets, self.records, self.surveys = acd, tickets, records, surveys
        self.quality = quality  # the week's quality figures (质检) on the board
        self.recording = recording  # the recorder's figures: a failed recording shows on the board
        self.hub: Provided[BoardHub] = Provided("board")

    def routes(self, app: web.Application) -> None:
        http.routes(app, self.hub)

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        hub = BoardHub(ctx.settings, Snapshots(ctx.pool, ctx.live, self.records, self.acd, self.tickets,
                                               timezone=ctx.settings.timezone, surveys=self.surveys,
                                               recording=self.recording, quality=self.quality))
        await hub.start()
        self.hub.set(hub)
        try:
            yield
        finally:
            self.hub.set(None)
            await hub.stop()
