"""Pure IVR runner over the real flows, merged lines, and a property test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcenter.ivr.actions import (
    Action,
    CallContext,
    Ended,
    GetDigits,
    Hangup,
    LookupTicket,
    Play,
    Queue,
    SetVars,
    Transfer,
)
from callcenter.ivr.lines import (
    MergedLines,
    MergeMode,
    choose_flow,
    load_merged_lines,
    parse_merged_lines,
)
from callcenter.ivr.loader import load_flows, validate_flow_text
from callcenter.ivr.runner import FlowRunner
from callcenter.ivr.schema import Flow

FLOWS_DIR = Path(__file__).resolve().parents[3] / "ivr_flows"
FLOWS = load_flows(FLOWS_DIR)
LINES = load_merged_lines(FLOWS_DIR / "merged_lines.yaml")
NOW = dt.datetime(2024, 10, 8, 10, 0)


def runner_for(dnis: str = "12345", recent: int = 0, flow: Flow | None = None, **kw: Any) -> FlowRunner:
    name, vars_ = LINES.choose_flow(dnis)
    ctx = CallContext(
        caller="13800000000", dnis=dnis, now=kw.pop("now", NOW), vars=vars_, recent_calls_24h=recent
    )
    return FlowRunner(flow or FLOWS[name], ctx, **kw)


def drive(
    runner: FlowRunner,
    digits: Iterable[Any],
    lookup: Any = "in_progress",
    play: Callable[[Play], Any] = lambda a: "",
) -> tuple[Action, list[Action]]:
    """Answer GetDigits from `digits` in order; Play/SetVars/LookupTicket automatically."""
    todo = list(digits)
    seen: list[Action] = []
    action = runner.start()
    for _ in range(500):
        seen.append(action)
        if action.terminal:
            assert runner.error is None
            return action, seen
        if isinstance(action, GetDigits):
            result = todo.pop(0) if todo else ""
        elif isinstance(action, LookupTicket):
            result = lookup
        elif isinstance(action, Play):
            result = play(action)
        else:
            result = ""
        action = runner.feed(result)
    raise AssertionError("no terminal action")


def prompts(actions: list[Action]) -> list[str | None]:
    return [a.prompt for a in actions if isinstance(a, Play | GetDigits)]


# --------------------------------------------------------------------------- main menu


def test_start_plays_greeting_then_menu() -> None:
    r = runner_for()
    a = r.start()
    assert a == Play("welcome", "0123456789*#")
    assert r.start() is a  # idempotent
    assert r.feed("") == GetDigits("menu_main", 3000, 1)


@pytest.mark.parametrize(
    ("digits", "queue", "extra"),
    [
        (["2", "1"], "market", {"department": "market"}),
        (["2", "2"], "hr_social", {"department": "hr_social"}),
        (["2", "3"], "housing_fund", {"department": "housing_fund"}),
        (["2", "4"], "dialect", {"language": "dialect"}),
        (["0"], "general", {}),
        (["2", "0"], "general", {}),
    ],
)
def test_menu_option_reaches_queue(digits: list[str], queue: str, extra: dict[str, str]) -> None:
    r = runner_for()
    final, seen = drive(r, digits)
    assert isinstance(final, Queue)
    assert final.queue == queue and final.skill == queue
    assert final.priority == 0
    assert "repeat" not in final.vars
    for k, v in extra.items():
        assert final.vars[k] == v
    if extra:
        assert any(isinstance(a, SetVars) for a in seen)
    assert ("main_menu", digits[0]) in r.path
    asked = [a for a in seen if isinstance(a, GetDigits)]
    assert asked[0] == GetDigits("menu_main", 3000, 1)
    if len(digits) > 1:
        assert asked[1:] == [GetDigits("menu_specialist", 3000, 1)] and ("specialist_menu", digits[1]) in r.path


@pytest.mark.parametrize(("digit", "number"), [("1", "110"), ("2", "119"), ("3", "120"), ("4", "122")])
def test_emergency_submenu_transfers_and_never_queues(digit: str, number: str) -> None:
    r = runner_for(recent=3)
    final, seen = drive(r, ["9", digit])
    assert final == Transfer(number, emergency=True)
    assert not any(isinstance(a, Queue) for a in seen)
    assert f"transfer_{number}" in prompts(seen)
    assert r.path[-2:] == [("emergency_menu", digit), (f"transfer_{number}", "")]


def test_emergency_submenu_zero_and_timeouts_reach_an_agent() -> None:
    final, _ = drive(runner_for(), ["9", "0"])
    assert isinstance(final, Queue) and final.queue == "general"
    final, seen = drive(runner_for(), ["9", "", ""])
    assert isinstance(final, Queue) and final.queue == "general"
    assert prompts(seen).count("menu_emergency") == 2  # no input: once more, then a person


def test_digit_pressed_during_greeting_is_type_ahead() -> None:
    r = runner_for()
    r.start()
    a = r.feed("9")  # barge-in on the greeting: the main menu prompt is skipped
    assert a == GetDigits("menu_emergency", 3000, 1)
    assert r.path == [("greeting", "9"), ("main_menu", "9")]
    assert r.feed("1") == Play("transfer_110", "")
    assert r.feed("") == Transfer("110", True)


def test_type_ahead_into_the_specialist_menu() -> None:
    r = runner_for()
    r.start()
    assert r.feed("2") == GetDigits("menu_specialist", 3000, 1)
    assert r.feed("1") == SetVars({"skill": "market", "department": "market"})
    assert r.path == [("greeting", "2"), ("main_menu", "2"), ("specialist_menu", "1")]


def test_no_input_repeats_the_menu_once_then_the_general_queue() -> None:
    r = runner_for()
    final, seen = drive(r, ["", ""])
    assert isinstance(final, Queue) and final.queue == "general"
    assert prompts(seen) == ["welcome", "menu_main", "menu_main"]  # no prompt before the queue
    assert [res for node, res in r.path if node == "main_menu"] == ["", ""]


def test_invalid_digits_replay_then_general_queue() -> None:
    final, seen = drive(runner_for(), ["7", "x"])
    assert isinstance(final, Queue) and final.queue == "general"
    assert prompts(seen).count("input_invalid") == 1
    assert prompts(seen).count("menu_main") == 2


def test_a_digit_during_the_invalid_input_prompt_answers_the_menu() -> None:
    r = runner_for()
    r.start()
    r.feed("")
    assert r.feed("7") == Play("input_invalid", "0123456789*#")  # barge-in on the replay too
    assert r.feed("2") == GetDigits("menu_specialist", 3000, 1)
    assert r.path[-2:] == [("main_menu", "7"), ("main_menu", "2")]
    r = runner_for()
    r.start()
    r.feed("")
    r.feed("7")
    assert r.feed("") == GetDigits("menu_main", 3000, 1)  # played to the end: the menu again


def test_valid_digit_after_a_timeout() -> None:
    final, _ = drive(runner_for(), ["", "2", "3"])
    assert isinstance(final, Queue) and final.queue == "housing_fund"


def test_hangup_mid_menu_ends_with_path() -> None:
    r = runner_for()
    r.start()
    r.feed("")
    r.feed("7")  # invalid
    end = r.feed(None)  # hung up during input_invalid
    assert end == Ended("hangup")
    assert r.done
    assert r.path == [
        ("greeting", ""),
        ("main_menu", "7"),
        ("main_menu", None),
    ]
    assert r.feed("1") is end  # terminal is sticky


def test_hangup_is_accepted_for_any_action() -> None:
    r = runner_for()
    r.start()
    r.feed("")
    r.feed("2")
    r.feed("1")  # -> SetVars
    assert r.feed(None) == Ended("hangup")
    assert r.path[-1] == ("set_market", None)
    assert runner_for().feed(None) == Ended("hangup")  # before start


def test_repeat_caller_gets_priority_and_flag() -> None:
    final, _ = drive(runner_for(recent=2), ["2", "2"])
    assert isinstance(final, Queue)
    assert final.priority == 5
    assert final.vars["repeat"] == "1"
    assert final.vars["department"] == "hr_social"


# --------------------------------------------------------------------------- tickets


def test_ticket_status_then_agent() -> None:
    r = runner_for()
    final, seen = drive(r, ["1", "20210001#", "0"], lookup="in_progress")
    assert LookupTicket("20210001") in seen
    assert GetDigits("ticket_number_input", 10000, 20) in seen
    assert Play("ticket_status_in_progress", "0123456789*#") in seen  # barge-in: 0 at once
    assert isinstance(final, Queue) and final.queue == "general"
    assert final.vars["ticket_number"] == "20210001"
    assert final.vars["ticket_status"] == "in_progress"


def test_zero_during_the_ticket_status_reaches_an_agent() -> None:
    r = runner_for()
    final, _ = drive(r, ["1", "20210001#"], lookup="in_progress",
                     play=lambda a: "0" if a.prompt == "ticket_status_in_progress" else "")
    assert isinstance(final, Queue) and final.queue == "general"
    assert ("ticket_status", "0") in r.path and ("ticket_after", "0") in r.path


def test_ticket_status_then_silence_says_goodbye() -> None:
    final, seen = drive(runner_for(), ["1", "20210001", ""], lookup="resolved")
    assert "ticket_status_resolved" in prompts(seen)
    assert final == Hangup("goodbye")


def test_ticket_unknown_status_uses_default_prompt() -> None:
    _, seen = drive(runner_for(), ["1", "1234", ""], lookup="some-new-state")
    assert "ticket_status_unknown" in prompts(seen)


def test_ticket_not_found_goes_to_agent() -> None:
    final, seen = drive(runner_for(), ["1", "1234"], lookup="")
    assert "ticket_not_found" in prompts(seen)
    assert isinstance(final, Queue) and final.queue == "general"
    assert "ticket_status" not in final.vars


def test_ticket_number_invalid_then_valid() -> None:
    final, seen = drive(runner_for(), ["1", "12", "987654#", "0"])
    assert prompts(seen).count("input_invalid") == 1
    assert LookupTicket("987654") in seen
    assert isinstance(final, Queue)
    final, seen = drive(runner_for(), ["1", "12", "12ab"])  # wrong twice: a person takes over
    assert isinstance(final, Queue) and final.queue == "general" and not any(isinstance(a, LookupTicket) for a in seen)


def test_lookup_none_means_hangup() -> None:
    r = runner_for()
    r.start()
    r.feed("")
    a = r.feed("1")
    assert isinstance(a, GetDigits)
    assert isinstance(r.feed("4321"), LookupTicket)
    assert r.feed(None) == Ended("hangup")


# --------------------------------------------------------------------------- garbage / safety


@pytest.mark.parametrize("garbage", [5, 1.5, b"1", ["1"], {"d": 1}, "\x00", "1" * 10_000, "１", True])
def test_garbage_is_invalid_input(garbage: Any) -> None:
    r = runner_for()
    r.start()
    a = r.feed("")
    assert isinstance(a, GetDigits)
    a = r.feed(garbage)
    assert a == Play("input_invalid", "0123456789*#")
    assert r.error is None
    assert all(res is None or len(res) <= 64 for _, res in r.path)


def test_max_steps_falls_back_to_general_queue() -> None:
    text = """\
