"""Flow schema and validator: the broken flows in broken/ and the real flows in ivr_flows/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callcenter.ivr.issues import FlowError, Issue
from callcenter.ivr.loader import load_flow, load_flows, load_prompts, validate_flow_text
from callcenter.ivr.schema import HoursNode, MenuNode

ROOT = Path(__file__).resolve().parents[3]
FLOWS = ROOT / "ivr_flows"
BROKEN = Path(__file__).resolve().parent / "broken"
SHIPPED_PROMPTS = set(load_prompts(FLOWS / "prompts" / "zh.yaml"))
# the broken flows are about their own faults: their prompt names count as existing
PROMPTS = SHIPPED_PROMPTS | {"greeting", "emergency_notice", "main_menu", "emergency_menu"}

_EXPECT = re.compile(r"#\s*EXPECT:\s*(\S+)\s*\|\s*(.+?)\s*$")


def _expectation(path: Path) -> tuple[str | None, int, str]:
    """The broken file marks the offending line with `# EXPECT: <node or -> | <message part>`."""
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = _EXPECT.search(line)
        if m:
            node = None if m.group(1) == "-" else m.group(1)
            return node, no, m.group(2)
    raise AssertionError(f"{path.name} has no EXPECT marker")


BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))


def test_there_is_one_broken_file_per_error_kind() -> None:
    names = {p.stem for p in BROKEN_FILES}
    assert {
        "yaml_syntax",
        "unknown_type",
        "missing_field",
        "unknown_next",
        "unreachable",
        "loop_without_input",
        "missing_prompt",
        "duplicate_digit",
        "invalid_digit",
        "no_terminal",
        "menu_depth",
        "no_zero_to_agent",
    } <= names


@pytest.mark.parametrize("path", BROKEN_FILES, ids=[p.stem for p in BROKEN_FILES])
def test_broken_flow_names_node_and_line(path: Path) -> None:
    node, line, fragment = _expectation(path)
    with pytest.raises(FlowError) as exc:
        load_flow(path, PROMPTS)
    issues = exc.value.issues
    assert len(issues) == 1, str(exc.value)
    issue = issues[0]
    assert issue.node == node
    assert issue.line == line
    assert fragment in issue.message
    assert issue.file == str(path)
    text = str(exc.value)
    assert f"{path}:{line}:" in text
    if node is not None:
        assert f"node '{node}'" in text
    assert "\n" not in text


def test_flow_error_is_value_error_with_one_line_per_issue() -> None:
    text = """\
name: several
start: a
nodes:
  a:
    type: play
    prompt: nope
    next: b
  b:
    type: queue
    queue: general
  c:
    type: hangup
"""
    with pytest.raises(ValueError) as exc:
        validate_flow_text(text, "several.yaml", PROMPTS)
    assert isinstance(exc.value, FlowError)
    lines = str(exc.value).splitlines()
    assert len(lines) == 2
    assert lines[0] == "several.yaml:6: node 'a': prompt: missing prompt 'nope'"
    assert lines[1] == "several.yaml:11: node 'c': node is unreachable from start 'a'"
    assert exc.value.issues[1] == Issue("several.yaml", "c", 11, "node is unreachable from start 'a'")


def test_prompt_check_accepts_rendered_audio_file(tmp_path: Path) -> None:
    (tmp_path / "special.wav").write_bytes(b"RIFF")
    text = "name: t\nstart: a\nnodes:\n  a: {type: hangup, prompt: special}\n"
    validate_flow_text(text, "t.yaml", set(), prompt_dir=tmp_path)
    with pytest.raises(FlowError, match="missing prompt 'special'"):
        validate_flow_text(text, "t.yaml", set())
    # no prompt source given: prompts are not checked
    validate_flow_text(text, "t.yaml")


def test_missing_start_node_and_top_level_field() -> None:
    with pytest.raises(FlowError, match=r"t.yaml:2: start refers to unknown node 'zz'"):
        validate_flow_text("name: t\nstart: zz\nnodes:\n  a: {type: hangup}\n", "t.yaml")
    with pytest.raises(FlowError, match=r"t.yaml:1: missing field 'start'"):
        validate_flow_text("name: t\nnodes:\n  a: {type: hangup}\n", "t.yaml")
    with pytest.raises(FlowError, match=r"must be a YAML mapping"):
        validate_flow_text("- a\n- b\n", "t.yaml")


def test_field_value_errors_point_at_the_field() -> None:
    text = """\
