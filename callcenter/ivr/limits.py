"""How long a flow keeps a caller: prompt lengths and the path of a caller who presses nothing,
checked against the hall's limits (pure; the durations are measured by the caller).

The limits (GB/T 33358 asks for short menus with a key to a person; the values are settings,
``CALLCENTER_IVR_MAX_*``):

* the greeting (the prompts played from ``start`` before the first choice) is at most
  ``greeting_s``; every menu prompt at most ``menu_s``;
* a caller who presses nothing reaches a queue (or the hand-over transfer) within
  ``no_input_s``: the sum, along the no-input path, of every prompt played and every wait for a
  digit (a menu plays its prompt and waits ``timeout_s``, ``retries`` + 1 times);
* no menu repeats itself more than ``menu_repeats`` times; at most ``menu_levels`` menus nested
  one inside another; at most ``menu_options`` options in a menu;
* every menu with a ``0`` says ``agent_phrase`` first (when its text is known);
* barge-in: every menu takes digits during its prompt, and every prompt played on the way
  to a choice is ``interruptible``.

:func:`silent_path` is the logical bound a sandbox test checks the real call against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .schema import (
    CollectNode,
    Flow,
    HangupNode,
    HoursNode,
    IncidentNode,
    LookupTicketNode,
    MenuNode,
    PlayNode,
    QueueNode,
    SayVarNode,
    SetNode,
    TransferNode,
)

INPUT_NODES = (MenuNode, CollectNode)


@dataclass(frozen=True)
class IvrLimits:
    greeting_s: float = 8.0
    menu_s: float = 15.0
    no_input_s: float = 30.0
    menu_repeats: int = 1
    menu_levels: int = 3
    menu_options: int = 5
    agent_phrase: str = "转人工请按0"

    @classmethod
    def from_settings(cls, settings: object) -> IvrLimits:
        """From ``Settings`` (``ivr_max_*``, ``ivr_agent_phrase``)."""
        g = settings.__getattribute__
        return cls(g("ivr_max_greeting_s"), g("ivr_max_menu_s"), g("ivr_max_no_input_s"),
                   g("ivr_max_menu_repeats"), g("ivr_max_menu_levels"), g("ivr_max_menu_options"),
                   g("ivr_agent_phrase"))


@dataclass(frozen=True)
class Breach:
    node: str | None
    message: str


@dataclass
class SilentPath:
    """The walk of a caller who presses nothing: seconds until ``end`` (``queue`` |
    ``transfer`` | ``hangup`` | ``loop``), and each node with the seconds spent there."""

    seconds: float = 0.0
    end: str = "loop"
    end_node: str | None = None
    steps: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class FlowTiming:
    flow: str
    greeting_s: float
    silent: SilentPath
    prompts: dict[str, float]  # every prompt the flow uses -> seconds (missing ones left out)
    breaches: list[Breach]


def _d(durations: Mapping[str, float], prompt: str | None) -> float:
    return float(durations.get(prompt, 0.0)) if prompt else 0.0


def silent_path(flow: Flow, durations: Mapping[str, float]) -> SilentPath:
    """Follow the no-input edges from ``start``; an ``hours`` node takes its longer branch."""
    return _walk(flow, flow.start, durations, frozenset())


def _walk(flow: Flow, nid: str, durations: Mapping[str, float], seen: frozenset[str]) -> SilentPath:
    out = SilentPath()
    while nid in flow.nodes and nid not in seen:
        seen = seen | {nid}
        node = flow.nodes[nid]
        spent, nxt, end = 0.0, None, None
        if isinstance(node, PlayNode):
            spent, nxt = _d(durations, node.prompt), node.next
        elif isinstance(node, SayVarNode):
            spent = max(_d(durations, p) for p in [*node.prompts.values(), node.default_prompt])
            nxt = node.next
        elif isinstance(node, SetNode):
            nxt = node.next
        elif isinstance(node, LookupTicketNode):
            nxt = node.next_not_found  # nothing was keyed in
        elif isinstance(node, MenuNode):
            spent = (node.retries + 1) * (_d(durations, node.prompt) + node.timeout_s) \
                + node.retries * _d(durations, node.timeout_prompt)
            nxt = node.on_timeout
        elif isinstance(node, CollectNode):
            spent, nxt = (node.retries + 1) * (_d(durations, node.prompt) + node.timeout_s), node.on_timeout
        elif isinstance(node, HoursNode | IncidentNode):
            if isinstance(node, HoursNode):
                a, b = (_walk(flow, t, durations, seen) for t in (node.next_open, node.next_closed))
                extra = 0.0
            else:  # an incident announced (its budget, then the wait for the key), or none
                a = _walk(flow, node.on_timeout or node.next, durations, seen)
                b = _walk(flow, node.next_none or node.next, durations, seen)
                extra = node.max_prompt_s + node.timeout_s
            here, longer = (extra, a) if a.seconds + extra >= b.seconds else (0.0, b)
            out.steps.append((nid, here))
            out.seconds += here
            out.steps += longer.steps
            out.seconds += longer.seconds
            out.end, out.end_node = longer.end, longer.end_node
            return out
        elif isinstance(node, QueueNode):
            spent, end = _d(durations, node.prompt), "queue"
        elif isinstance(node, TransferNode):
            spent, end = _d(durations, node.announce), "transfer"
        elif isinstance(node, HangupNode):
            spent, end = _d(durations, node.prompt), "hangup"
        out.steps.append((nid, spent))
        out.seconds += spent
        if end is not None:
            out.end, out.end_node = end, nid
            return out
        assert nxt is not None
        nid = nxt
    return out


def greeting_seconds(flow: Flow, durations: Mapping[str, float]) -> float:
    """The prompts played from ``start`` before the first choice (or the first terminal node)."""
    total, nid, seen = 0.0, flow.start, set()
    while nid in flow.nodes and nid not in seen:
        seen.add(nid)
        node = flow.nodes[nid]
        if isinstance(node, IncidentNode):  # the greeting is what a caller hears with no incident
            nid = node.next_none or node.next
            continue
        if isinstance(node, PlayNode):
            total += _d(durations, node.prompt)
        elif isinstance(node, SayVarNode):  # the longest prompt it may choose (a greeting's variants)
            total += max(_d(durations, p) for p in [*node.prompts.values(), node.default_prompt])
        elif not isinstance(node, SetNode):
            break
        nid = node.next
    return total


def menu_levels(flow: Flow) -> int:
    """The most menus a caller passes through by choosing options (timeouts and invalid input
    lead away from the menus, not deeper)."""
    best = 0
    stack: list[tuple[str, int, frozenset[str]]] = [(flow.start, 0, frozenset())]
    while stack:
        nid, depth, seen = stack.pop()
        if nid not in flow.nodes or nid in seen:
            continue
        node, seen = flow.nodes[nid], seen | {nid}
        if isinstance(node, MenuNode):
            depth += 1
            best = max(best, depth)
            stack.extend((t, depth, seen) for t in node.options.values())
        else:
            stack.extend((t, depth, seen) for _, t in node.targets())
    return best


def _leads_to_input(flow: Flow, nid: str) -> bool:
    seen: set[str] = set()
    while nid in flow.nodes and nid not in seen:
        seen.add(nid)
        node = flow.nodes[nid]
        if isinstance(node, INPUT_NODES):
            return True
        if not isinstance(node, PlayNode | SetNode | SayVarNode):
            return False
        nid = node.next
    return False


def check_flow(flow: Flow, durations: Mapping[str, float], limits: IvrLimits,
               texts: Mapping[str, str] | None = None) -> FlowTiming:
    """Measure ``flow`` with ``durations`` (prompt name -> seconds) and list every breach."""
    breaches: list[Breach] = []
    used = sorted({p for node in flow.nodes.values() for _, p in node.prompt_refs()})
    prompts = {p: float(durations[p]) for p in used if p in durations}
    for p in used:
        if p not in durations:
            breaches.append(Breach(None, f"prompt '{p}' has no rendered audio to measure"))
    greeting = greeting_seconds(flow, durations)
    if greeting > limits.greeting_s:
        start = flow.start
        while isinstance(node := flow.nodes.get(start), IncidentNode):
            start = node.next_none or node.next
        breaches.append(Breach(start, f"greeting lasts {greeting:.1f} s (limit {limits.greeting_s:g} s)"))
    levels = menu_levels(flow)
    if levels > limits.menu_levels:
        breaches.append(Breach(None, f"{levels} menu levels (limit {limits.menu_levels})"))
    for nid, node in flow.nodes.items():
        if isinstance(node, MenuNode):
            length = _d(durations, node.prompt)
            if length > limits.menu_s:
                breaches.append(Breach(nid, f"menu prompt '{node.prompt}' lasts {length:.1f} s "
                                            f"(limit {limits.menu_s:g} s)"))
            if len(node.options) > limits.menu_options:
                breaches.append(Breach(nid, f"{len(node.options)} options (limit {limits.menu_options})"))
            if node.retries > limits.menu_repeats:
                breaches.append(Breach(nid, f"repeats {node.retries} times without input "
                                            f"(limit {limits.menu_repeats})"))
            if not node.interruptible:
                breaches.append(Breach(nid, "menu does not take digits during its prompt (barge-in)"))
            text = (texts or {}).get(node.prompt)
            if limits.agent_phrase and "0" in node.options and text is not None \
                    and not text.lstrip().startswith(limits.agent_phrase):
                breaches.append(Breach(nid, f"menu prompt '{node.prompt}' does not say "
                                            f"'{limits.agent_phrase}' first"))
        elif isinstance(node, PlayNode) and not node.interruptible and _leads_to_input(flow, node.next):
            breaches.append(Breach(nid, f"prompt '{node.prompt}' before a choice is not interruptible "
                                        "(barge-in): set interruptible: true"))
    silent = silent_path(flow, durations)
    if silent.end not in ("queue", "transfer"):
        breaches.append(Breach(silent.end_node, f"a caller who presses nothing ends in '{silent.end}', "
                                                "not in a queue"))
    elif silent.seconds > limits.no_input_s:
        breaches.append(Breach(silent.end_node, f"a caller who presses nothing reaches the {silent.end} after "
                                                f"{silent.seconds:.1f} s (limit {limits.no_input_s:g} s)"))
    return FlowTiming(flow.name, greeting, silent, prompts, breaches)
