"""The ACD tells every feature that follows a bridged call's media (live transcription, call
recording) the same three things; `CallTaps` hands each to all of them, so the executor and
the resync keep talking to one `Transcriber`. One follower failing never stops the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from callcenter.acd.service import Transcriber
from callcenter.acd.supervise import VoiceRecorder
from callcenter.infra.logging import get_logger

log = get_logger("acd")


class CallRecorder(Transcriber, VoiceRecorder, Protocol):
    """Call recording follows the bridged calls as transcription does, and hears supervisors too."""


class CallTaps:
    def __init__(self, followers: list[Callable[[], Transcriber | None]]) -> None:
        self.followers = followers

    def _live(self) -> list[Transcriber]:
        return [f for get in self.followers if (f := get()) is not None]

    def call_bridged(self, call_id: str, caller_channel: str, agent_channel: str, *, line: str = "") -> None:
        for f in self._live():
            f.call_bridged(call_id, caller_channel, agent_channel, line=line)

    def call_ended(self, call_id: str) -> None:
        for f in self._live():
            f.call_ended(call_id)

    async def audit(self, live_call_ids: list[str]) -> list[str]:
        removed: list[str] = []
        for f in self._live():
            try:
                removed += await f.audit(live_call_ids)
            except Exception as exc:  # noqa: BLE001 - a follower never holds up the calls
                log.warning("call_tap_audit_failed", follower=type(f).__name__, error=str(exc))
        return removed
