"""What other features may use of the calls feature (its public surface; import-only): the call
records (one row per call, its legs, each write with its MQTT event) and who talked to a call."""

from callcenter.calls.records import CallRecords, bridged_to

__all__ = ["CallRecords", "bridged_to"]