name: spin
start: m
nodes:
  m:
    type: menu
    prompt: main_menu
    options: {"1": m, "0": q}
    on_timeout: q
    on_invalid: q
  q: {type: queue, queue: market}
"""
    flow = validate_flow_text(text, "spin.yaml")
    r = runner_for(flow=flow, max_steps=20)
    a = r.start()
    n = 0
    while not a.terminal:
        a = r.feed("1")
        n += 1
    assert n <= 20
    assert isinstance(a, Queue) and a.queue == "general"
    assert a.vars["ivr_fallback"] == "max_steps"


def test_emergency_choice_at_the_step_limit_still_transfers() -> None:
    r = runner_for(max_steps=5)
    final, seen = drive(r, ["9", "1"])
    assert r.steps > 5
    assert final == Transfer("110", emergency=True)
    assert not any(isinstance(a, Queue) for a in seen)
    # a non-emergency choice at the same point falls back to the general queue
    final, _ = drive(runner_for(max_steps=5), ["9", "0"])
    assert isinstance(final, Queue) and final.vars["ivr_fallback"] == "max_steps"


def test_hours_node_uses_official_calendar() -> None:
    text = """\
name: office
start: h
nodes:
  h: {type: hours, open: [["08:30", "12:00"], ["14:00", "17:30"]], next_open: q, next_closed: bye}
  q: {type: queue, queue: market}
  bye: {type: hangup, prompt: goodbye}
