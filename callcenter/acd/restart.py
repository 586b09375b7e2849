"""Decisions after a controller (re)start or a lost event (pure, like `callcenter.acd.calls`):
which open calls of the record come back and how (`restore`), and which agents the calls no
longer account for (`settle_agents`). `callcenter.acd.recovery` reads PostgreSQL and ARI and
carries these out."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    past_legs: tuple[str, ...] = ()  # legs of the call already closed in the record
    line: str = ""  # the line dialled


def leg_number(leg: str, call_id: str) -> int | None:
    """The attempt number in a leg id of the call (`a3-<call>`, `cb3-<call>`), else None."""
    prefix, _, rest = leg.partition("-")
    digits = prefix[2:] if prefix.startswith("cb") else prefix[1:] if prefix.startswith("a") else ""
    return int(digits) if rest == call_id and digits.isdigit() else None


def restore(s: StoredCall, live: Collection[str], now: datetime) -> tuple[Call, Step]:
    """An open call found in PostgreSQL when the controller starts with no calls (`live`: the
    app's channels in Asterisk). A conversation whose caller (or called-back citizen) and
    agent are both still there stays up; one that lost either side during the gap ends as
    answered; waiting callers get their place back (a ringing offer is hung up and made again),
    accepted callbacks keep theirs; a caller who left unanswered ends as abandoned. Every leg
    not kept is hung up and closed in the record, and leg ids are never reused: the next offer
    takes a number above every leg the call ever had (a reused id would read the old leg's
    hang-up as the new offer going unanswered)."""
    mine = {leg for leg in live if leg_number(leg, s.call_id) is not None}
    numbers = [leg_number(leg, s.call_id) for leg in (*mine, *s.past_legs, *(leg for leg, _ in s.open_legs))]
    call = Call(s.call_id, s.caller, s.queue, s.skill, s.entered_at, s.seq, priority=s.priority,
                attempts=max([s.attempts, *(n for n in numbers if n is not None)]), callback=s.callback_waiting,
                line=s.line)
    agent_leg = next((leg for leg, up in s.open_legs if up and leg in live), None)
    citizen_leg = next((leg for leg in sorted(mine) if leg.startswith("cb")), None)
    other = s.call_id if s.call_id in live else citizen_leg
    keep: set[str] = set()
    out: list[fx.Effect] = []
    if s.callback_waiting:
        call.state = CallState.CALLBACK_WAIT
        out.append(fx.Enqueue(call.entry()))
        if s.call_id in live:  # still on the line after accepting: the place is kept anyway
            out.append(fx.Hangup(s.call_id))
    elif s.answered and agent_leg and other:  # still talking: tracked again
        call.state, call.agent_id, call.seat_id = CallState.BRIDGED, s.agent_id, s.seat_id
        call.agent_leg, call.bridge_id, keep = agent_leg, f"{s.call_id}-b", {agent_leg, other}
        if other == s.call_id:
            call.caller_leg = s.call_id
        else:
            call.callback, call.citizen_leg = True, other
        out += [fx.TrackLeg(other, s.call_id, LegRole.CALLER if other == s.call_id else LegRole.CITIZEN),
                fx.TrackLeg(agent_leg, s.call_id, LegRole.AGENT)]
    elif s.answered or s.call_id not in live:  # one side left while no controller listened
        call.state = CallState.ENDED
        out.append(fx.RecordCall(s.call_id, RecordEvent.ENDED, now, {
            "ended_at": now, "disposition": Disposition.ANSWERED if s.answered else Disposition.ABANDONED}))
        if s.answered:
            out.append(fx.DestroyBridge(f"{s.call_id}-b"))
    else:  # waiting, or an offer was ringing when we went away: back in its place
        call.caller_leg, call.moh, keep = s.call_id, True, {s.call_id}
        out += [fx.TrackLeg(s.call_id, s.call_id, LegRole.CALLER), fx.Enqueue(call.entry()), fx.Moh(s.call_id, True)]
    out += [fx.Hangup(leg) for leg in sorted((mine | ({s.call_id} & set(live))) - keep)
            if not (leg == s.call_id and s.callback_waiting)]
    out += [fx.RecordLegUpdate(leg, ended_at=now, cause="ended during takeover")
            for leg, _ in s.open_legs if leg not in keep]
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


FALLBACK_CONTEXT = "fallback"  # the dialplan context of the app_queue fallback


def stale_feature_channels(channels: Iterable[Mapping[str, Any]], app: str) -> list[str]:
    """Seat phones still in a feature code's confirmation (*21..*24) when the controller that
    answered them went away: the prompt's end, which would have hung them up, was never seen, and
    the seat would look busy on another call for as long as the phone stays off the hook. The
    code's action was applied (or refused) before the prompt; the new controller hangs them up."""
    prefix = f"{app},feature"
    return [str(ch["id"]) for ch in channels
            if (ch.get("dialplan") or {}).get("app_name") == "Stasis"
            and str((ch.get("dialplan") or {}).get("app_data", "")).replace(" ", "").startswith(prefix)
            and ch.get("id")]


def fallback_callers(channels: Iterable[Mapping[str, Any]], known: Collection[str]) -> list[Mapping[str, Any]]:
    """Callers the app_queue fallback holds (waiting or talking) that the record does not know
    yet: to be recorded when the controller comes back, and closed when they hang up. (A seat's
    own channel in the queue runs AppQueue; it is the seat's, not a caller.)"""
    return [ch for ch in channels if (ch.get("dialplan") or {}).get("context") == FALLBACK_CONTEXT
            and (ch.get("dialplan") or {}).get("app_name") != "AppQueue" and ch.get("id") not in known]
