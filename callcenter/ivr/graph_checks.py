"""Checks that need the whole flow graph: unknown targets and prompts, unreachable nodes,
loops without input, the agent escape (``0``) and menu depth (see :mod:`.schema`)."""

from __future__ import annotations

from pathlib import Path

from callcenter.infra.graphs import cycles

from .issues import Issue, LineMap
from .schema import INPUT_TYPES, TERMINAL_TYPES, VALID_DIGITS, Flow, MenuNode


def _reachable(flow: Flow, start: str, edges: dict[str, list[str]] | None = None) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        n = stack.pop()
        if n in seen or n not in flow.nodes:
            continue
        seen.add(n)
        if edges is not None:
            stack.extend(edges.get(n, []))
        else:
            stack.extend(t for _, t in flow.nodes[n].targets())
    return seen


def _input_free_cycles(flow: Flow) -> list[list[str]]:
    """Strongly connected components (or self loops) made only of input-free nodes."""
    sub = {
        nid: [t for _, t in node.targets() if t in flow.nodes and flow.nodes[t].type not in INPUT_TYPES]
        for nid, node in flow.nodes.items()
        if node.type not in INPUT_TYPES and node.type not in TERMINAL_TYPES
    }
    return cycles(sub)


def _leads_to_queue(flow: Flow, nid: str, seen: set[str] | None = None) -> bool:
    """True if nid reaches a queue node through input-free nodes only (every branch)."""
    seen = set() if seen is None else seen
    if nid in seen or nid not in flow.nodes:
        return False
    seen.add(nid)
    node = flow.nodes[nid]
    if node.type == "queue":
        return True
    if node.type in INPUT_TYPES or node.type in TERMINAL_TYPES:
        return False
    return all(_leads_to_queue(flow, t, seen) for _, t in node.targets())


def _prompt_exists(name: str, prompt_names: set[str] | None, prompt_dir: Path | None) -> bool:
    if prompt_names is not None and name in prompt_names:
        return True
    if prompt_dir is not None:
        if (prompt_dir / f"{name}.wav").is_file() or (prompt_dir / name).is_file():
            return True
    return False


def graph_issues(
    flow: Flow,
    filename: str,
    lm: LineMap,
    raw_options: dict[str, dict[str, str]],
    prompt_names: set[str] | None,
    prompt_dir: Path | None,
) -> list[Issue]:
    issues: list[Issue] = []
    nodes = flow.nodes

    def add(node: str | None, line: int | None, msg: str) -> None:
        issues.append(Issue(filename, node, line, msg))

    if flow.start not in nodes:
        add(None, lm.top.get("start", 1), f"start refers to unknown node '{flow.start}'")
        return issues

    # references and digits
    for nid, node in nodes.items():
        for label, target in node.targets():
            if target not in nodes:
                add(nid, lm.field_line(nid, label), f"{label} refers to unknown node '{target}'")
        if isinstance(node, MenuNode):
            for digit in raw_options.get(nid, node.options):
                if len(digit) != 1 or digit not in VALID_DIGITS:
                    add(
                        nid,
                        lm.field_line(nid, f"options.{digit}"),
                        f"invalid digit '{digit}' (use 0-9, * or #)",
                    )

    # prompts
    if prompt_names is not None or prompt_dir is not None:
        for nid, node in nodes.items():
            for label, prompt in node.prompt_refs():
                if not _prompt_exists(prompt, prompt_names, prompt_dir):
                    add(nid, lm.field_line(nid, label), f"{label}: missing prompt '{prompt}'")

    reachable = _reachable(flow, flow.start)
    for nid in nodes:
        if nid not in reachable:
            add(nid, lm.node_line(nid), f"node is unreachable from start '{flow.start}'")

    in_loop: set[str] = set()
    for comp in _input_free_cycles(flow):
        comp.sort(key=lambda n: lm.nodes.get(n, 0))
        in_loop.update(comp)
        cyc = " -> ".join(comp + [comp[0]])
        add(comp[0], lm.node_line(comp[0]), f"loop without caller input: {cyc}")

    # terminal reachability
    rev: dict[str, list[str]] = {n: [] for n in nodes}
    for nid, node in nodes.items():
        for _, t in node.targets():
            if t in rev:
                rev[t].append(nid)
    can_end: set[str] = set()
    for nid, node in nodes.items():
        if node.type in TERMINAL_TYPES:
            can_end |= _reachable(flow, nid, rev)
    if flow.start not in can_end:
        add(
            flow.start,
            lm.node_line(flow.start),
            "no terminal node (transfer/hangup/queue) reachable from start",
        )
    else:
        for nid in sorted(reachable - can_end - in_loop, key=lambda n: lm.nodes.get(n, 0)):
            add(nid, lm.node_line(nid), "no terminal node (transfer/hangup/queue) reachable from this node")

    menus = [nid for nid in reachable if isinstance(nodes[nid], MenuNode)]

    if flow.require_zero_to_agent:
        for nid in sorted(menus, key=lambda n: lm.nodes.get(n, 0)):
            menu = nodes[nid]
            assert isinstance(menu, MenuNode)
            if "0" not in menu.options:
                add(nid, lm.node_line(nid), "menu has no '0' option to reach an agent")
            elif not _leads_to_queue(flow, menu.options["0"]):
                add(nid, lm.field_line(nid, "options.0"), "option '0' does not lead to an agent queue")

    if flow.max_menu_depth is not None:
        issues.extend(_depth_issues(flow, filename, lm, reachable))
    return issues


def _depth_issues(flow: Flow, filename: str, lm: LineMap, reachable: set[str]) -> list[Issue]:
    limit = flow.max_menu_depth or 0
    nodes = flow.nodes
    reaches_queue = set()
    rev: dict[str, list[str]] = {n: [] for n in nodes}
    for nid, node in nodes.items():
        for _, t in node.targets():
            if t in rev:
                rev[t].append(nid)
    for nid, node in nodes.items():
        if node.type == "queue":
            reaches_queue |= _reachable(flow, nid, rev)
    # states (node, selections so far), selections capped at limit
    seen: set[tuple[str, int]] = set()
    stack = [(flow.start, 0)]
    bad: set[str] = set()
    while stack:
        nid, k = stack.pop()
        if (nid, k) in seen or nid not in nodes:
            continue
        seen.add((nid, k))
        node = nodes[nid]
        if isinstance(node, MenuNode):
            for digit, t in node.options.items():
                if digit == "0":
                    stack.append((t, k))
                elif k >= limit:
                    if t in reaches_queue:
                        bad.add(nid)
                else:
                    stack.append((t, k + 1))
            stack.append((node.on_timeout, k))
            stack.append((node.on_invalid, k))
        else:
            stack.extend((t, k) for _, t in node.targets())
    return [
        Issue(
            filename,
            nid,
            lm.node_line(nid),
            f"menu depth exceeded: this menu is deeper than max_menu_depth={limit} on a path to an agent queue",
        )
        for nid in sorted(bad, key=lambda n: lm.nodes.get(n, 0))
    ]
