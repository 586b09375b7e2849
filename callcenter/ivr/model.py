"""IVR flow schema (pydantic v2) and validator.

A flow file is YAML::

    name: main
    description: ...
    start: greeting
    require_zero_to_agent: true   # every menu: "0" reaches a queue node
    max_menu_depth: 1             # see "Menu depth" below
    nodes:
      greeting: {type: play, prompt: greeting, next: main_menu}
      ...

Node types: play, menu, collect, set, hours, lookup_ticket, say_var (input-free
nodes and input nodes) and the terminal nodes transfer, hangup, queue.

String fields ``queue``, ``skill`` and ``number`` may use ``${var}`` or
``${var:-default}`` templates, rendered by the runner from the call variables.

Menu depth (``max_menu_depth``): the number of menus at which the caller must
press a digit *other than 0* on a path from ``start`` to a ``queue`` node.
``0`` is the agent escape itself and timeout/invalid fallbacks are the way to a
human, so neither adds a level.  Paths that end in a transfer or hang-up (the
emergency submenu of the main flow leads to 110/119/120/122 transfers) are not
paths to a human queue and are not counted; their ``0`` option still leads to
the agent queue.  Checked as: a menu reached after ``max_menu_depth`` non-zero
selections must not have a non-zero option from which a queue node is
reachable.

``validate_flow_text`` and ``load_flow`` raise :class:`FlowError` listing every
problem as ``file:line: node 'id': message`` (one line per issue).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

VALID_DIGITS = frozenset("0123456789*#")
EMERGENCY_NUMBERS = frozenset({"110", "119", "120", "122"})
INPUT_TYPES = frozenset({"menu", "collect"})
TERMINAL_TYPES = frozenset({"transfer", "hangup", "queue"})

_TEMPLATE_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_VAR_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
DIAL_RE = re.compile(r"^[0-9*#+]{1,32}$")


def render_template(text: str, vars: dict[str, str]) -> str:
    """Replace ``${name}`` / ``${name:-default}`` with call variables."""

    def sub(m: re.Match[str]) -> str:
        value = vars.get(m.group(1))
        if value in (None, ""):
            return m.group(2) or ""
        return str(value)

    return _TEMPLATE_RE.sub(sub, text)


def _check_template(value: str) -> str:
    rest = _TEMPLATE_RE.sub("", value)
    if "$" in rest or "{" in rest or "}" in rest:
        raise ValueError(f"malformed template {value!r} (use ${{var}} or ${{var:-default}})")
    return value


# --------------------------------------------------------------------------- nodes


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def targets(self) -> list[tuple[str, str]]:
        """(field label, target node id) for every outgoing edge."""
        return []

    def prompt_refs(self) -> list[tuple[str, str]]:
        """(field label, prompt name) for every prompt used."""
        return []


def _pairs(node: BaseModel, names: Iterable[str]) -> list[tuple[str, str]]:
    out = []
    for n in names:
        v = getattr(node, n)
        if v is not None:
            out.append((n, v))
    return out


class PlayNode(_Node):
    type: Literal["play"]
    prompt: str
    next: str
    interruptible: bool = False  # a digit pressed is kept as type-ahead for the next menu

    def targets(self) -> list[tuple[str, str]]:
        return [("next", self.next)]

    def prompt_refs(self) -> list[tuple[str, str]]:
        return [("prompt", self.prompt)]


class MenuNode(_Node):
    type: Literal["menu"]
    prompt: str
    options: dict[str, str]
    on_timeout: str
    on_invalid: str
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=5)  # replays after the first attempt
    interruptible: bool = True
    invalid_prompt: str | None = None
    timeout_prompt: str | None = None

    def targets(self) -> list[tuple[str, str]]:
        out = [(f"options.{d}", t) for d, t in self.options.items()]
        return out + [("on_timeout", self.on_timeout), ("on_invalid", self.on_invalid)]

    def prompt_refs(self) -> list[tuple[str, str]]:
        return _pairs(self, ("prompt", "invalid_prompt", "timeout_prompt"))


class CollectNode(_Node):
    type: Literal["collect"]
    prompt: str
    var: str
    next: str
    on_timeout: str
    on_invalid: str | None = None  # defaults to on_timeout
    min_digits: int = Field(default=1, ge=1, le=64)
    max_digits: int = Field(default=20, ge=1, le=64)
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    terminator: Literal["#", "*", ""] = "#"
    retries: int = Field(default=2, ge=0, le=5)
    invalid_prompt: str | None = None

    @field_validator("var")
    @classmethod
    def _var_name(cls, v: str) -> str:
        if not _VAR_NAME_RE.match(v):
            raise ValueError(f"invalid variable name {v!r}")
        return v

    @model_validator(mode="after")
    def _min_max(self) -> CollectNode:
        if self.min_digits > self.max_digits:
            raise ValueError("min_digits is greater than max_digits")
        return self

    def targets(self) -> list[tuple[str, str]]:
        return _pairs(self, ("next", "on_timeout", "on_invalid"))

    def prompt_refs(self) -> list[tuple[str, str]]:
        return _pairs(self, ("prompt", "invalid_prompt"))


class SetNode(_Node):
    type: Literal["set"]
    vars: dict[str, str | int | float | bool]
    next: str

    @field_validator("vars")
    @classmethod
    def _names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for k in v:
            if not _VAR_NAME_RE.match(k):
                raise ValueError(f"invalid variable name {k!r}")
        return v

    def str_vars(self) -> dict[str, str]:
        return {k: (("1" if v else "0") if isinstance(v, bool) else str(v)) for k, v in self.vars.items()}

    def targets(self) -> list[tuple[str, str]]:
        return [("next", self.next)]


class HoursNode(_Node):
    """Business-hours branch on the Chinese official calendar (the hotline itself is 7x24)."""

    type: Literal["hours"]
    open: list[tuple[str, str]]
    days: Literal["workdays", "everyday"] = "workdays"
    next_open: str
    next_closed: str

    @field_validator("open")
    @classmethod
    def _ranges(cls, v: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for a, b in v:
            if not _HHMM_RE.match(a) or not _HHMM_RE.match(b):
                raise ValueError(f"times must be HH:MM, got [{a!r}, {b!r}]")
            if a >= b:
                raise ValueError(f"empty range [{a}, {b}]")
        return v

    def targets(self) -> list[tuple[str, str]]:
        return [("next_open", self.next_open), ("next_closed", self.next_closed)]


class LookupTicketNode(_Node):
    type: Literal["lookup_ticket"]
    var: str  # variable holding the ticket number (from a collect node)
    next_found: str
    next_not_found: str
    result_var: str = "ticket_status"

    def targets(self) -> list[tuple[str, str]]:
        return [("next_found", self.next_found), ("next_not_found", self.next_not_found)]


class SayVarNode(_Node):
    """Play the prompt chosen by a variable's value (prompts are pre-rendered audio)."""

    type: Literal["say_var"]
    var: str
    prompts: dict[str, str]
    default_prompt: str
    next: str

    def targets(self) -> list[tuple[str, str]]:
        return [("next", self.next)]

    def prompt_refs(self) -> list[tuple[str, str]]:
        return [(f"prompts.{k}", p) for k, p in self.prompts.items()] + [
            ("default_prompt", self.default_prompt)
        ]


