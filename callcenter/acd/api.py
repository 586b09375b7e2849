"""What other features may use of the ACD (its public surface; import-only): the read-only view
of the live ACD (`AcdView`, a Protocol) and the value types its members return."""

from callcenter.acd.agents import AgentSlot, AgentState, PauseReason
from callcenter.acd.calls import RINGING, Call, CallState
from callcenter.acd.policy import QueuedCall
from callcenter.acd.shifts import Roster
from callcenter.acd.view import AcdView

__all__ = ["RINGING", "AcdView", "AgentSlot", "AgentState", "Call", "CallState", "PauseReason", "QueuedCall",
           "Roster"]
