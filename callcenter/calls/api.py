"""What other features may use of the calls feature (its public surface; import-only): the call
records (one row per call, its legs, each write with its MQTT event), who talked to a call and
which call an agent is on now, and who may take in what a call's parties said."""

from callcenter.calls.access import CallParties, Wording, refusal
from callcenter.calls.parties import CallTickets, call_parties
from callcenter.calls.records import CallRecords, bridged_to, live_calls_of

__all__ = ["CallParties", "CallRecords", "CallTickets", "Wording", "bridged_to", "call_parties", "live_calls_of",
           "refusal"]
