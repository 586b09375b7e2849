"""Who took part in a call, as far as one asking user is concerned (the facts `access.refusal`
decides on), looked up for that user only: was the call bridged to this agent (the call record
names the last agent; an earlier agent of a requeued call has its 'answer <call>' state change),
does a ticket of the call belong to this department (the tickets feature's `tickets_of_calls`,
handed in by app.py). Transcripts and recordings both ask here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from callcenter.accounts.api import Role, User
from callcenter.calls.access import CallParties
from callcenter.calls.records import bridged_to

# the tickets of given calls, one entry per (call, ticket): callcenter.tickets.api.tickets_of_calls
CallTickets = Callable[[Any, list[str]], Awaitable[list[dict[str, Any]]]]


async def call_parties(pool: Any, call_id: str, user: User, tickets: CallTickets) -> CallParties:
    if user.role is Role.AGENT and user.agent_id:
        mine = call_id in await bridged_to(pool, user.agent_id, [call_id])
        return CallParties(agents=frozenset({user.agent_id}) if mine else frozenset())
    if user.role is Role.DEPT and user.department:
        ours = any(t["lead_department"] == user.department or user.department in t["assisting"]
                   for t in await tickets(pool, [call_id]))
        return CallParties(departments=frozenset({user.department}) if ours else frozenset())
    return CallParties()
