"""Wiring of quality inspection (质检): the scorecard (`callcenter/quality/data/scorecard.yaml`,
validated at start: a bad file stops the start with the item and field) and the automatic checks
of a call on its transcript, for the inspector's page; the reviews, appeals and the weekly sample
(`CALLCENTER_QA_SAMPLE_SHARE` of each agent's recorded calls, plus every complaint, 效能 or reopened
ticket's call, every call rated badly after it and every fatal automatic hit); the hall's word lists;
the figures per agent, team and week. A review keeps the team of the call's seat (the ACD roster's)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from callcenter.acd.api import Roster
from callcenter.context import Context
from callcenter.infra.web import Provided
from callcenter.quality import http, pages, reviews_http
from callcenter.quality.reviews import AgentOf, Ratings, Recent, Reviews, Tickets
from callcenter.quality.scorecard import load

SeatOf = Callable[[Any, str], Awaitable[str | None]]  # the seat that answered a call (calls.history)


class QualityPlugin:
    name = "quality"

    def __init__(self, *, segments: http.Segments, lengths: http.Lengths, agent_of: AgentOf, recent: Recent,
                 tickets: Tickets, ratings: Ratings | None = None, seat_of: SeatOf | None = None) -> None:
        self.segments, self.lengths = segments, lengths  # the call's transcript, its recorded length
        self.agent_of, self.recent, self.tickets = agent_of, recent, tickets  # reviews and the sample
        self.ratings, self.seat_of = ratings, seat_of  # 差评 into the sample; a review's team
        self.service: Provided[http.Inspection] = Provided("quality inspection")
        self.reviews: Provided[Reviews] = Provided("quality reviews")

    def routes(self, app: web.Application) -> None:
        http.routes(app, self.service)
        reviews_http.routes(app, self.reviews)
        pages.routes(app)

    async def start(self, ctx: Context) -> AsyncIterator[None]:
        inspection = http.Inspection(ctx.pool, load(), self.segments, self.lengths)
        self.service.set(inspection)
        teams = {s.id: s.team for s in Roster.default().seats}
        seat_of = self.seat_of

        async def team_of(pool: Any, call_id: str) -> str | None:
            return teams.get(await seat_of(pool, call_id) or "") if seat_of is not None else None

        self.reviews.set(Reviews(inspection, self.agent_of, self.recent, self.tickets,
                                 share=ctx.settings.qa_sample_share, ratings=self.ratings, team_of=team_of))
        try:
            yield
        finally:
            self.service.set(None)
            self.reviews.set(None)