class TransferNode(_Node):
    type: Literal["transfer"]
    emergency: bool = False  # one-key transfer; never queued (declared first: number's check uses it)
    number: str
    announce: str | None = None

    @field_validator("number", mode="before")
    @classmethod
    def _number(cls, v: Any, info: ValidationInfo) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if isinstance(v, str):
            _check_template(v)
            if "$" not in v and not DIAL_RE.match(v):
                raise ValueError(f"invalid dial string {v!r}")
            if v in EMERGENCY_NUMBERS and info.data.get("emergency") is not True:
                raise ValueError(f"transfer to emergency line {v} must set emergency: true")
        return v

    def prompt_refs(self) -> list[tuple[str, str]]:
        return _pairs(self, ("announce",))


class HangupNode(_Node):
    type: Literal["hangup"]
    prompt: str | None = None

    def prompt_refs(self) -> list[tuple[str, str]]:
        return _pairs(self, ("prompt",))


class QueueNode(_Node):
    """Hand the call to the ARI controller (Stasis) for the given queue."""

    type: Literal["queue"]
    queue: str
    skill: str | None = None  # defaults to the queue name
    priority: int | None = Field(default=None, ge=0, le=10)
    prompt: str | None = None  # played before queueing

    @field_validator("queue", "skill")
    @classmethod
    def _tpl(cls, v: str | None) -> str | None:
        return None if v is None else _check_template(v)

    def prompt_refs(self) -> list[tuple[str, str]]:
        return _pairs(self, ("prompt",))


