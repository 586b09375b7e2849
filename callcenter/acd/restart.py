"""Decisions after a controller (re)start or a lost event (pure, like `callcenter.acd.calls`):
which open calls of the record come back and how (`restore`), and which agents the calls no
longer account for (`settle_agents`). `callcenter.acd.recovery` reads PostgreSQL and ARI and
carries these out."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from callcenter.acd import effects as fx
from callcenter.acd.agents import AgentState
from callcenter.acd.calls import WITH_AGENT, Call, CallState, Step
from callcenter.acd.effects import AgentAction, Disposition, LegRole, RecordEvent


@dataclass(frozen=True, slots=True)
class StoredCall:
    """An open call as PostgreSQL has it."""

    call_id: str
    caller: str
    queue: str
    skill: str
    priority: int
    seq: int
    entered_at: datetime
    attempts: int = 0
    callback_waiting: bool = False
    answered: bool = False
    agent_id: str | None = None
    seat_id: str | None = None
    open_legs: tuple[tuple[str, bool], ...] = ()  # (channel, answered)


def restore(s: StoredCall, live: Collection[str], now: datetime) -> tuple[Call, Step]:
    """An open call found in PostgreSQL when the controller starts with no calls (`live`: the
    app's channels in Asterisk). Bridged calls stay up, waiting callers get their place back,
    accepted callbacks keep theirs, calls whose caller vanished end as lost."""
    call = Call(s.call_id, s.caller, s.queue, s.skill, s.entered_at, s.seq, priority=s.priority,
                attempts=s.attempts, callback=s.callback_waiting)
    out: list[fx.Effect] = []
    if s.callback_waiting:
        call.state = CallState.CALLBACK_WAIT
        out.append(fx.Enqueue(call.entry()))
        if s.call_id in live:  # still on the line after accepting: the place is kept anyway
            out.append(fx.Hangup(s.call_id))
    elif s.call_id not in live:
        call.state = CallState.ENDED
        out.append(fx.RecordCall(s.call_id, RecordEvent.ENDED, now, {"ended_at": now, "disposition": Disposition.LOST}))
    else:
        call.caller_leg = s.call_id
        out.append(fx.TrackLeg(s.call_id, s.call_id, LegRole.CALLER))
        answered = [leg for leg, up in s.open_legs if up and leg in live]
        if s.answered and answered:
            call.state, call.agent_id, call.seat_id = CallState.BRIDGED, s.agent_id, s.seat_id
            call.agent_leg, call.bridge_id = answered[0], f"{s.call_id}-b"
            out.append(fx.TrackLeg(answered[0], s.call_id, LegRole.AGENT))
        else:  # an offer that was ringing when we went away: start it again
            out.extend(fx.Hangup(leg) for leg, _ in s.open_legs if leg in live)
            call.moh = True
            out += [fx.Enqueue(call.entry()), fx.Moh(s.call_id, True)]
    return call, Step(call.state, tuple(out))


def settle_agents(agents: Iterable[tuple[str, AgentState]], calls: Iterable[Call]) -> list[fx.AgentTransition]:
    """Put agents in the state their calls say they are in: an agent ringing for a call that is
    bridged has answered; one ringing or talking for no call is freed."""
    calls = list(calls)
    busy = {c.agent_id for c in calls if c.state in WITH_AGENT}
    bridged = {c.agent_id for c in calls if c.state is CallState.BRIDGED}
    out = []
    for agent_id, state in agents:
        if agent_id in busy:
            if state is AgentState.RINGING and agent_id in bridged:
                out.append(fx.AgentTransition(agent_id, AgentAction.ANSWER))
        elif state is AgentState.RINGING:
            out.append(fx.AgentTransition(agent_id, AgentAction.OFFER_CANCELLED))
        elif state is AgentState.ON_CALL:
            out.append(fx.AgentTransition(agent_id, AgentAction.HANGUP))
    return out
