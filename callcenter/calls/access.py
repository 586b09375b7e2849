"""Who may take in what a call's parties said, as its transcript or its recording (pure).

One rule for both (the issue's "the same rule as transcripts"):

- the hall (supervisors) and quality inspectors (质检员): any call;
- an agent: the calls bridged to them (their own), nobody else's;
- a department handler: only through a ticket of the call that their department leads or
  assists (as they see tickets: never another department's);
- nobody else (admins manage accounts, not conversations).

What differs between a transcript and a recording is only how a refusal is worded
(:class:`Wording`).
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.accounts.api import Role, User


@dataclass(frozen=True)
class CallParties:
    """What the record says about one call, for one asking user."""

    agents: frozenset[str] = frozenset()       # agents the call was bridged to
    departments: frozenset[str] = frozenset()  # departments leading or assisting a ticket of the call


@dataclass(frozen=True)
class Wording:
    """The reasons given to each role refused (``other`` is formatted with the role's name)."""

    agent: str
    department: str
    other: str


def refusal(user: User, parties: CallParties, wording: Wording) -> str | None:
    """Why ``user`` may not take in this call (None: they may)."""
    if user.disabled:
        return "this account is disabled"
    if user.role in (Role.SUPERVISOR, Role.QA):
        return None
    if user.role is Role.AGENT:
        return None if user.agent_id in parties.agents else wording.agent
    if user.role is Role.DEPT:
        return None if user.department in parties.departments else wording.department
    return wording.other.format(role=user.role.value)
