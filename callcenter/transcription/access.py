"""Who may read what a call's parties said (pure).

The route table (callcenter/accounts/model.py `POLICY`) lets agents, supervisors and department
handlers ask for a transcript at all; this is the finer rule, per call:

- an agent reads the transcript of the calls bridged to them (their own calls), nobody else's;
- a supervisor or a quality inspector (质检员) reads any (the hall, listen-in, quality checks);
- a department handler reads it only through a ticket filed from the call that their
  department leads or assists (as they see tickets: never another department's);
- nobody else (admins manage accounts, not conversations).

The ticket-form prefill (the citizen's own words as the ticket description) is for the desk that
files the ticket: the agent of the call, or a supervisor filing for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.accounts.api import Role, User


@dataclass(frozen=True)
class CallParties:
    """What the store says about one call, for one asking user."""

    agents: frozenset[str] = frozenset()       # agents the call was bridged to
    departments: frozenset[str] = frozenset()  # departments leading or assisting a ticket of the call


def refusal(user: User, parties: CallParties) -> str | None:
    """Why ``user`` may not read this call's transcript (None: they may)."""
    if user.disabled:
        return "this account is disabled"
    if user.role in (Role.SUPERVISOR, Role.QA):
        return None
    if user.role is Role.AGENT:
        return None if user.agent_id in parties.agents else "an agent reads the transcripts of their own calls only"
    if user.role is Role.DEPT:
        return None if user.department in parties.departments else \
            "a department reads a transcript only through a ticket of the call that it handles"
    return f"the {user.role.value} role does not read call transcripts"


def prefill_refusal(user: User, parties: CallParties) -> str | None:
    """Why ``user`` may not prefill a ticket form from this call (None: they may)."""
    if user.role in (Role.AGENT, Role.SUPERVISOR):
        return refusal(user, parties)
    return "only the desk filing the ticket (the call's agent or a supervisor) prefills it"
