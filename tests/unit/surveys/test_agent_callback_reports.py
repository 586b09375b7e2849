"""The dialler's side of an agent-driven callback (`callcenter.surveys.agentcalls`): what the
ACD's reports make of the attempt, with hand-written fakes for the store and the ACD (no I/O).
Issue 13: a busy citizen (Q.850 17) was recorded as no_answer, the report carried no cause."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from callcenter.acd.effects import CallbackEvent, ReportCallback
from callcenter.surveys.agentcalls import AgentDialling
from callcenter.surveys.model import Outcome
from callcenter.surveys.store import Claimed

T0 = datetime(2026, 11, 30, 1, tzinfo=UTC)


class FakeStore:
    def __init__(self) -> None:
        self.talked: list[tuple[str, str | None]] = []
        self.answers: dict[str, dict[str, Any]] = {}

    async def agent_talked(self, channel: str, agent_id: str | None, now: datetime) -> None:
        self.talked.append((channel, agent_id))

    async def desk_answers(self, channels: list[str]) -> dict[str, dict[str, Any]]:
        return {ch: self.answers[ch] for ch in channels if ch in self.answers}

    async def served_since(self, channels: list[str]) -> set[str]:
        return set()


@dataclass
class Ended:
    calls: list[tuple[str, Outcome, dict[str, Any]]]

    async def __call__(self, channel: str, outcome: Outcome, answers: dict[str, Any]) -> None:
        self.calls.append((channel, outcome, answers))


def world(kind: str = "missed") -> tuple[AgentDialling, FakeStore, Ended, Claimed]:
    c = Claimed(7, kind, "sv-7-1", 1, 2, "13900000001", "PZH-1" if kind == "ticket" else None, None, None,
                by_agent=True)
    store, ended = FakeStore(), Ended([])
    dialling = AgentDialling(store, lambda: None, ended, {c.channel_id: c}.get, clock=lambda: T0)  # type: ignore[arg-type]
    return dialling, store, ended, c


@pytest.mark.parametrize(("cause", "outcome"), [
    (17, Outcome.BUSY), (19, Outcome.NO_ANSWER), (None, Outcome.NO_ANSWER), (34, Outcome.FAILED)])
@pytest.mark.parametrize("kind", ["missed", "ticket"])
async def test_a_callback_not_reached_ends_by_its_cause(kind: str, cause: int | None, outcome: Outcome) -> None:
    dialling, _, ended, c = world(kind)
    await dialling.report(ReportCallback(c.channel_id, f"{'survey' if kind == 'ticket' else 'missed'}:7",
                                         CallbackEvent.NO_ANSWER, None, cause))
    assert ended.calls == [(c.channel_id, outcome, {})]


async def test_a_report_for_another_requester_changes_nothing() -> None:
    dialling, store, ended, c = world()
    await dialling.report(ReportCallback(c.channel_id, "survey:7", CallbackEvent.NO_ANSWER, None, 17))
    await dialling.report(ReportCallback("sv-9-1", "missed:9", CallbackEvent.NO_ANSWER, None, 17))
    assert ended.calls == [] and store.talked == []


async def test_connected_then_reached() -> None:
    dialling, store, ended, c = world()
    await dialling.report(ReportCallback(c.channel_id, "missed:7", CallbackEvent.CONNECTED, "1001"))
    await dialling.report(ReportCallback(c.channel_id, "missed:7", CallbackEvent.REACHED, "1001"))
    assert store.talked == [(c.channel_id, "1001")] and ended.calls == [(c.channel_id, Outcome.COMPLETED, {})]


@pytest.mark.parametrize("kind", ["missed", "ticket"])
async def test_an_agent_gone_while_the_citizen_rang_is_a_failed_attempt_that_is_retried(kind: str) -> None:
    """Defect: the agent hung up while the citizen's phone rang; the attempt must end neither
    reached nor cancelled (a cancelled job is lost: "已再次来电") but as a failure the policy retries."""
    from datetime import timedelta

    from callcenter.surveys.model import CallingHours, MissedCallPolicy, Retry, SurveyPolicy

    dialling, store, ended, c = world(kind)
    await dialling.report(ReportCallback(c.channel_id, f"{'survey' if kind == 'ticket' else 'missed'}:7",
                                         CallbackEvent.AGENT_GONE, None))
    assert ended.calls == [(c.channel_id, Outcome.AGENT_GONE, {})] and store.talked == []
    always = CallingHours.parse("00:00-23:59:59", rest_days=True)
    policy = (SurveyPolicy(3, always, 3, 10) if kind == "ticket" else MissedCallPolicy(1.0, 30, always, 2, 10))
    step = policy.after_attempt(Outcome.AGENT_GONE, 1, T0 + timedelta(days=1), T0, None)  # type: ignore[arg-type]
    assert step == Retry(T0 + timedelta(minutes=10))


async def test_a_callback_that_ends_while_the_tick_asks_the_store_is_left_alone() -> None:
    """Seen in a full run: the ACD's report ended the callback while the tick awaited the store's
    served_since, and the tick then read the ended callback's start (KeyError, the dialler's tick failed)."""
    dialling, store, ended, c = world()
    dialling.waiting[c.channel_id] = T0

    async def served_meanwhile(channels: list[str]) -> set[str]:
        await dialling.report(ReportCallback(c.channel_id, "missed:7", CallbackEvent.NO_ANSWER, None, 17))
        return set()

    store.served_since = served_meanwhile  # type: ignore[method-assign]
    await dialling.tick(T0, {c.channel_id: c})
    assert ended.calls == [(c.channel_id, Outcome.BUSY, {})] and c.channel_id not in dialling.withdrawing