Node = Annotated[
    PlayNode
    | MenuNode
    | CollectNode
    | SetNode
    | HoursNode
    | LookupTicketNode
    | SayVarNode
    | TransferNode
    | HangupNode
    | QueueNode,
    Field(discriminator="type"),
]
NODE_TYPES = (
    "play",
    "menu",
    "collect",
    "set",
    "hours",
    "lookup_ticket",
    "say_var",
    "transfer",
    "hangup",
    "queue",
)


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    start: str
    nodes: dict[str, Node]
    require_zero_to_agent: bool = False
    max_menu_depth: int | None = Field(default=None, ge=1)


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Issue:
    file: str
    node: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        node = f" node '{self.node}':" if self.node is not None else ""
        return f"{where}:{node} {self.message}"


class FlowError(ValueError):
    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    def __str__(self) -> str:
        return "\n".join(str(i) for i in self.issues)


# --------------------------------------------------------------------------- line map


@dataclass
class _LineMap:
    top: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, int] = field(default_factory=dict)
    fields: dict[str, dict[str, int]] = field(default_factory=dict)
    keys: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # node -> field -> key

    def node_line(self, node: str | None) -> int | None:
        if node is None:
            return None
        return self.nodes.get(node)

    def field_line(self, node: str, label: str) -> int | None:
        name, _, key = label.partition(".")
        if key:
            line = self.keys.get(node, {}).get(name, {}).get(key)
            if line is not None:
                return line
        line = self.fields.get(node, {}).get(name)
        return line if line is not None else self.nodes.get(node)


def _scalar(n: yaml.Node) -> str | None:
    return n.value if isinstance(n, yaml.ScalarNode) else None


def _line(n: yaml.Node) -> int:
    return n.start_mark.line + 1


