"""The automated survey call as a pure state machine (no I/O, no clock): events in, effects out,
as `callcenter.ivr.runner` does for the IVR. `callcenter.surveys.stasis` translates ARI events
into these calls and carries out the effects.

A ticket survey: intro (ticket number, department) -> 是否解决 (1 yes, 2 no) -> the rating on
the configured scale -> thanks. The post-call rating asks only the rating. Digits pressed
early are kept (type-ahead) and answer the next question; a digit pressed during a question
stops its prompt. An invalid key or no key repeats the question once; a second failure is
"no valid answer" for it (the next question is still asked; the last one ends the call).
A key pressed during the intro stops it (barge-in) and answers the first question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from callcenter.tickets.api import SatisfactionLevel, SatisfactionScale


@dataclass(frozen=True)
class Play:
    prompts: tuple[str, ...]


@dataclass(frozen=True)
class StopPlayback:
    pass


@dataclass(frozen=True)
class StartTimer:
    token: int
    seconds: float


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Record:
    """Record the citizen's comment (ends on '#', silence or `seconds`)."""

    seconds: int


Effect = Play | StopPlayback | StartTimer | Hangup | Record


class Question(StrEnum):
    RESOLVED = "resolved"
    RATING = "rating"


class Phase(StrEnum):
    INTRO = "intro"
    PROMPT = "prompt"  # a question is being played
    WAITING = "waiting"  # the question was played; waiting for a key
    COMMENT = "comment"  # a bad review: "leave a comment after the tone" is playing
    RECORDING = "recording"  # the comment is being recorded
    CLOSING = "closing"  # thanks / no valid answer playing
    ENDED = "ended"


@dataclass
class Answers:
    resolved: bool | None = None
    level: SatisfactionLevel | None = None
    invalid: int = 0  # invalid keys and silences in total
    no_valid: list[str] = field(default_factory=list)  # questions left without a valid answer
    comment_recording: str | None = None  # the recording's name (a bad review's comment)

    def as_dict(self) -> dict:
        return {"resolved": self.resolved, "rating": self.level.label if self.level else None,
                "digit": self.level.digit if self.level else None, "invalid": self.invalid,
                "no_valid": list(self.no_valid), "comment_recording": self.comment_recording}


PROMPTS = {
    Question.RESOLVED: ("survey_ask_resolved",),
    Question.RATING: ("survey_ask_rating_{scale}",),
}


@dataclass
class SurveyScript:
    scale: SatisfactionScale
    intro: tuple[str, ...]
    questions: tuple[Question, ...] = (Question.RESOLVED, Question.RATING)
    input_timeout_s: float = 6.0
    closing: tuple[str, ...] = ("survey_thanks",)
    comment_s: int = 0  # > 0: after a bad review, record a comment of up to this many seconds
    phase: Phase = Phase.INTRO
    index: int = 0
    tries: int = 0
    answers: Answers = field(default_factory=Answers)
    pending: list[str] = field(default_factory=list)  # type-ahead digits
    timer: int = 0

    @property
    def finished(self) -> bool:
        """Every question was asked (a hang-up during the comment or the thanks still counts)."""
        return self.index >= len(self.questions)

    @property
    def question(self) -> Question:
        return self.questions[self.index]

    def prompts_of(self, q: Question) -> tuple[str, ...]:
        return tuple(p.format(scale=self.scale.name) for p in PROMPTS[q])

    # ------------------------------------------------------------------ events

    def start(self) -> list[Effect]:
        if self.intro:
            return [Play(self.intro)]
        return self._ask(())

    def prompt_done(self) -> list[Effect]:
        if self.phase is Phase.INTRO:
            return self._ask(())
        if self.phase is Phase.PROMPT:
            self.phase = Phase.WAITING
            self.timer += 1
            return [StartTimer(self.timer, self.input_timeout_s)]
        if self.phase is Phase.COMMENT:
            self.phase = Phase.RECORDING
            return [Record(self.comment_s)]
        if self.phase is Phase.CLOSING:
            self.phase = Phase.ENDED
            return [Hangup()]
        return []

    def recording_done(self, name: str | None) -> list[Effect]:
        if self.phase is not Phase.RECORDING:
            return []
        self.answers.comment_recording = name
        return self._close(("survey_comment_thanks",))

    def digit(self, d: str) -> list[Effect]:
        if self.phase is Phase.INTRO:  # barge-in: the key answers the first question
            self.pending.append(d)
            return [StopPlayback(), *self._ask(())]
        if self.phase in (Phase.PROMPT, Phase.WAITING):
            stop: list[Effect] = [StopPlayback()] if self.phase is Phase.PROMPT else []
            self.timer += 1  # any running input timer is stale now
            return stop + self._answer(d, ())
        return []

    def timeout(self, token: int) -> list[Effect]:
        if self.phase is not Phase.WAITING or token != self.timer:
            return []
        return self._retry("survey_no_input", ())

    def hangup(self) -> None:
        self.phase = Phase.ENDED

    # ------------------------------------------------------------------ steps

    def _ask(self, before: tuple[str, ...]) -> list[Effect]:
        if self.index >= len(self.questions):  # nothing to ask (a missed-call callback's message)
            return self._close(before)
        if self.pending:
            return self._answer(self.pending.pop(0), before)
        self.phase = Phase.PROMPT
        return [Play(before + self.prompts_of(self.question))]

    def _answer(self, d: str, before: tuple[str, ...]) -> list[Effect]:
        q = self.question
        if q is Question.RESOLVED and d in ("1", "2"):
            self.answers.resolved = d == "1"
            return self._next(before)
        if q is Question.RATING and (level := self.scale.by_digit(d)) is not None:
            self.answers.level = level
            return self._next(before)
        return self._retry("survey_invalid", before)

    def _retry(self, why: str, before: tuple[str, ...]) -> list[Effect]:
        self.answers.invalid += 1
        self.tries += 1
        if self.tries >= 2:
            self.answers.no_valid.append(self.question.value)
            if self.index + 1 >= len(self.questions):
                self.index += 1
                return self._close((*before, "survey_no_valid"))
            return self._next((*before, why))
        return self._ask((*before, why))

    def _next(self, before: tuple[str, ...]) -> list[Effect]:
        self.index += 1
        self.tries = 0
        if self.index >= len(self.questions):
            return self._close(before)
        return self._ask(before)

    def _close(self, before: tuple[str, ...]) -> list[Effect]:
        self.pending.clear()
        a = self.answers
        if self.comment_s > 0 and self.phase is not Phase.RECORDING and (
                (a.level is not None and a.level.bad) or a.resolved is False):
            self.phase = Phase.COMMENT
            return [Play((*before, "survey_comment"))]
        prompts = before + self.closing
        if not prompts:
            self.phase = Phase.ENDED
            return [Hangup()]
        self.phase = Phase.CLOSING
        return [Play(prompts)]


def digits_prompts(text: str) -> tuple[str, ...]:
    """The digit prompts that read a ticket number's digits one by one ('PZH-2026...' -> 2, 0, ...)."""
    return tuple(f"digit_{c}" for c in text if c.isdigit())