name: t
start: h
nodes:
  h:
    type: hours
    open: [["08:30", "25:00"]]
    next_open: q
    next_closed: q
  q:
    type: queue
    queue: "${skill"
"""
    with pytest.raises(FlowError) as exc:
        validate_flow_text(text, "t.yaml")
    got = {(i.node, i.line) for i in exc.value.issues}
    assert got == {("h", 6), ("q", 11)}


def test_star_and_hash_digits_are_valid_when_quoted() -> None:
    text = """\
name: t
start: m
nodes:
  m:
    type: menu
    prompt: main_menu
    options: {"*": q, "#": q, "0": q}
    on_timeout: q
    on_invalid: q
  q: {type: queue, queue: general}
"""
    flow = validate_flow_text(text, "t.yaml", PROMPTS)
    menu = flow.nodes["m"]
    assert isinstance(menu, MenuNode)
    assert set(menu.options) == {"*", "#", "0"}


def test_hours_node_schema() -> None:
    text = """\
name: t
start: h
nodes:
  h: {type: hours, open: [["08:30", "12:00"], ["14:00", "17:30"]], next_open: q, next_closed: bye}
  q: {type: queue, queue: general}
  bye: {type: hangup}
"""
    node = validate_flow_text(text, "t.yaml").nodes["h"]
    assert isinstance(node, HoursNode)
    assert node.open == [("08:30", "12:00"), ("14:00", "17:30")]
    assert node.days == "workdays"


def test_real_flows_validate_with_prompts() -> None:
    flows = load_flows(FLOWS)
    assert set(flows) == {"main", "merged_line", "business_line"}
    for name in ("main", "merged_line", "business_line"):
        flow = load_flow(FLOWS / f"{name}.yaml", PROMPTS)
        assert flow.name == name
        assert flow.require_zero_to_agent
    assert flows["main"].max_menu_depth == 2


def test_every_prompt_text_is_used_and_every_used_prompt_has_text() -> None:
    used: set[str] = set()
    for flow in load_flows(FLOWS).values():
        for node in flow.nodes.values():
            used.update(p for _, p in node.prompt_refs())
    assert used == SHIPPED_PROMPTS
    texts = load_prompts(FLOWS / "prompts" / "zh.yaml")
    assert texts["welcome"].startswith("您好，攀枝花")
    assert texts["menu_main"].startswith("转人工请按0") and "按9" in texts["menu_main"]


def test_main_flow_shape() -> None:
    main = load_flow(FLOWS / "main.yaml")
    menu = main.nodes["main_menu"]
    assert isinstance(menu, MenuNode)
    assert set(menu.options) == {"0", "1", "2", "9"}
    assert menu.retries == 1 and menu.interruptible and menu.timeout_prompt is None
    offer = main.nodes[main.start]  # the mass-incident announcement, skipped when there is none
    assert offer.type == "incident" and offer.next_none == "greeting"  # type: ignore[union-attr]
    assert offer.next == "incident_notice" and offer.on_timeout is None  # type: ignore[union-attr]
    assert main.nodes["incident_notice"].next == "main_menu_once"  # type: ignore[union-attr]
    once = main.nodes["main_menu_once"]  # the same menu, not repeated after an announcement
    assert isinstance(once, MenuNode) and once.retries == 0
    assert (once.options, once.on_timeout, once.on_invalid) == (menu.options, menu.on_timeout, menu.on_invalid)
    assert main.nodes["greeting"].interruptible  # type: ignore[union-attr]
    assert main.nodes[menu.on_timeout].type == "queue"
    assert main.nodes[menu.on_invalid].type == "queue"
    emergency = main.nodes["emergency_menu"]
    assert isinstance(emergency, MenuNode)
    for digit, number in {"1": "110", "2": "119", "3": "120", "4": "122"}.items():
        node = main.nodes[emergency.options[digit]]
        assert node.type == "transfer"
        assert node.number == number and node.emergency  # type: ignore[union-attr]


def test_adding_a_third_menu_level_to_main_is_rejected() -> None:
    text = (FLOWS / "main.yaml").read_text(encoding="utf-8")
    # specialist 4 leads to the emergency menu, and the emergency menu gets a queue option
    text = text.replace('"4": set_dialect', '"4": emergency_menu').replace(
        '"4": transfer_122\n    on_timeout', '"4": transfer_122\n      "5": set_dialect\n    on_timeout')
    with pytest.raises(FlowError, match=r"node 'emergency_menu': menu depth exceeded"):
        validate_flow_text(text, "main.yaml", PROMPTS)