def _scan(root: yaml.MappingNode, filename: str) -> tuple[_LineMap, list[Issue], dict[str, dict[str, str]]]:
    """Map node ids/fields to lines, find duplicate keys, and keep raw menu keys."""
    lm = _LineMap()
    issues: list[Issue] = []
    raw_options: dict[str, dict[str, str]] = {}

    def dup_walk(n: yaml.Node, node_id: str | None, ctx: str) -> None:
        if isinstance(n, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in n.value:
                key = _scalar(k)
                if key is not None:
                    if key in seen:
                        if ctx == "options":
                            msg = f"digit '{key}' used twice in menu"
                        elif ctx == "nodes":
                            msg = f"node id '{key}' defined twice"
                        else:
                            msg = f"duplicate key '{key}'"
                        issues.append(Issue(filename, key if ctx == "nodes" else node_id, _line(k), msg))
                    seen.add(key)
                if ctx == "top" and key == "nodes":
                    dup_walk(v, None, "nodes")
                elif ctx == "nodes":
                    dup_walk(v, key, "node")
                elif ctx == "node" and key == "options":
                    dup_walk(v, node_id, "options")
                else:
                    dup_walk(v, node_id, "other")
        elif isinstance(n, yaml.SequenceNode):
            for item in n.value:
                dup_walk(item, node_id, "other")

    dup_walk(root, None, "top")

    for k, v in root.value:
        key = _scalar(k)
        if key is None:
            continue
        lm.top.setdefault(key, _line(k))
        if key != "nodes" or not isinstance(v, yaml.MappingNode):
            continue
        for nk, nv in v.value:
            nid = _scalar(nk)
            if nid is None:
                continue
            lm.nodes[nid] = _line(nk)  # last definition wins, as in the loaded data
            lm.fields[nid] = {}
            lm.keys[nid] = {}
            if not isinstance(nv, yaml.MappingNode):
                continue
            for fk, fv in nv.value:
                fname = _scalar(fk)
                if fname is None:
                    continue
                lm.fields[nid][fname] = _line(fk)
                if isinstance(fv, yaml.MappingNode):
                    km = lm.keys[nid].setdefault(fname, {})
                    raw: dict[str, str] = {}
                    for ok, ov in fv.value:
                        okey = _scalar(ok)
                        if okey is None:
                            continue
                        km.setdefault(okey, _line(ok))
                        if fname == "options":
                            if okey in raw:  # duplicate: point at the later one
                                km[okey] = _line(ok)
                            oval = _scalar(ov)
                            raw[okey] = oval if oval is not None else ""
                    if fname == "options":
                        raw_options[nid] = raw
    return lm, issues, raw_options


# --------------------------------------------------------------------------- validation


def _pydantic_issues(err: ValidationError, filename: str, lm: _LineMap) -> list[Issue]:
    issues: list[Issue] = []
    for e in err.errors(include_url=False):
        e["msg"] = e["msg"].removeprefix("Value error, ")
        loc = e["loc"]
        etype = e["type"]
        if len(loc) >= 2 and loc[0] == "nodes":
            nid = str(loc[1])
            if etype == "union_tag_invalid":
                tag = e.get("ctx", {}).get("tag")
                msg = f"unknown node type '{tag}' (expected one of: {', '.join(NODE_TYPES)})"
                issues.append(Issue(filename, nid, lm.field_line(nid, "type"), msg))
                continue
            if etype == "union_tag_not_found":
                issues.append(Issue(filename, nid, lm.node_line(nid), "missing field 'type'"))
                continue
            rest = [str(p) for p in loc[3:]]  # loc[2] is the node type tag
            fname = rest[0] if rest else None
            if etype == "missing":
                msg = f"missing field '{fname}'"
                line = lm.node_line(nid)
            elif etype == "extra_forbidden":
                msg = f"unknown field '{fname}'"
                line = lm.field_line(nid, fname or "")
            else:
                what = ".".join(rest) if rest else "node"
                msg = f"{what}: {e['msg']}"
                line = lm.field_line(nid, ".".join(rest[:2])) if fname else lm.node_line(nid)
            issues.append(Issue(filename, nid, line, msg))
        else:
            fname = str(loc[0]) if loc else None
            if etype == "missing":
                msg = f"missing field '{fname}'"
                line = 1
            elif etype == "extra_forbidden":
                msg = f"unknown field '{fname}'"
                line = lm.top.get(fname or "", 1)
            else:
                msg = f"{fname}: {e['msg']}" if fname else e["msg"]
                line = lm.top.get(fname or "", 1)
            issues.append(Issue(filename, None, line, msg))
    return issues


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
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0

    def strong(v: str) -> None:  # Tarjan, iterative enough for small flows
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = [(v, iter(sub.get(v, [])))]
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in sub:
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sub.get(w, []))))
                    advanced = True
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1 or node in sub.get(node, []):
                    out.append(comp)

    for v in sub:
        if v not in index:
            strong(v)
    return out


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


