"""Who may read a call's transcript (pure).

The route table (callcenter/accounts/model.py `POLICY`) lets agents, supervisors, quality
inspectors and department handlers ask for a transcript at all; the finer rule, per call, is the
calls feature's (`callcenter/calls/access.py`), shared with the recordings.

The ticket-form prefill (the citizen's own words as the ticket description) is for the desk that
files the ticket: the agent of the call, or a supervisor filing for it.
"""

from __future__ import annotations

from callcenter.accounts.api import Role, User
from callcenter.calls.api import CallParties, Wording
from callcenter.calls.api import refusal as call_refusal

__all__ = ["CallParties", "prefill_refusal", "refusal"]

TRANSCRIPT = Wording(agent="an agent reads the transcripts of their own calls only",
                     department="a department reads a transcript only through a ticket of the call that it handles",
                     other="the {role} role does not read call transcripts")


def refusal(user: User, parties: CallParties) -> str | None:
    """Why ``user`` may not read this call's transcript (None: they may)."""
    return call_refusal(user, parties, TRANSCRIPT)


def prefill_refusal(user: User, parties: CallParties) -> str | None:
    """Why ``user`` may not prefill a ticket form from this call (None: they may)."""
    if user.role in (Role.AGENT, Role.SUPERVISOR):
        return refusal(user, parties)
    return "only the desk filing the ticket (the call's agent or a supervisor) prefills it"
