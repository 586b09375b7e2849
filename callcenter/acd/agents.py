"""Agent (seat staff) state machine.

Pure: every method takes the time of the event, mutates the agent only when the
transition is legal and returns an :class:`AgentEvent`.  An impossible transition
raises :class:`IllegalAgentTransition` and leaves the agent exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    UNREACHABLE = "unreachable"


class PauseReason(StrEnum):
    BREAK = "break"
    MEAL = "meal"
    TRAINING = "training"
    TICKET_WORK = "ticket_work"
    SUPERVISOR = "supervisor"
    MISSED_CALL = "missed_call"


class MissedCallPolicy(StrEnum):
    AVAILABLE = "available"  # a missed offer puts the agent straight back to available
    PAUSE = "pause"  # a missed offer pauses the agent with reason "missed_call"


LOGGED_IN_STATES = frozenset(AgentState) - {AgentState.LOGGED_OUT}


class AgentConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    wrap_up_s: float = Field(default=30.0, ge=0)
    missed_call_policy: MissedCallPolicy = MissedCallPolicy.PAUSE


class IllegalAgentTransition(ValueError):
    def __init__(self, agent_id: str, state: AgentState, event: str, detail: str = "") -> None:
        self.agent_id = agent_id
        self.state = state
        self.event = event
        msg = f"agent {agent_id}: illegal event {event!r} in state {state.value!r}"
        super().__init__(f"{msg}: {detail}" if detail else msg)


class NotOnShift(ValueError):
    def __init__(self, agent_id: str, team: str, at: datetime) -> None:
        self.agent_id = agent_id
        self.team = team
        self.at = at
        super().__init__(
            f"agent {agent_id} (team {team}) is not on shift at {at.isoformat()}; "
            "login needs a supervisor override"
        )


@dataclass(frozen=True, slots=True)
class AgentEvent:
    agent_id: str
    from_state: AgentState
    to_state: AgentState
    at: datetime
    reason: str


def require_aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"timezone-aware datetime required, got naive {at!r}")
    return at


_S = AgentState


@dataclass
class Agent:
    agent_id: str
    seat_id: str
    team: str
    skills: frozenset[str] = frozenset({"general"})
    state: AgentState = AgentState.LOGGED_OUT
    since: datetime | None = None
    pause_reason: PauseReason | None = None
    last_call_ended_at: datetime | None = None
    idle_since: datetime | None = None
    current_call_id: str | None = None
    pending_pause: PauseReason | None = None
    wrap_up_until: datetime | None = None
    return_state: AgentState | None = None  # state held when SIP registration was lost
    override_by: str | None = None  # supervisor who admitted an off-shift login
    config: AgentConfig = field(default_factory=AgentConfig)

    # ---------------------------------------------------------------- helpers
    def _illegal(self, event: str, detail: str = "") -> IllegalAgentTransition:
        return IllegalAgentTransition(self.agent_id, self.state, event, detail)

    def _check(self, event: str, at: datetime, allowed: frozenset[AgentState] | set[AgentState]) -> None:
        require_aware(at)
        if self.state not in allowed:
            raise self._illegal(event)

    def _go(self, to: AgentState, at: datetime, reason: str, **changes: Any) -> AgentEvent:
        """Apply a validated transition (never raises)."""
        frm = self.state
        for name, value in changes.items():
            setattr(self, name, value)
        self.state = to
        self.since = at
        if to is _S.AVAILABLE:
            self.idle_since = at
            self.pause_reason = None
        return AgentEvent(self.agent_id, frm, to, at, reason)

    def _free(self, at: datetime, reason: str) -> AgentEvent:
        """Leave a call: to the pending pause if one was requested, else available."""
        if self.pending_pause is not None:
            pr = self.pending_pause
            return self._go(_S.PAUSED, at, f"{reason}; pause:{pr.value}", pause_reason=pr, pending_pause=None,
                            current_call_id=None, wrap_up_until=None)
        return self._go(_S.AVAILABLE, at, reason, current_call_id=None, wrap_up_until=None)

    # ---------------------------------------------------------------- queries
    @property
    def logged_in(self) -> bool:
        return self.state is not _S.LOGGED_OUT

    def can_take_call(self, at: datetime, on_shift: bool) -> bool:
        """Available, reachable and on shift (or admitted off shift by a supervisor override)."""
        require_aware(at)
        return self.state is _S.AVAILABLE and (on_shift or self.override_by is not None)

    def wrap_up_due(self, at: datetime) -> bool:
        return self.state is _S.WRAP_UP and self.wrap_up_until is not None and at >= self.wrap_up_until

    # ---------------------------------------------------------------- events
    def login(self, at: datetime, on_shift: bool, override_by: str | None = None) -> AgentEvent:
        self._check("login", at, {_S.LOGGED_OUT})
        if not on_shift and not override_by:
            raise NotOnShift(self.agent_id, self.team, at)
        reason = "login" if on_shift else f"login off shift, override by {override_by}"
        return self._go(_S.AVAILABLE, at, reason, override_by=None if on_shift else override_by,
                        pending_pause=None, return_state=None, current_call_id=None, wrap_up_until=None)

    def logout(self, at: datetime, reason: str = "logout") -> AgentEvent:
        self._check("logout", at, {_S.AVAILABLE, _S.PAUSED, _S.WRAP_UP, _S.UNREACHABLE})
        return self._go(_S.LOGGED_OUT, at, reason, pause_reason=None, pending_pause=None, idle_since=None,
                        current_call_id=None, wrap_up_until=None, return_state=None, override_by=None)

    def offer(self, call_id: str, at: datetime) -> AgentEvent:
        self._check("offer", at, {_S.AVAILABLE})
        return self._go(_S.RINGING, at, f"offer {call_id}", current_call_id=call_id)

    def answer(self, at: datetime) -> AgentEvent:
        self._check("answer", at, {_S.RINGING})
        return self._go(_S.ON_CALL, at, f"answer {self.current_call_id}")

    def no_answer(self, at: datetime) -> AgentEvent:
        """The offer rang out (or was rejected) at the agent."""
        self._check("no_answer", at, {_S.RINGING})
        reason = f"no answer {self.current_call_id}"
        if self.pending_pause is None and self.config.missed_call_policy is MissedCallPolicy.PAUSE:
            return self._go(_S.PAUSED, at, reason, pause_reason=PauseReason.MISSED_CALL, current_call_id=None)
        return self._free(at, reason)

    def offer_cancelled(self, at: datetime) -> AgentEvent:
        """The caller hung up (or the call was re-routed) while ringing: not the agent's fault."""
        self._check("offer_cancelled", at, {_S.RINGING})
        return self._free(at, f"offer cancelled {self.current_call_id}")

    def hangup(self, at: datetime) -> AgentEvent:
        self._check("hangup", at, {_S.ON_CALL})
        until = at + timedelta(seconds=self.config.wrap_up_s)
        return self._go(_S.WRAP_UP, at, f"hangup {self.current_call_id}", last_call_ended_at=at,
                        wrap_up_until=until)

    def wrap_up_done(self, at: datetime) -> AgentEvent:
        self._check("wrap_up_done", at, {_S.WRAP_UP})
        return self._free(at, "wrap-up done")

    def tick(self, at: datetime) -> AgentEvent | None:
        """Finish wrap-up when its time has come; otherwise nothing."""
        require_aware(at)
        return self.wrap_up_done(at) if self.wrap_up_due(at) else None

    def pause(self, reason: PauseReason | str, at: datetime) -> AgentEvent:
        require_aware(at)
        try:
            pr = PauseReason(reason)
        except ValueError:
            raise ValueError(f"agent {self.agent_id}: unknown pause reason {reason!r}; "
                             f"expected one of {[r.value for r in PauseReason]}") from None
        self._check("pause", at, {_S.AVAILABLE, _S.WRAP_UP, _S.PAUSED, _S.RINGING, _S.ON_CALL})
        if self.state in (_S.RINGING, _S.ON_CALL):
            # recorded now, applied once the call and its wrap-up are over
            self.pending_pause = pr
            return AgentEvent(self.agent_id, self.state, self.state, at, f"pause requested:{pr.value}")
        return self._go(_S.PAUSED, at, f"pause:{pr.value}", pause_reason=pr, pending_pause=None,
                        current_call_id=None, wrap_up_until=None)

    def cancel_pending_pause(self, at: datetime) -> AgentEvent:
        require_aware(at)
        if self.pending_pause is None:
            raise self._illegal("cancel_pending_pause", "no pause pending")
        self.pending_pause = None
        return AgentEvent(self.agent_id, self.state, self.state, at, "pending pause cancelled")

    def unpause(self, at: datetime) -> AgentEvent:
        self._check("unpause", at, {_S.PAUSED})
        return self._go(_S.AVAILABLE, at, "unpause")

    def unreachable(self, at: datetime) -> AgentEvent:
        """SIP registration lost.  The model only records it; a live call is the controller's business."""
        self._check("unreachable", at, LOGGED_IN_STATES - {_S.UNREACHABLE})
        return self._go(_S.UNREACHABLE, at, f"unreachable (was {self.state.value})", return_state=self.state)

    def reachable(self, at: datetime) -> AgentEvent:
        """SIP registration back: paused if it was paused (or a pause is pending), else available."""
        self._check("reachable", at, {_S.UNREACHABLE})
        was = self.return_state
        if was is _S.PAUSED and self.pause_reason is not None:
            return self._go(_S.PAUSED, at, "reachable", return_state=None)
        if self.pending_pause is not None:
            pr = self.pending_pause
            return self._go(_S.PAUSED, at, f"reachable; pause:{pr.value}", pause_reason=pr, pending_pause=None,
                            return_state=None, current_call_id=None, wrap_up_until=None)
        return self._go(_S.AVAILABLE, at, "reachable", return_state=None, current_call_id=None,
                        wrap_up_until=None)


@dataclass
class AgentSlot:
    """A logged-in (or once logged-in) agent and the interface its seat rings."""

    agent: Agent
    interface: str