"""
    flow = validate_flow_text(text, "office.yaml")

    def outcome(now: dt.datetime) -> Action:
        return runner_for(flow=flow, now=now).start()

    assert isinstance(outcome(dt.datetime(2024, 10, 8, 10, 0)), Queue)  # Tuesday
    assert outcome(dt.datetime(2024, 10, 8, 12, 30)) == Hangup("goodbye")  # lunch
    assert outcome(dt.datetime(2024, 10, 8, 17, 30)) == Hangup("goodbye")
    assert outcome(dt.datetime(2024, 10, 1, 10, 0)) == Hangup("goodbye")  # National Day
    assert isinstance(outcome(dt.datetime(2024, 10, 12, 10, 0)), Queue)  # swapped working Saturday
    assert outcome(dt.datetime(2024, 10, 13, 10, 0)) == Hangup("goodbye")  # Sunday
    utc = dt.datetime(2024, 10, 8, 2, 0, tzinfo=dt.UTC)  # 10:00 in Panzhihua
    assert isinstance(outcome(utc), Queue)
    assert isinstance(outcome(dt.datetime(2099, 3, 3, 9, 0)), Queue)  # outside calendar data: Mon-Fri


# --------------------------------------------------------------------------- merged lines


def test_merged_lines_data() -> None:
    by_number = {line.number: line for line in LINES}
    expected = {
        "12315": ("market", MergeMode.PLATFORM),
        "12329": ("housing_fund", MergeMode.PLATFORM),
        "12333": ("hr_social", MergeMode.PLATFORM),
        "12328": ("transport", MergeMode.PLATFORM),
        "12316": ("agriculture", MergeMode.DIRECT),
        "12336": ("natural_resources", MergeMode.DIRECT),
        "96960": ("efficiency", MergeMode.DIRECT),
        "12360": ("customs", MergeMode.BUSINESS),
        "12301": ("tourism", MergeMode.BUSINESS),
        "12366": ("tax", MergeMode.BUSINESS),
    }
    assert {n: (line.department, line.merge_mode) for n, line in by_number.items()} == expected
    assert LINES.lookup("12315").queue == "market"  # type: ignore[union-attr]
    assert LINES.lookup("0812-12316").queue == "general"  # type: ignore[union-attr]
    assert LINES.lookup("+86 812 12366").external_number == "12366"  # type: ignore[union-attr]
    assert LINES.lookup("12345") is None
    assert LINES.lookup("110") is None
    assert LINES.lookup(None) is None


def test_choose_flow() -> None:
    assert choose_flow(LINES, "12345") == ("main", {"line": "12345"})
    assert LINES.choose_flow("12315") == (
        "merged_line",
        {"department": "market", "skill": "market", "line": "12315"},
    )
    assert LINES.choose_flow("96960") == (
        "merged_line",
        {"department": "efficiency", "skill": "general", "line": "96960"},
    )
    name, vars_ = LINES.choose_flow("12360")
    assert name == "business_line" and vars_["external_number"] == "12360"


@pytest.mark.parametrize(
    ("dnis", "queue", "department"),
    [
        ("12315", "market", "market"),
        ("12328", "transport", "transport"),
        ("12336", "general", "natural_resources"),
    ],
)
def test_merged_line_flow_queues_with_department(dnis: str, queue: str, department: str) -> None:
    final, seen = drive(runner_for(dnis), [])
    assert prompts(seen)[0] == "merged_line_welcome"
    assert isinstance(final, Queue)
    assert (final.queue, final.skill) == (queue, queue)
    assert final.vars["department"] == department
    assert final.vars["line"] == dnis


def test_business_line_hands_over() -> None:
    final, seen = drive(runner_for("12366"), [""])
    assert final == Transfer("12366", emergency=False)
    assert "business_handover" in prompts(seen)
    final, _ = drive(runner_for("12301"), ["1"])
    assert final == Transfer("12301", emergency=False)
    final, _ = drive(runner_for("12360", recent=1), ["0"])
    assert isinstance(final, Queue) and final.queue == "general" and final.priority == 5


def test_business_line_without_number_falls_back_to_agent() -> None:
    ctx = CallContext(caller="1", dnis="x", now=NOW, vars={})
    r = FlowRunner(FLOWS["business_line"], ctx)
    r.start()
    a = r.feed("1")
    assert isinstance(a, Queue) and a.queue == "general"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('{number: "110", department: police, name: x, merge_mode: direct}', "emergency line 110"),
        ('{number: "120", department: health, name: x, merge_mode: platform, queue: general}', "emergency"),
        (
            '{number: "12399", department: x, name: x, merge_mode: business, external_number: "119"}',
            "emergency",
        ),
        ('{number: "12399", department: x, name: x, merge_mode: business}', "external_number"),
        ('{number: "12399", department: x, name: x, merge_mode: platform}', "needs a queue"),
        ('{number: "12399", department: x, name: x, merge_mode: platform, queue: nope}', "unknown queue"),
        ('{number: "12399", department: x, name: x, merge_mode: fancy}', "merge_mode"),
    ],
)
def test_merged_lines_loader_rejects(entry: str, message: str) -> None:
    text = f"lines:\n  - {{number: '12315', department: market, name: m, merge_mode: platform, queue: market}}\n  - {entry}\n"
    with pytest.raises(ValueError, match=message) as exc:
        parse_merged_lines(text, "ml.yaml")
    assert str(exc.value).startswith("ml.yaml:3: entry 2")


def test_merged_lines_duplicate_number() -> None:
    line = "  - {number: '12315', department: market, name: m, merge_mode: platform, queue: market}\n"
    with pytest.raises(ValueError, match="12315 listed twice"):
        parse_merged_lines("lines:\n" + line + line)
    assert len(MergedLines([])) == 0


# --------------------------------------------------------------------------- property


_results = st.one_of(
    st.sampled_from(["", "0", "1", "2", "3", "4", "5", "8", "9", "*", "#", "1234#", "20210001"]),
    st.text(max_size=30),
    st.text(alphabet="0123456789*#", max_size=25),
    st.none(),
    st.integers(),
    st.binary(max_size=4),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dnis=st.sampled_from(["12345", "12315", "12316", "12366", "0812-12345", "garbage"]),
    recent=st.one_of(st.integers(min_value=-1, max_value=5), st.none()),
    max_steps=st.sampled_from([200, 30, 5]),
    data=st.data(),
)
def test_any_results_end_in_a_terminal_action(dnis: str, recent: Any, max_steps: int, data: Any) -> None:
    name, vars_ = LINES.choose_flow(dnis)
    flow = FLOWS[name]
    ctx = CallContext(caller="13800000000", dnis=dnis, now=NOW, vars=vars_, recent_calls_24h=recent)
    r = FlowRunner(flow, ctx, max_steps=max_steps)
    action = r.start()
    feeds = 0
    while not action.terminal:
        assert isinstance(action, Play | GetDigits | LookupTicket | SetVars)
        action = r.feed(data.draw(_results))
        feeds += 1
        assert feeds <= max_steps + 2  # +2 only for an emergency choice made at the limit
    assert isinstance(action, Transfer | Hangup | Queue | Ended)
    if feeds > max_steps:
        assert isinstance(action, Transfer | Ended)
    assert r.error is None
    assert r.feed("1") is action
    # emergency choices never end in a queue
    emergency = [res for node, res in r.path if node == "emergency_menu"]
    if emergency and emergency[-1] in ("1", "2", "3", "4") and not isinstance(action, Ended):
        assert isinstance(action, Transfer) and action.emergency
    if isinstance(action, Transfer) and action.number in ("110", "119", "120", "122"):
        assert action.emergency
    if isinstance(action, Queue) and isinstance(recent, int) and recent > 0:
        assert action.priority == 5 and action.vars["repeat"] == "1"
