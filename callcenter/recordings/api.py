"""What other features may use of the recordings (its public surface; import-only): a call's
recorded length and the usual lengths of its agent's calls (the quality checks)."""

from callcenter.recordings.store import call_lengths

__all__ = ["call_lengths"]
