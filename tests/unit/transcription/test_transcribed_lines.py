"""Which lines are transcribed is decided once, by the settings (`Settings.transcribes`): the IVR's
recording notice and the transcription service's refusal to tap a call read the same answer, so
a line never hears "your call may be recorded" without being transcribed, or the reverse."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callcenter.infra.settings import Settings
from callcenter.transcription.plugin import config
from callcenter.transcription.service import TranscriptionService


def test_a_line_is_transcribed_when_transcription_is_on_and_the_line_allows_it():
    on = Settings(env="test", transcription_enabled=True, transcription_off_lines=["12329"])
    assert on.transcribes("12345") and on.transcribes("12315")
    assert on.transcribes("")  # the line is not known: the hotline's default
    assert not on.transcribes("12329")  # a department that forbids it
    off = Settings(env="test", transcription_enabled=False)
    assert not off.transcribes("12345") and not off.transcribes("")


@dataclass
class _Statuses:
    """What the desk is told about each call's transcript."""

    said: list[tuple[str, bool, str]] = field(default_factory=list)

    async def utterance(self, u: object) -> None:
        raise AssertionError("no call here is transcribed")

    async def status(self, call_id: str, available: bool, reason: str = "") -> None:
        self.said.append((call_id, available, reason))


@pytest.mark.parametrize("enabled,line", [(True, "12329"), (True, "12345"), (False, "12345")])
async def test_the_service_refuses_exactly_the_lines_the_settings_do_not_transcribe(tmp_path: Path, enabled, line):
    settings = Settings(env="test", transcription_enabled=enabled, transcription_off_lines=["12329"],
                        transcription_rtp_port=0, transcription_workers=1, transcription_spool_dir=tmp_path,
                        vosk_model=tmp_path / "no-model")
    told = _Statuses()
    svc = TranscriptionService(config(settings), None, told)  # type: ignore[arg-type]
    try:
        await svc.start()  # no model here: a line it would transcribe gets "unavailable", not "off"
        assert await svc.begin("c-1", "chan-a", "chan-b", line=line) is False
        (_, available, reason), = told.said
        assert available is False
        assert ("off for line" in reason) == (enabled and not settings.transcribes(line))
        assert ("switched off" in reason) == (not enabled)
        assert ("no Vosk model" in reason) == settings.transcribes(line)
    finally:
        await svc.stop()
