"""Survey and outbound settings: environment variables with the prefix `CALLCENTER_SURVEY_`,
validated at start (a bad value stops the start with one line naming the variable)."""

from __future__ import annotations

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from callcenter.infra.errors import StartupError
from callcenter.surveys.model import CallingHours, MissedCallPolicy, SurveyPolicy
from callcenter.tickets.api import Kind, SatisfactionScale, TicketError


class SurveySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLCENTER_SURVEY_", extra="ignore")

    enabled: bool = True
    scale: str = "five"  # five (national 5 levels) | three
    window_working_days: int = Field(3, ge=0, le=30)
    hours: str = "09:00-12:00,14:00-20:00"  # Asia/Shanghai
    rest_days: bool = False  # also call on weekends and public holidays
    max_attempts: int = Field(3, ge=1, le=10)
    retry_minutes: int = Field(60, ge=0)
    delay_minutes: int = Field(0, ge=0)
    comment_s: int = Field(30, ge=0, le=120)  # a bad review may leave a recorded comment (0: off)
    # 人工回访: a person (an agent) calls back these ticket kinds (comma-separated, e.g.
    # "complaint" or "投诉,举报"; empty: none) and tickets re-handled (重办) this often (0: never)
    person_kinds: str = "complaint"
    person_after_reopens: int = Field(1, ge=0, le=10)
    # 漏话回拨
    missed_enabled: bool = True
    missed_short_abandon_s: float = Field(10.0, ge=0)
    missed_within_minutes: int = Field(30, ge=1)
    missed_hours: str = "09:00-12:00,14:00-20:00"  # every day: the hotline is 7x24
    missed_max_attempts: int = Field(2, ge=1, le=10)
    missed_retry_minutes: int = Field(10, ge=0)
    missed_lookback_hours: float = Field(24, gt=0)
    # agent-driven callbacks: the ACD reserves an agent (below inbound), then dials the citizen
    agent_callbacks: bool = True  # missed-call callbacks through an agent (off: a message only)
    agent_queue: str = "general"
    agent_priority: int = Field(-1, le=-1)  # below every inbound call (0..9)
    agent_wait_s: float = Field(900.0, gt=0)  # no agent took it by then: the attempt ends (no_agent)
    result_wait_s: float = Field(600.0, gt=0)  # a ticket callback's result not entered by then: no valid answer
    # the dialler
    max_concurrent: int = Field(4, ge=0, le=200)
    inbound_wait_s: float = Field(30.0, ge=0)  # a caller waiting this long pauses new outbound calls
    poll_s: float = Field(1.0, gt=0)
    ring_timeout_s: int = Field(30, ge=3, le=120)
    input_timeout_s: float = Field(6.0, gt=0)
    lease_s: float = Field(60.0, gt=1)
    caller_id: str = "12345"

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: str) -> str:
        SatisfactionScale.named(v)
        return v

    @field_validator("person_kinds")
    @classmethod
    def _person_kinds(cls, v: str) -> str:
        try:
            return ",".join(Kind.parse(k.strip()).value for k in v.split(",") if k.strip())
        except TicketError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("hours", "missed_hours")
    @classmethod
    def _hours(cls, v: str) -> str:
        CallingHours.parse(v)
        return v

    def survey_policy(self) -> SurveyPolicy:
        return SurveyPolicy(self.window_working_days, CallingHours.parse(self.hours, self.rest_days),
                            self.max_attempts, self.retry_minutes, self.delay_minutes,
                            frozenset(k for k in self.person_kinds.split(",") if k), self.person_after_reopens)

    def missed_policy(self) -> MissedCallPolicy:
        return MissedCallPolicy(self.missed_short_abandon_s, self.missed_within_minutes,
                                CallingHours.parse(self.missed_hours, rest_days=True), self.missed_max_attempts,
                                self.missed_retry_minutes)

    def scale_(self) -> SatisfactionScale:
        return SatisfactionScale.named(self.scale)


def load_survey_settings(**overrides) -> SurveySettings:
    try:
        return SurveySettings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "CALLCENTER_SURVEY_" + str(err["loc"][0]).upper() if err["loc"] else "CALLCENTER_SURVEY_*"
        raise StartupError(f"{name}: {err['msg']}") from None
