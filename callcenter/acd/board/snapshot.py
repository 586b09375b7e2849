"""Snapshots for the board and the agent desktop, with small caches invalidated by MQTT topics.

The live part (queues, agents) is rebuilt on every request from the ACD's memory (or the
Redis mirror); the PostgreSQL parts (today's KPIs, ticket figures, a call's IVR facts, a
caller's history) are cached until an event says they changed, or at most ``max_age_s``.
Those of other features' records are read through :class:`~callcenter.acd.board.reads.Records`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import asyncpg

from callcenter.acd import service_level
from callcenter.acd.board import ratings, views
from callcenter.acd.board.reads import (
    QualityFigures,
    RecordingStatus,
    Records,
    SurveyRatings,
    TicketFigures,
    caller_history,
    normalise_phone,
)
from callcenter.acd.shifts import Roster
from callcenter.infra.logging import get_logger
from callcenter.infra.redis import LiveState
from callcenter.infra.web import Provided

if TYPE_CHECKING:
    from callcenter.acd.view import AcdView
    from callcenter.surveys.api import Record
    from callcenter.tickets.api import SatisfactionScale

log = get_logger("board")


def quality_week(figs: dict[str, Any]) -> dict[str, Any]:
    """The board's quality panel from the week's figures: the hall's reviewed calls, average score
    and fatal hits, the teams', the fatal items and the appeals' outcomes."""
    hall = (figs.get("weeks") or [{}])[0]
    return {"week": hall.get("week"), "reviewed": hall.get("reviewed", 0), "average": hall.get("average"),
            "fatal": hall.get("fatal", 0),
            "teams": [{k: t[k] for k in ("team", "reviewed", "average", "fatal")} for t in figs.get("teams", [])],
            "fatal_items": figs.get("fatal_items", []), "appeals": figs.get("appeals", {})}


def direct_by_team(d: dict[str, Any], teams: list[dict[str, Any]]) -> dict[str, Any]:
    """Today's 直接答复率 by team: each agent's enquiries summed into the team the board shows it in
    (an agent not on the board now: "—")."""
    team_of = {a["agent_id"]: t["team"] for t in teams for a in t.get("agents", [])}
    sums: dict[str, list[int]] = {}
    for agent, (enquiries, answered) in (d.get("by_agent") or {}).items():
        row = sums.setdefault(team_of.get(agent, "—"), [0, 0])
        row[0] += enquiries
        row[1] += answered
    out = {k: v for k, v in d.items() if k != "by_agent"}
    out["teams"] = [{"team": t, "enquiries": e, "answered": a, "rate": a / e if e else None}
                    for t, (e, a) in sorted(sums.items())]
    return out


class Snapshots:
    def __init__(self, pool: asyncpg.Pool, live: LiveState, records: Records, acd: Provided[AcdView],
                 tickets: Provided[TicketFigures], *, timezone: str = "Asia/Shanghai",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), max_age_s: float = 30.0,
                 surveys: Provided[SurveyRatings] | None = None,
                 recording: Provided[RecordingStatus] | None = None,
                 quality: Provided[QualityFigures] | None = None) -> None:
        self.pool, self.live, self.records, self._acd, self._tickets_svc = pool, live, records, acd, tickets
        self._surveys = surveys
        self._quality = quality
        self._recording = recording
        self.clock = clock
        self.max_age_s = max_age_s
        self.tz = ZoneInfo(timezone)
        self._cache: dict[str, tuple[float, Any]] = {}  # "kpi" | "tickets" | "ratings" -> (monotonic, value)
        self._facts: dict[str, dict[str, Any]] = {}
        self._history: dict[str, dict[str, Any]] = {}
        self.live_connected: Callable[[], bool] = lambda: True
        self._roster: Roster | None = None

    # ------------------------------------------------------------------ caches
    def invalidate(self, topic: str) -> None:
        """An MQTT topic (without prefix) arrived; ``"*"`` drops everything."""
        head = topic.split("/", 1)[0]
        if head in ("calls", "*"):
            self._cache.pop("kpi", None)
            if topic.endswith(("/ended", "/answered", "/queued")) or head == "*":
                self._history.clear()
            if topic.endswith("/answered"):
                self._facts.pop(topic.split("/")[1] if topic.count("/") >= 2 else "", None)
        if head in ("tickets", "incidents", "*"):  # a new ticket may have joined an incident
            self._cache.pop("incidents", None)
        if head in ("tickets", "*"):
            self._cache.pop("tickets", None)
            self._history.clear()
        if head in ("surveys", "*"):  # surveys/ratings/<call>: a post-call rating stored
            self._cache.pop("ratings", None)
            self._cache.pop("callbacks", None)  # surveys/<job>/<state>: a callback moved on
        if head == "*":
            self._facts.clear()

    async def _cached(self, name: str, load: Callable[[], Any]) -> Any:
        hit = self._cache.get(name)
        if hit is not None and time.monotonic() - hit[0] < self.max_age_s:
            return hit[1]
        try:
            value = await load()
        except Exception as exc:  # noqa: BLE001 - a failing figure must not blank the board
            log.warning("board_figure_failed", figure=name, error=str(exc))
            return hit[1] if hit is not None else None
        self._cache[name] = (time.monotonic(), value)
        return value

    # ------------------------------------------------------------------ board
    @property
    def acd(self) -> AcdView | None:
        """The ACD in this process, or None (then the Redis mirror is read)."""
        return self._acd.maybe()

    @property
    def roster(self) -> Roster:
        """The ACD's roster, or without an ACD in this process the bundled one it loads too."""
        acd = self.acd
        if acd is not None:
            return acd.roster
        if self._roster is None:
            self._roster = Roster.default()
        return self._roster

    async def board(self) -> dict[str, Any]:
        now = self.clock()
        acd = self.acd
        if acd is not None:
            live = views.acd_view(acd, now)
        else:
            live = views.live_view(await self.live.all("agents"), await self.live.all("queue"), now)
        live["on_shift"] = views.shift_now(self.roster, now)
        kpis = await self._cached("kpi", lambda: service_level.today_kpis(self.pool, now, self.tz))
        tickets = await self._cached("tickets", self._tickets)
        if tickets and tickets.get("direct_answers"):
            tickets = {**tickets, "direct_answers": direct_by_team(tickets["direct_answers"], live.get("teams", []))}
        incidents = await self._cached("incidents", lambda: self.records.open_incidents(self.pool))
        rated = await self._ratings()
        return {"type": "board", "at": now.isoformat(), "live": self.live_connected(), **live,
                "kpi": kpis, "tickets": tickets, "incidents": incidents,
                "ratings": ratings.team_ratings(*rated) if rated is not None else None,
                "callbacks": await self._callbacks(), "recording": self._recording_status(),
                "quality": await self._quality_week()}

    async def _quality_week(self) -> dict[str, Any] | None:
        """This week's quality figures (the hall, by team, fatal items, appeals), or None without
        the quality feature; cached like the other figures (a review moves them little)."""
        svc = self._quality.maybe() if self._quality is not None else None
        if svc is None:
            return None

        async def load() -> dict[str, Any]:
            local = self.clock().astimezone(self.tz)
            monday = datetime.combine(local.date() - timedelta(days=local.weekday()), dt_time(0), tzinfo=self.tz)
            return quality_week(await svc.figures(monday))

        return await self._cached("quality", load)

    def _recording_status(self) -> dict[str, Any] | None:
        rec = self._recording.maybe() if self._recording is not None else None
        return rec.stats() if rec is not None else None

    async def _callbacks(self) -> dict[str, Any] | None:
        """Today's 漏话回拨率 (cached until a survey job moves), or None without the surveys feature."""
        surveys = self._surveys.maybe() if self._surveys is not None else None
        if surveys is None:
            return None

        async def load() -> dict[str, Any]:
            start, end = service_level.day_bounds(self.clock(), self.tz)
            records = await surveys.store.records(start, end)
            return ratings.missed_callbacks(records, surveys.config.scale_(), start.date().isoformat())

        return await self._cached("callbacks", load)

    async def _ratings(self) -> tuple[list[Record], SatisfactionScale, str] | None:
        """Today's post-call ratings (cached until one is stored), or None without the surveys feature."""
        surveys = self._surveys.maybe() if self._surveys is not None else None
        if surveys is None:
            return None

        async def load() -> tuple[list[Record], SatisfactionScale, str]:
            start, end = service_level.day_bounds(self.clock(), self.tz)
            return await surveys.store.ratings(start, end), surveys.config.scale_(), start.date().isoformat()

        return await self._cached("ratings", load)

    async def _tickets(self) -> dict[str, Any] | None:
        svc = self._tickets_svc.maybe()
        if svc is None:
            return None
        stats = await svc.board()
        return {k: stats.get(k) for k in ("open", "overdue", "escalated", "by_status", "direct_answers")}

    # ------------------------------------------------------------------ agent desktop
    def current_call_id(self, agent_id: str) -> str | None:
        slot = (self.acd.slots if self.acd is not None else {}).get(agent_id)
        return slot.agent.current_call_id if slot is not None else None

    async def agent(self, agent_id: str) -> dict[str, Any]:
        now = self.clock()
        acd = self.acd
        slot = acd.slots.get(agent_id) if acd is not None else None
        if acd is not None and slot is not None:
            entry = views.agent_entry(slot, acd.roster, acd.calls, now)
        else:
            doc = (await self.live.all("agents")).get(agent_id) if acd is None else None
            entry = doc or {"agent_id": agent_id, "state": "logged_out", "call_id": None}
        call = hist = None
        call_id = entry.get("call_id")
        if call_id:
            live_call = acd.calls.get(call_id) if acd is not None else None
            call = views.desk_call(live_call, await self._call_facts(call_id))
            if call["caller"]:
                hist = await self.history(call["caller"])
        rated = await self._ratings()
        mine = ratings.agent_ratings(rated[0], rated[1], agent_id, rated[2]) if rated is not None else None
        return {"type": "agent", "at": now.isoformat(), "live": self.live_connected(), "agent": entry,
                "on_shift": views.shift_now(self.roster, now), "call": call, "history": hist, "pause_reasons": views.PAUSE_REASONS, "ratings": mine}

    async def _call_facts(self, call_id: str) -> dict[str, Any] | None:
        if call_id in self._facts:
            return self._facts[call_id]
        facts = await self.records.call_facts(self.pool, call_id)
        if facts is not None:  # the row may not be written yet: ask again next time
            if len(self._facts) > 500:
                self._facts.clear()
            self._facts[call_id] = facts
        return facts

    async def history(self, phone: str) -> dict[str, Any] | None:
        digits = normalise_phone(phone)
        if digits is None:
            return None
        if digits not in self._history:
            if len(self._history) > 500:
                self._history.clear()
            self._history[digits] = await caller_history(self.records, self.pool, digits)
        return self._history[digits]
