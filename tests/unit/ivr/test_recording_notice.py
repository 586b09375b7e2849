"""The recording notice: on a line that records (`Settings.records`, the setting the recorder
reads too), the greeting of its flow says "您的通话可能会被录音" (a variant of the welcome, chosen by
the `recording` call variable that `IvrService.prepare` sets); a line that forbids recording, or
recording switched off, keeps the plain welcome."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from callcenter.infra.prompts import prompt_texts
from callcenter.infra.settings import Settings
from callcenter.infra.web import Provided
from callcenter.ivr.actions import CallContext, GetDigits, Play, Queue
from callcenter.ivr.loader import load_flows
from callcenter.ivr.runner import FlowRunner
from callcenter.ivr.service import RECORDING_VAR, FlowRegistry, IvrService

FLOWS_DIR = Path(__file__).resolve().parents[3] / "ivr_flows"
FLOWS = load_flows(FLOWS_DIR)
DIGITS = "0123456789*#"
NOW = dt.datetime(2024, 10, 8, 10, 0)


def first_prompt(flow: str, **vars_: str) -> Play:
    runner = FlowRunner(FLOWS[flow], CallContext(caller="13800000000", dnis="12345", now=NOW, vars=vars_))
    action = runner.start()
    assert isinstance(action, Play)
    return action


def test_the_welcome_variants_say_the_call_may_be_recorded():
    texts = prompt_texts()
    for name in ("welcome_recorded", "merged_line_welcome_recorded"):
        assert "您的通话可能会被录音" in texts[name]
    assert "录音" not in texts["welcome"] and "录音" not in texts["merged_line_welcome"]


def test_the_greeting_plays_the_notice_only_when_the_call_is_transcribed():
    assert first_prompt("main", line="12345", recording="on") == Play("welcome_recorded", DIGITS)
    assert first_prompt("main", line="12345") == Play("welcome", DIGITS)
    assert first_prompt("merged_line", line="12315", recording="on").prompt == "merged_line_welcome_recorded"
    assert first_prompt("merged_line", line="12315").prompt == "merged_line_welcome"


def test_a_digit_during_the_notice_answers_the_main_menu():
    runner = FlowRunner(FLOWS["main"], CallContext(caller="13800000000", dnis="12345", now=NOW,
                                                   vars={"line": "12345", RECORDING_VAR: "on"}))
    runner.start()
    action = runner.feed("0")  # pressed during the greeting: the menu takes it
    while not action.terminal:
        action = runner.feed("0" if isinstance(action, GetDigits) else "")
    assert isinstance(action, Queue) and action.queue == "general"


def test_which_lines_are_transcribed():  # the rule itself: tests/unit/transcription/test_transcribed_lines.py
    on = Settings(env="test", transcription_enabled=True, transcription_off_lines=["12329"])
    assert on.transcribes("12345") and on.transcribes("12315")
    assert not on.transcribes("12329")  # a department that forbids it
    assert not Settings(env="test", transcription_enabled=False).transcribes("12345")


class _Repo:
    async def check_blocked(self, caller: str, now: Any) -> bool:
        return False

    async def recent_paths(self, caller: str, since: Any) -> int:
        return 0


class _Records:
    async def recent_calls(self, caller: str, since: Any) -> int:
        return 0


async def test_prepare_sets_the_recording_variable_by_line():
    registry = FlowRegistry(FLOWS_DIR)
    registry.load()
    service = IvrService(registry, _Repo(), _Records(), Provided("tickets"),  # type: ignore[arg-type]
                         recorded=Settings(env="test", recording_off_lines=["12329"]).records)
    env = {"agi_uniqueid": "u-1", "agi_callerid": "13800000000"}
    main = await service.prepare(env | {"agi_arg_1": "12345"})
    assert main.flow_name == "main" and main.context.vars[RECORDING_VAR] == "on"
    merged = await service.prepare(env | {"agi_arg_1": "12315"})
    assert merged.flow_name == "merged_line" and merged.context.vars[RECORDING_VAR] == "on"
    off = await service.prepare(env | {"agi_arg_1": "12329"})
    assert RECORDING_VAR not in off.context.vars
