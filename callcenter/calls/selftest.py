"""The self-test call: `Stasis(callcenter,selftest)` answers, plays a prompt and hangs up.

`callcenter doctor` and the harness test use it to prove ARI, sounds, PostgreSQL and MQTT
work together end to end.
"""

from __future__ import annotations

from datetime import UTC, datetime

from callcenter.calls.records import CallRecords
from callcenter.infra.ari import AriClient, AriEvent
from callcenter.infra.logging import get_logger

log = get_logger("selftest")


class SelfTest:
    EVENTS = frozenset({"StasisStart", "PlaybackFinished"})

    def __init__(self, ari: AriClient, records: CallRecords):
        self.ari = ari
        self.records = records
        self._playbacks: dict[str, str] = {}

    async def on_event(self, event: AriEvent) -> None:
        if event.type == "StasisStart" and event.args[:1] == ["selftest"]:
            await self.start(event)
        elif event.type == "PlaybackFinished":
            await self.playback_finished(event)

    async def start(self, event: AriEvent) -> None:
        ch = event.channel or {}
        call_id = ch["id"]
        now = datetime.now(UTC)
        await self.records.call_started(call_id, caller=ch.get("caller", {}).get("number", ""),
                                        dnis="selftest", at=now)
        await self.ari.post(f"/channels/{call_id}/answer")
        playback = await self.ari.post(f"/channels/{call_id}/play", media="sound:callcenter/selftest")
        self._playbacks[playback["id"]] = call_id
        log.info("selftest_started", call_id=call_id)

    async def playback_finished(self, event: AriEvent) -> bool:
        call_id = self._playbacks.pop(event.raw.get("playback", {}).get("id", ""), None)
        if call_id is None:
            return False
        await self.records.update(call_id, "ended", at=datetime.now(UTC), ended_at=datetime.now(UTC),
                                  disposition="selftest_ok")
        await self.ari.safe(self.ari.delete(f"/channels/{call_id}"))
        log.info("selftest_done", call_id=call_id)
        return True
