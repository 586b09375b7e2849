"""What the call aggregate (`callcenter.acd.calls`) asks the world to do: plain frozen records,
no I/O. `callcenter.acd.executor` carries them out in list order (ARI requests, the journal,
the queue book, agents' state machines, timers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from callcenter.acd.policy import QueuedCall


class LegRole(StrEnum):
    """What a channel is to its call."""

    CALLER = "caller"  # the citizen who called in (its channel id is the call id)
    AGENT = "agent"  # the leg that rings the agent's seat
    CITIZEN = "citizen"  # a callback's leg that calls the citizen back


class AgentAction(StrEnum):
    """The `Agent` transition a call implies; skipped when the agent's state does not allow it."""

    OFFER = "offer"
    ANSWER = "answer"
    NO_ANSWER = "no_answer"  # rang out: the agent's missed-call policy applies
    OFFER_CANCELLED = "offer_cancelled"  # not the agent's fault (caller gone, originate refused)
    HANGUP = "hangup"  # into wrap-up


class Effect:
    """Base of every effect."""

    __slots__ = ()


# ------------------------------------------------------------------ ARI
@dataclass(frozen=True, slots=True)
class OriginateAgent(Effect):
    leg: str
    agent_id: str
    callback: bool  # a callback's agent leg has no caller to take the formats from


@dataclass(frozen=True, slots=True)
class OriginateCitizen(Effect):
    leg: str
    number: str


@dataclass(frozen=True, slots=True)
class Answer(Effect):
    channel: str


@dataclass(frozen=True, slots=True)
class CreateBridge(Effect):
    bridge_id: str


@dataclass(frozen=True, slots=True)
class AddToBridge(Effect):
    bridge_id: str
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DestroyBridge(Effect):
    bridge_id: str


@dataclass(frozen=True, slots=True)
class Transcribe(Effect):
    """Both parties talk in the bridge: tap each leg for live transcription (never waited on)."""
    call_id: str
    party: str  # the caller's channel, or the called-back citizen's
    agent_leg: str
    line: str = ""  # the line dialled: a line may forbid transcription


@dataclass(frozen=True, slots=True)
class StopTranscribing(Effect):
    call_id: str


@dataclass(frozen=True, slots=True)
class Hangup(Effect):
    channel: str


@dataclass(frozen=True, slots=True)
class RateAfterCall(Effect):
    """The agent hung up first: hand the caller's channel, still up, to the post-call rating
    (坐席服务评价): RATING_ARGS set, then continued to `rating-direct,s,1`, whence it re-enters the
    Stasis app as `rating,<call_id>,<agent>,<seat>,<team>` for the surveys feature."""

    channel: str
    call_id: str
    agent_id: str
    seat_id: str
    team: str


@dataclass(frozen=True, slots=True)
class Moh(Effect):
    channel: str
    on: bool


@dataclass(frozen=True, slots=True)
class Play(Effect):
    channel: str
    playback_id: str
    prompts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StopPlayback(Effect):
    playback_id: str


@dataclass(frozen=True, slots=True)
class StartRingback(Effect):
    """Music for the caller if the agent's leg still rings after a while (`ringback_due`)."""

    leg: str


@dataclass(frozen=True, slots=True)
class CancelRingback(Effect):
    leg: str


# ------------------------------------------------------------------ the ACD's own state
@dataclass(frozen=True, slots=True)
class Enqueue(Effect):
    """Into the queue book (a requeue brings the call's old place: same seq and entry time)."""

    entry: QueuedCall
    first: bool = False


@dataclass(frozen=True, slots=True)
class Dequeue(Effect):
    call_id: str


@dataclass(frozen=True, slots=True)
class MarkQueued(Effect):
    """Flags of the call's place in the book (callback offered / accepted)."""

    call_id: str
    callback_offered: bool = True
    callback: bool = False


@dataclass(frozen=True, slots=True)
class TrackLeg(Effect):
    channel: str
    call_id: str
    role: LegRole


@dataclass(frozen=True, slots=True)
class ForgetLeg(Effect):
    channel: str


@dataclass(frozen=True, slots=True)
class Forget(Effect):
    """The call is over: no longer one of the ACD's calls, none of its legs tracked."""

    call_id: str
    legs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentTransition(Effect):
    agent_id: str
    action: AgentAction
    call_id: str = ""
    talk_s: float | None = None  # with HANGUP: talk time, for the expected-wait estimate


@dataclass(frozen=True, slots=True)
class Assign(Effect):
    """Offer whatever can be offered now."""


@dataclass(frozen=True, slots=True)
class PublishQueues(Effect):
    """The queue snapshot for the board (debounced)."""


# ------------------------------------------------------------------ the record (journal, logs)
class RecordEvent(StrEnum):
    """Events on the call's row (also its MQTT topic `calls/<id>/<event>`)."""

    QUEUED = "queued"
    ANSWERED = "answered"
    CALLBACK_ACCEPTED = "callback_accepted"
    ENDED = "ended"


class Disposition(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    CALLBACK_FAILED = "callback_failed"
    LOST = "lost"  # its channels vanished while no controller held the app
    FALLBACK = "fallback"  # handled by the app_queue fallback while no controller held the app
    CANCELLED = "callback_cancelled"  # a requested callback withdrawn before an agent took it


class CallbackRecord(StrEnum):
    WAITING = "waiting"
    CONNECTED = "connected"


@dataclass(frozen=True, slots=True)
class RecordStart(Effect):
    call_id: str
    caller: str
    dnis: str
    line: str | None
    at: datetime
    vars: dict[str, str] = field(hash=False)


@dataclass(frozen=True, slots=True)
class RecordCall(Effect):
    """Update the call's row; `event` is also its MQTT topic (`calls/<id>/<event>`)."""

    call_id: str
    event: str
    at: datetime
    fields: dict[str, Any] = field(hash=False)


@dataclass(frozen=True, slots=True)
class RecordLeg(Effect):
    call_id: str
    leg: str
    seat_id: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class RecordLegUpdate(Effect):
    leg: str
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    cause: str | None = None


class CallbackEvent(StrEnum):
    """What a requested callback (`callcenter.acd.requested`) tells its requester."""

    CONNECTED = "connected"  # the citizen answered and talks with the agent
    REACHED = "reached"  # ended after the citizen and the agent talked
    NO_ANSWER = "no_answer"  # ended without reaching the citizen (no answer, busy, refused: see `cause`)
    AGENT_GONE = "agent_gone"  # ended unreached: the agent hung up while the citizen's phone rang
    CANCELLED = "cancelled"  # withdrawn before the citizen was dialled


@dataclass(frozen=True, slots=True)
class ReportCallback(Effect):
    """Tell the requester of a callback (its `origin`, e.g. `missed:12`) how it went; never waited on.
    `cause`: on NO_ANSWER, the Q.850 cause of the citizen's last leg (17 busy, 19 no answer, ...),
    None when no citizen leg ended with one (the dial was refused)."""

    call_id: str
    origin: str
    event: CallbackEvent
    agent_id: str | None = None
    cause: int | None = None


@dataclass(frozen=True, slots=True)
class Note(Effect):
    """A log line worth writing (`event` and its fields)."""

    event: str
    fields: dict[str, Any] = field(hash=False)
