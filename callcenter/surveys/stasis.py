"""The survey calls over ARI (a translator: ARI events -> `SurveyScript` -> ARI requests).

Registered on the shared Stasis router under two app-arg kinds:
- ``survey,<job>,<attempt>``: the dialler's originated leg, answered by the citizen;
- ``rating,<call_id>,<agent>,<seat>,<team>``: the post-call service rating (坐席服务评价), a
  caller whose agent hung up first, handed over by the ACD (or entered from the dialplan).

When a survey leg ends, the `on_end(channel, outcome, answers)` it was expected with is called
once (the dialler's); ratings are stored here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from callcenter.infra.ari import AriClient, AriEvent
from callcenter.infra.logging import get_logger
from callcenter.surveys.model import Outcome, unanswered_outcome
from callcenter.surveys.script import (
    Effect,
    Hangup,
    Play,
    Question,
    Record,
    StartTimer,
    StopPlayback,
    SurveyScript,
)
from callcenter.surveys.store import SurveyStore
from callcenter.tickets.api import SatisfactionScale

log = get_logger("surveys.stasis")

Ended = Callable[[str, Outcome, dict[str, Any]], Awaitable[None]]


@dataclass
class Leg:
    channel: str
    kind: str  # survey | rating
    intro: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)
    script: SurveyScript | None = None
    playback: str | None = None
    ended: bool = False
    on_end: Ended | None = None  # who hears how a survey leg ended (the dialler)


class SurveyCalls:
    EVENTS = frozenset({"StasisStart", "StasisEnd", "ChannelDestroyed", "ChannelDtmfReceived",
                        "PlaybackFinished", "RecordingFinished", "RecordingFailed"})

    def __init__(self, ari: AriClient, store: SurveyStore, scale: SatisfactionScale, *, input_timeout_s: float = 6.0,
                 comment_s: int = 0, in_order: Callable[..., None] | None = None,
                 clock: Callable[[], datetime] | None = None):
        self.ari, self.store, self.scale = ari, store, scale
        self.input_timeout_s, self.comment_s = input_timeout_s, comment_s
        self.in_order = in_order
        self.clock = clock or (lambda: datetime.now(UTC))
        self.legs: dict[str, Leg] = {}
        self._playbacks: dict[str, str] = {}
        self._recordings: dict[str, str] = {}  # recording name -> channel
        self._timers: set[asyncio.TimerHandle] = set()

    def expect(self, channel: str, intro: tuple[str, ...], facts: dict[str, Any], *, on_end: Ended) -> None:
        """The dialler is about to originate `channel`: its events are ours from now on, and
        `on_end` hears how it ended."""
        self.legs[channel] = Leg(channel, "survey", intro, facts, on_end=on_end)

    def forget(self, channel: str) -> None:
        self.legs.pop(channel, None)

    async def on_event(self, event: AriEvent) -> None:
        channel = event.channel_id or ""
        if event.type == "StasisStart":
            kind = event.args[0] if event.args else ""
            if kind == "survey" and channel in self.legs:
                await self._answered(self.legs[channel])
            elif kind == "rating":
                await self._rating(channel, event.args[1:])
        elif event.type == "PlaybackFinished":
            pb = event.raw.get("playback") or {}
            owner = self._playbacks.pop(str(pb.get("id", "")), None)
            leg = self.legs.get(owner or "")
            if leg is not None and leg.script is not None and leg.playback == pb.get("id"):
                leg.playback = None
                await self._apply(leg, leg.script.prompt_done())
        elif event.type in ("RecordingFinished", "RecordingFailed"):
            name = str((event.raw.get("recording") or {}).get("name", ""))
            leg = self.legs.get(self._recordings.pop(name, ""))
            if leg is not None and leg.script is not None:
                done = name if event.type == "RecordingFinished" else None
                await self._apply(leg, leg.script.recording_done(done))
        elif event.type == "ChannelDtmfReceived":
            leg = self.legs.get(channel)
            if leg is not None and leg.script is not None:
                await self._apply(leg, leg.script.digit(str(event.raw.get("digit", ""))))
        elif event.type in ("ChannelDestroyed", "StasisEnd"):
            leg = self.legs.get(channel)
            if leg is not None:
                await self._gone(leg, event.raw.get("cause"))

    # ------------------------------------------------------------------ steps

    async def _answered(self, leg: Leg) -> None:
        if leg.facts.get("kind") == "missed":  # 漏话回拨 without an agent: the message, then hang up
            leg.script = SurveyScript(self.scale, leg.intro, questions=(), closing=())
        else:
            leg.script = SurveyScript(self.scale, leg.intro, input_timeout_s=self.input_timeout_s,
                                      comment_s=self.comment_s)
        await self.store.answered(leg.channel, self.clock())
        log.info("survey_answered", channel=leg.channel)
        await self._apply(leg, leg.script.start())

    async def _rating(self, channel: str, args: list[str]) -> None:
        names = ("call_id", "agent_id", "seat_id", "team")
        facts = {k: (args[i] if i < len(args) and args[i] else None) for i, k in enumerate(names)}
        facts["call_id"] = facts["call_id"] or channel
        leg = Leg(channel, "rating", facts=facts)
        leg.script = SurveyScript(self.scale, ("rating_intro",), questions=(Question.RATING,),
                                  input_timeout_s=self.input_timeout_s)
        self.legs[channel] = leg
        await self.ari.safe(self.ari.post(f"/channels/{channel}/answer"))
        await self._apply(leg, leg.script.start())

    async def _apply(self, leg: Leg, effects: list[Effect]) -> None:
        for e in effects:
            if leg.ended:
                return
            if isinstance(e, Play):
                if not e.prompts:
                    continue
                pb = await self.ari.safe(self.ari.post(
                    f"/channels/{leg.channel}/play", media=[f"sound:callcenter/{p}" for p in e.prompts]))
                if pb is None:  # the channel is gone: its destroy event ends the leg
                    return
                leg.playback = pb["id"]
                self._playbacks[pb["id"]] = leg.channel
            elif isinstance(e, StopPlayback):
                if leg.playback:
                    self._playbacks.pop(leg.playback, None)
                    await self.ari.safe(self.ari.delete(f"/playbacks/{leg.playback}"))
                    leg.playback = None
            elif isinstance(e, StartTimer):
                self._start_timer(leg.channel, e)
            elif isinstance(e, Record):
                name = f"survey-{leg.channel}"
                self._recordings[name] = leg.channel
                if leg.script is not None:  # kept even if the citizen hangs up before it finishes
                    leg.script.answers.comment_recording = name
                await self.ari.safe(self.ari.post(
                    f"/channels/{leg.channel}/record", name=name, format="wav", maxDurationSeconds=e.seconds,
                    maxSilenceSeconds=3, beep=True, terminateOn="#", ifExists="overwrite"))
            elif isinstance(e, Hangup):
                await self.ari.safe(self.ari.delete(f"/channels/{leg.channel}"))

    def _start_timer(self, channel: str, e: StartTimer) -> None:
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.discard(handle)
            leg = self.legs.get(channel)
            if leg is None or leg.script is None:
                return
            job = lambda: self._apply(leg, leg.script.timeout(e.token))  # noqa: E731
            if self.in_order is not None:
                self.in_order(channel, job, "survey_timeout")
            else:
                asyncio.ensure_future(job())

        handle = loop.call_later(e.seconds, fire)
        self._timers.add(handle)

    async def _gone(self, leg: Leg, cause: Any) -> None:
        if leg.ended:
            return
        leg.ended = True
        self.legs.pop(leg.channel, None)
        if leg.playback:
            self._playbacks.pop(leg.playback, None)
        script = leg.script
        if script is None:
            outcome = unanswered_outcome(cause if isinstance(cause, int) else None)
            answers: dict[str, Any] = {}
        else:
            reached = script.finished or leg.facts.get("kind") == "missed"  # a missed caller: answering is it
            outcome = Outcome.COMPLETED if reached else Outcome.HUNG_UP
            answers = script.answers.as_dict()
            script.hangup()
        log.info("survey_leg_ended", channel=leg.channel, kind=leg.kind, outcome=outcome.value, cause=cause)
        if leg.kind == "rating":
            await self.store.record_rating(
                leg.facts["call_id"], agent_id=leg.facts.get("agent_id"), seat_id=leg.facts.get("seat_id"),
                team=leg.facts.get("team"), rating=answers.get("rating"), digit=answers.get("digit"),
                at=self.clock())
            return
        if leg.on_end is not None:
            await leg.on_end(leg.channel, outcome, answers)

    def close(self) -> None:
        for h in self._timers:
            h.cancel()
        self._timers.clear()