def _graph_issues(
    flow: Flow,
    filename: str,
    lm: _LineMap,
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


def _depth_issues(flow: Flow, filename: str, lm: _LineMap, reachable: set[str]) -> list[Issue]:
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


def validate_flow_text(
    text: str,
    filename: str = "<flow>",
    prompt_names: set[str] | None = None,
    prompt_dir: Path | str | None = None,
) -> Flow:
    """Parse and validate a flow; raise FlowError listing every issue.

    Prompts are checked when ``prompt_names`` (prompt text keys) and/or
    ``prompt_dir`` (holding ``<prompt>.wav``) are given.
    """
    pdir = Path(prompt_dir) if prompt_dir is not None else None
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        msg = "; ".join(str(p) for p in (e.context, e.problem) if p)
        raise FlowError([Issue(filename, None, line, f"YAML syntax error: {msg}")]) from None
    except yaml.YAMLError as e:
        raise FlowError([Issue(filename, None, None, f"YAML error: {e}")]) from None

    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise FlowError([Issue(filename, None, 1, "a flow file must be a YAML mapping")])

    lm, issues, raw_options = _scan(root, filename)
    nodes_data = data.get("nodes")
    if isinstance(nodes_data, dict):
        for nid, raw in raw_options.items():
            nd = nodes_data.get(nid)
            if isinstance(nd, dict) and isinstance(nd.get("options"), dict):
                nd["options"] = dict(raw)
    try:
        flow = Flow.model_validate(data)
    except ValidationError as e:
        issues.extend(_pydantic_issues(e, filename, lm))
        raise FlowError(issues) from None
    issues.extend(_graph_issues(flow, filename, lm, raw_options, prompt_names, pdir))
    if issues:
        raise FlowError(issues)
    return flow


def load_prompts(path: Path | str) -> dict[str, str]:
    """Prompt texts keyed by prompt name (``prompts/zh.yaml``)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: prompt file must be a mapping name -> text")
    out: dict[str, str] = {}
    for k, v in data.items():
        if not isinstance(k, str) or not isinstance(v, str) or not v.strip():
            raise ValueError(f"{path}: prompt {k!r} must map a name to a non-empty text")
        out[k] = v.strip()
    return out


def load_flow(
    path: Path | str,
    prompt_names: set[str] | None = None,
    prompt_dir: Path | str | None = None,
) -> Flow:
    """Load and validate one flow file.

    When ``prompt_names`` is None and ``<flow dir>/prompts/zh.yaml`` exists, its keys
    are used for the prompt check.
    """
    p = Path(path)
    if prompt_names is None:
        zh = p.parent / "prompts" / "zh.yaml"
        if zh.is_file():
            prompt_names = set(load_prompts(zh))
    text = p.read_text(encoding="utf-8")
    return validate_flow_text(text, str(p), prompt_names, prompt_dir)


def load_flows(directory: Path | str, prompt_names: set[str] | None = None) -> dict[str, Flow]:
    """Load every flow file (a YAML file with a top-level ``nodes`` key) keyed by flow name."""
    d = Path(directory)
    if prompt_names is None and (d / "prompts" / "zh.yaml").is_file():
        prompt_names = set(load_prompts(d / "prompts" / "zh.yaml"))
    flows: dict[str, Flow] = {}
    issues: list[Issue] = []
    for f in sorted(d.glob("*.yaml")):
        text = f.read_text(encoding="utf-8")
        try:
            head = yaml.safe_load(text)
        except yaml.YAMLError:
            head = {"nodes": None}  # let the validator report the syntax error
        if not isinstance(head, dict) or "nodes" not in head:
            continue
        try:
            flow = validate_flow_text(text, str(f), prompt_names)
        except FlowError as e:
            issues.extend(e.issues)
            continue
        if flow.name in flows:
            issues.append(Issue(str(f), None, 1, f"flow name '{flow.name}' used by two files"))
        flows[flow.name] = flow
    if issues:
        raise FlowError(issues)
    return flows
