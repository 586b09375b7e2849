"""The IVR limits (callcenter/ivr/limits.py): prompt lengths, the silent caller's path, levels,
options, "转人工请按0" first and barge-in, on the shipped flows and on flows that break them.
Durations are given here (the sandbox test and `ivr check` measure the rendered audio)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.ivr.limits import IvrLimits, check_flow, greeting_seconds, menu_levels, silent_path
from callcenter.ivr.loader import load_flows, load_prompts, validate_flow_text

FLOWS_DIR = Path(__file__).resolve().parents[3] / "ivr_flows"
FLOWS = load_flows(FLOWS_DIR)
TEXTS = load_prompts(FLOWS_DIR / "prompts" / "zh.yaml")
LIMITS = IvrLimits()


def seconds(**given: float) -> dict[str, float]:
    """Every shipped prompt lasts 4 s unless given."""
    return {name: 4.0 for name in TEXTS} | given


def test_the_silent_caller_hears_greeting_and_menu_twice_then_queues() -> None:
    # the longer of: no incident (greeting, menu twice), or an incident announced (its 6 s budget
    # + 1 s wait instead of the greeting, the recording notice, the menu once)
    path = silent_path(FLOWS["main"], seconds(welcome=5.0, menu_main=8.5, recording_notice=2.5))
    assert [n for n, _ in path.steps] == ["incident_offer", "greeting", "main_menu", "agent_general"]
    assert (path.end, path.end_node) == ("queue", "agent_general")
    assert path.seconds == pytest.approx(5.0 + 2 * (8.5 + 3))  # menu, 3 s wait, once more; no prompt
    assert path.seconds <= LIMITS.no_input_s
    announced = silent_path(FLOWS["main"], seconds(welcome=0.5, welcome_recorded=0.5, menu_main=5.0,
                                                  recording_notice=2.5))
    assert [n for n, _ in announced.steps] == ["incident_offer", "incident_notice", "main_menu_once",
                                               "agent_general"]
    assert announced.seconds == pytest.approx(6 + 1 + 2.5 + (5.0 + 3))
    longer_greeting = silent_path(FLOWS["main"], seconds(welcome=7.5, menu_main=8.5))
    assert [n for n, _ in longer_greeting.steps] == ["incident_offer", "greeting", "main_menu", "agent_general"]
    assert longer_greeting.seconds == pytest.approx(7.5 + 2 * (8.5 + 3))


def test_the_shipped_flows_keep_every_limit() -> None:
    durations = seconds(welcome=5.0, menu_main=8.5, menu_specialist=10.6, menu_emergency=9.0)
    for flow in FLOWS.values():
        timing = check_flow(flow, durations, LIMITS, TEXTS)
        assert timing.breaches == [], flow.name
        assert timing.silent.end in ("queue", "transfer")
    assert menu_levels(FLOWS["main"]) == 2
    assert greeting_seconds(FLOWS["main"], durations) == 5.0
    assert greeting_seconds(FLOWS["business_line"], durations) == 0.0  # a menu straight away
    for name, text in TEXTS.items():
        if name.startswith("menu_"):
            assert text.startswith("转人工请按0"), name


def test_long_prompts_and_a_slow_silent_path_are_breaches() -> None:
    timing = check_flow(FLOWS["main"], seconds(welcome=9.0, menu_main=16.0), LIMITS, TEXTS)
    messages = [(b.node, b.message) for b in timing.breaches]
    assert ("greeting", "greeting lasts 9.0 s (limit 8 s)") in messages
    assert ("main_menu", "menu prompt 'menu_main' lasts 16.0 s (limit 15 s)") in messages
    assert ("agent_general", "a caller who presses nothing reaches the queue after 47.0 s (limit 30 s)") in messages
    # the same flow passes limits set wider in settings
    wide = IvrLimits(greeting_s=10, menu_s=20, no_input_s=50)
    assert check_flow(FLOWS["main"], seconds(welcome=9.0, menu_main=16.0), wide, TEXTS).breaches == []


BAD = """\
name: bad
start: hello
nodes:
  hello: {type: play, prompt: hello, next: m1}
  m1:
    type: menu
    prompt: m1
    retries: 2
    timeout_prompt: again
    options: {"1": m2, "2": q, "3": q, "4": q, "5": q, "6": q}
    on_timeout: bye
    on_invalid: q
  m2:
    type: menu
    prompt: m2
    retries: 1
    interruptible: false
    options: {"1": m3, "0": q}
    on_timeout: q
    on_invalid: q
  m3:
    type: menu
    prompt: m3
    retries: 1
    options: {"1": m4, "0": q}
    on_timeout: q
    on_invalid: q
  m4: {type: menu, prompt: m3, retries: 0, options: {"1": q, "0": q}, on_timeout: q, on_invalid: q}
  q: {type: queue, queue: general}
  bye: {type: hangup}
"""


def test_a_flow_that_breaks_the_shape_rules_names_each_breach() -> None:
    flow = validate_flow_text(BAD, "bad.yaml")
    texts = {"m2": "人工服务请按0", "m3": "转人工请按0 其他按1"}
    timing = check_flow(flow, {"hello": 1, "m1": 1, "m2": 1, "m3": 1}, LIMITS, texts)
    got = {(b.node, b.message) for b in timing.breaches}
    assert got == {
        (None, "prompt 'again' has no rendered audio to measure"),
        (None, "4 menu levels (limit 3)"),
        ("m1", "6 options (limit 5)"),
        ("m1", "repeats 2 times without input (limit 1)"),
        ("hello", "prompt 'hello' before a choice is not interruptible (barge-in): set interruptible: true"),
        ("m2", "menu does not take digits during its prompt (barge-in)"),
        ("m2", "menu prompt 'm2' does not say '转人工请按0' first"),
        ("bye", "a caller who presses nothing ends in 'hangup', not in a queue"),
    }


def test_an_hours_branch_counts_its_longer_side_and_a_loop_is_no_queue() -> None:
    text = """\
name: hrs
start: h
nodes:
  h: {type: hours, open: [["08:00", "18:00"]], next_open: q, next_closed: closed}
  closed: {type: play, prompt: closed, next: q}
  q: {type: queue, queue: general, prompt: wait}
"""
    path = silent_path(validate_flow_text(text, "hrs.yaml"), {"closed": 6.0, "wait": 1.5})
    assert path.seconds == 7.5 and path.end == "queue"
    loop = validate_flow_text(
        "name: l\nstart: m\nnodes:\n  m: {type: menu, prompt: p, options: {'0': q}, on_timeout: m,"
        " on_invalid: q}\n  q: {type: queue, queue: general}\n", "l.yaml")
    assert silent_path(loop, {"p": 2.0}).end == "loop"


def test_limits_come_from_settings() -> None:
    from callcenter.infra.settings import Settings

    limits = IvrLimits.from_settings(Settings(ivr_max_no_input_s=25, ivr_agent_phrase="人工请按0"))
    assert (limits.no_input_s, limits.greeting_s, limits.menu_s, limits.agent_phrase) == (25, 8, 15, "人工请按0")
    assert (limits.menu_levels, limits.menu_options, limits.menu_repeats) == (3, 5, 1)
