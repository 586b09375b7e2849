"""What other features may use of the recordings (its public surface; import-only): a call's
recorded length and the usual lengths of its agent's calls (the quality checks), its agent, and the
recently recorded calls (the inspectors' sample)."""

from callcenter.recordings.store import call_agent, call_lengths, recent_calls

__all__ = ["call_agent", "call_lengths", "recent_calls"]
