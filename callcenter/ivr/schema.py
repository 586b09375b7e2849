"""IVR flow schema (pydantic v2): the node types and the flow, as a flow file spells them.

A flow file is YAML::

    name: main
    description: ...
    start: greeting
    require_zero_to_agent: true   # every menu: "0" reaches a queue node
    max_menu_depth: 1             # see "Menu depth" below
    nodes:
      greeting: {type: play, prompt: greeting, next: main_menu}
      ...

Node types: play, menu, collect, set, hours, lookup_ticket, say_var, incident (input-free
nodes and input nodes) and the terminal nodes transfer, hangup, queue. Every node may carry a
``label``: its name for people (主菜单, 转综合坐席), recorded with the call's IVR path and shown on
the agent desk; the shipped flows label every node (a unit test checks it).

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

Checks that need the whole flow (reachability, loops, the agent escape, menu depth) are in
:mod:`.graph_checks`; parsing a file with line numbers in :mod:`.loader`.
"""


from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
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

    # what a person reads for this node (the agent desk's IVR path: 主菜单, 转综合坐席), kept
    # with the flow; the node id is for the flow's author
    label: str | None = Field(default=None, min_length=1, max_length=32)

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
    default_prompt: str | None = None  # None: other values play nothing (a notice said only when needed)
    next: str

    @property
    def interruptible(self) -> bool:
        """Always: a digit pressed during it is type-ahead for the next choice (runner.py)."""
        return True

    def targets(self) -> list[tuple[str, str]]:
        return [("next", self.next)]

    def prompt_refs(self) -> list[tuple[str, str]]:
        default = [("default_prompt", self.default_prompt)] if self.default_prompt is not None else []
        return [(f"prompts.{k}", p) for k, p in self.prompts.items()] + default


class IncidentNode(_Node):
    """Offer the caller the open mass incident (热点诉求) of their district: its announcement
    ("如果您反映西区停水问题请按1") was rendered when the incident opened; ``digit`` attaches the
    call to the incident's master ticket without an agent. Another digit pressed during it is
    kept for the next menu. An announcement longer than ``max_prompt_s`` is not played (the
    flow's no-input limit counts ``max_prompt_s`` + ``timeout_s``)."""

    type: Literal["incident"]
    digit: str = Field(default="1", pattern="^[0-9*#]$")
    timeout_s: float = Field(default=1.0, ge=0, le=10)
    max_prompt_s: float = Field(default=6.0, gt=0, le=15)
    next: str  # another digit pressed
    next_attached: str  # the call was attached (e.g. a thank-you and hang-up)
    on_timeout: str | None = None  # nothing pressed (default: next)
    next_none: str | None = None  # nothing to announce to this caller (default: next)

    def targets(self) -> list[tuple[str, str]]:
        return _pairs(self, ("next", "next_attached", "on_timeout", "next_none"))


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
    | IncidentNode
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
    "incident",
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
