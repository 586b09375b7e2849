"""What the shipped flows tell people (#25 item 6): every node has a Chinese label for the agent
desk's IVR path, and the example test call of the README and of the `make run` banner presses a
key that reaches an agent (not 1, the ticket-progress menu: 41 s before an agent)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from callcenter.ivr.actions import Action, CallContext, GetDigits, Queue
from callcenter.ivr.lines import load_merged_lines
from callcenter.ivr.loader import load_flows
from callcenter.ivr.runner import FlowRunner

ROOT = Path(__file__).resolve().parents[3]
FLOWS = load_flows(ROOT / "ivr_flows")
LINES = load_merged_lines(ROOT / "ivr_flows" / "merged_lines.yaml")
CJK = re.compile(r"[\u4e00-\u9fff]")
EXAMPLE = re.compile(r"callcenter call 12345 --dtmf (\S+)")


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_every_node_of_a_shipped_flow_has_a_chinese_label(name: str) -> None:
    missing = [nid for nid, node in FLOWS[name].nodes.items() if not (node.label and CJK.search(node.label))]
    assert not missing, f"{name}: nodes without a Chinese label: {missing}"


@pytest.mark.parametrize("source", ["README.md", "callcenter/stack.py"])
def test_the_example_test_call_reaches_an_agent_at_once(source: str) -> None:
    examples = EXAMPLE.findall((ROOT / source).read_text(encoding="utf-8"))
    assert examples, f"{source} names no example call"
    for dtmf in examples:
        digits = [d for d in dtmf if d in "0123456789*#"]  # 'w' is a 0.5 s pause
        end, runner = _call(digits)
        nodes = [node for node, _input in runner.path]
        assert isinstance(end, Queue) and end.queue == "general", (source, dtmf, end)
        assert "ticket_number" not in nodes, (source, dtmf, nodes)


def _call(digits: list[str]) -> tuple[Action, FlowRunner]:
    """A citizen on 12345 pressing ``digits`` at the first prompts that take digits (as the
    simulated citizen does: after a second, during the greeting), then nothing."""
    name, vars_ = LINES.choose_flow("12345")
    runner = FlowRunner(FLOWS[name], CallContext(caller="13800000000", dnis="12345",
                                                 now=dt.datetime(2026, 12, 7, 10, 0), vars=vars_))
    todo, action = list(digits), runner.start()
    for _ in range(200):
        if action.terminal:
            return action, runner
        takes = isinstance(action, GetDigits) or bool(getattr(action, "escape_digits", ""))
        action = runner.feed(todo.pop(0) if todo and takes else "")
    raise AssertionError("no terminal action")
