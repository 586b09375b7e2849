"""What other features may use of the calls feature (its public surface; import-only): the call
records (one row per call, its legs, each write with its MQTT event), who talked to a call and
which call an agent is on now."""

from callcenter.calls.records import CallRecords, bridged_to, live_calls_of

__all__ = ["CallRecords", "bridged_to", "live_calls_of"]
