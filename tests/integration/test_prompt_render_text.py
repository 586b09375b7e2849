"""The text of a prompt reaches espeak-ng as words to speak, never as its options: a supervisor
edits incident announcements, and ``-f<path>`` would have espeak-ng speak a server file (here a
long "secret") to the callers. Real espeak-ng and sox."""

from __future__ import annotations

import shutil

import pytest

from callcenter.infra.prompt_audio import audio_seconds
from callcenter.infra.prompts import render_named, render_prompt

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def test_a_text_that_looks_like_an_option_is_spoken_not_obeyed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("机密内容" * 40, encoding="utf-8")
    render_prompt(secret.read_text(encoding="utf-8"), tmp_path / "secret.wav")
    render_prompt(f"-f{secret}", tmp_path / "said.wav")  # spoken as it is written: a short path
    assert audio_seconds(tmp_path / "said.wav") < audio_seconds(tmp_path / "secret.wav") / 3
    render_prompt("--version", tmp_path / "version.wav")
    assert audio_seconds(tmp_path / "version.wav") > 0


def test_a_rendered_prompt_stays_in_its_directory(tmp_path):
    target = tmp_path / "sounds"
    assert render_named("停水", "incident_0123456789abcdef", target)
    assert [p.name for p in target.iterdir()] == ["incident_0123456789abcdef.wav"]
    with pytest.raises(ValueError):
        render_named("停水", "../escaped", target)
    assert not (tmp_path / "escaped.wav").exists()
