"""A call's states in the ACD (`callcenter.acd.calls.Call` moves a call between them).

States, and the events that move a call on (any other event leaves it where it is)::

    QUEUED            offer -> OFFERING; caller hangs up -> ENDED (abandoned);
                      1 pressed after the callback offer -> CALLBACK_WAIT
    OFFERING          agent answers -> BRIDGED; rang out or refused -> QUEUED (same place in
                      line); caller hangs up -> ENDED (abandoned)
    (just answered)   the bridge refuses a leg that just vanished -> as if it had gone before
    BRIDGED           caller, agent or called-back citizen hangs up -> ENDED (answered; agent
                      first with the rating on: the caller goes to the rating, not hung up)
    CALLBACK_WAIT     offer -> CALLBACK_AGENT (the caller's hang-up changes nothing)
    CALLBACK_AGENT    agent answers -> CALLBACK_DIALING; rang out or refused -> CALLBACK_WAIT
    CALLBACK_DIALING  citizen answers -> BRIDGED; citizen does not, or the agent hangs up while
                      the citizen's phone rings (the citizen's leg is hung up) -> CALLBACK_PARKED,
                      or ENDED (callback_failed) after the last attempt
    CALLBACK_PARKED   retry due -> CALLBACK_WAIT

"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from callcenter.acd.effects import Effect


class CallState(StrEnum):
    QUEUED = "queued"  # in the book, the caller hears music and announcements
    OFFERING = "offering"  # an agent's phone rings (music for the caller after a second)
    BRIDGED = "bridged"  # caller (or called-back citizen) and agent talk
    CALLBACK_WAIT = "callback_wait"  # accepted a callback: keeps its place in the book, caller gone
    CALLBACK_AGENT = "callback_agent"  # callback at the head: the agent's phone rings first
    CALLBACK_DIALING = "callback_dialing"  # the agent answered; the citizen is being called
    CALLBACK_PARKED = "callback_parked"  # the citizen did not answer: out of the book until retry_at
    ENDED = "ended"


WAITING = frozenset({CallState.QUEUED, CallState.CALLBACK_WAIT})  # in the queue book
RINGING = frozenset({CallState.OFFERING, CallState.CALLBACK_AGENT})  # an agent's leg rings
WITH_AGENT = RINGING | {CallState.CALLBACK_DIALING, CallState.BRIDGED}  # an agent is taken by it


@dataclass(frozen=True, slots=True)
class Step:
    state: CallState
    effects: tuple[Effect, ...] = ()
