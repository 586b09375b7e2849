"""One FastAGI session, run in a worker thread: pyst2 over text files, the action executor.

:class:`PystAGI` is a thin pyst2 subclass for its quirks: the constructor installs a SIGHUP
handler (main thread only) and echoes to stderr; it writes ``str`` (the socket is wrapped
in text files); it expects neither the inline ``HANGUP`` line FastAGI sends when the
caller hangs up nor ``511`` (dead channel); a garbage reply crashes its parser
(``int('')``) and a ``520-`` usage block loops forever at EOF.

:class:`ActionExecutor` performs the pure runner's actions (``actions.py``, ``runner.py``) and sets the
channel variables documented in ``fastagi.py``; :func:`run_session` drives one call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asterisk.agi import (
    AGI,
    AGIAppError,
    AGIError,
    AGIHangup,
    AGIInvalidCommand,
    AGIResultHangup,
    AGIUnknownError,
    AGIUsageError,
    re_kv,
)

from callcenter.infra.logging import get_logger

from .actions import (
    Action,
    AttachIncident,
    CallContext,
    GetDigits,
    Hangup,
    LookupTicket,
    Play,
    Queue,
    Transfer,
)
from .fastagi_gate import MAX_ENV_LINES, parse_env
from .runner import FlowRunner
from .schema import Flow

log = get_logger("ivr.agi")

SOUND_DIR = "callcenter"
BLOCKED_PROMPTS = ("caller_blocked", "goodbye")  # first one that plays (see report)
BLOCKED_LABEL = "黑名单拦截"  # the blocked caller's one-step path, as the desk shows it
_REPLY = re.compile(r"^(\d{3})(?:[ -](.*))?$")
_SAFE_SOUND = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,80}$")
_MAX_LINE = 8192


class AGIChannelGone(AGIHangup):
    """The caller hung up: inline ``HANGUP``, ``511`` or the connection closed."""


class _NullWriter:
    def write(self, _s: str) -> int:
        return 0

    def flush(self) -> None:
        pass


class PystAGI(AGI):
    """pyst2's AGI over any text files, safe in a worker thread."""

    def __init__(self, stdin: Any, stdout: Any, stderr: Any = None, env: dict[str, str] | None = None):
        # not AGI.__init__: it calls signal.signal (main thread only) and prints sys.argv;
        # ``env``: the environment when the server has already read it (fastagi_gate.py)
        self.stdin, self.stdout = stdin, stdout
        self.stderr = stderr if stderr is not None else _NullWriter()
        self._got_sighup = False
        self.env: dict[str, str] = dict(env) if env is not None else {}
        if env is None:
            self._get_agi_env()

    def _get_agi_env(self) -> None:
        lines: list[str] = []
        for _ in range(MAX_ENV_LINES):
            try:
                line = self.stdin.readline(_MAX_LINE).strip()
            except (OSError, ValueError):  # timeout, reset, closed file
                break
            if not line:
                break  # blank line ends the environment (EOF too)
            lines.append(line)
        self.env = parse_env(lines)

    def _readline(self) -> str:
        line = self.stdin.readline(_MAX_LINE)
        if not line:
            self._got_sighup = True
            raise AGIChannelGone("AGI connection closed")
        return line.strip()

    def get_result(self, stdin: Any = None) -> dict[str, tuple[str, str]]:
        line = self._readline()
        if line == "HANGUP":  # FastAGI's inline hang-up notice; later commands would get 511
            self._got_sighup = True
            raise AGIChannelGone("caller hung up")
        m = _REPLY.match(line)
        if m is None:
            raise AGIUnknownError(f"unparsable AGI reply {line[:80]!r}")
        code, response = int(m.group(1)), m.group(2) or ""
        if code == 200:
            result = {"result": ("", "")}
            for key, value, data in re_kv.findall(response):
                result[key] = (value, data)
                if data == "hangup":
                    raise AGIResultHangup("caller hung up during the command")
                if key == "result" and value == "-1":
                    raise AGIAppError("command failed, or the caller hung up")
            return result
        if code == 511:  # dead channel
            self._got_sighup = True
            raise AGIChannelGone(response or "dead channel")
        if code == 510:
            raise AGIInvalidCommand(response)
        if code == 520:
            usage = [line]
            while usage[0].startswith("520-") and len(usage) < 50:  # block ends with "520 ..."
                usage.append(self._readline())
                if usage[-1].startswith("520"):
                    break
            raise AGIUsageError("\n".join(usage))
        raise AGIUnknownError(code, "unhandled AGI reply code")


# --------------------------------------------------------------------------- session


@dataclass
class SessionPlan:
    """What the service decided before the flow starts (built on the event loop)."""

    call_id: str
    caller: str
    dnis: str
    flow_name: str
    flow: Flow
    context: CallContext
    blocked: bool = False


@dataclass
class SessionResult:
    outcome: str  # queue | transfer | hangup | ended | error | shutdown
    path: list[dict[str, Any]] = field(default_factory=list)
    last_node: str | None = None
    variables: dict[str, str] = field(default_factory=dict)


def _clean(value: object) -> str:
    return re.sub(r'["\\\r\n]', "", str(value))[:200]


def channel_vars(action: Action, plan: SessionPlan, vars_: dict[str, str]) -> dict[str, str]:
    """Channel variables for a terminal action, IVR_OUTCOME last (documented in fastagi.py)."""
    repeat = vars_.get("repeat") == "1" or (plan.context.recent_calls_24h or 0) > 0
    out = {
        "IVR_CALL_ID": plan.call_id,
        "IVR_FLOW": plan.flow_name,
        "IVR_QUEUE": "",
        "IVR_SKILL": "",
        "IVR_PRIORITY": "0",
        "IVR_DEPARTMENT": vars_.get("department", ""),
        "IVR_LINE": vars_.get("line", ""),
        "IVR_LANGUAGE": vars_.get("language") or "zh",
        "IVR_REPEAT": "1" if repeat else "0",
        "IVR_TICKET": vars_.get("ticket_number", ""),
        "TRANSFER_NUMBER": "",
        "IVR_EMERGENCY": "0",
    }
    if isinstance(action, Queue):
        out.update(IVR_QUEUE=action.queue, IVR_SKILL=action.skill, IVR_PRIORITY=str(action.priority))
        outcome = "queue"
    elif isinstance(action, Transfer):
        out.update(TRANSFER_NUMBER=action.number, IVR_EMERGENCY="1" if action.emergency else "0")
        outcome = "transfer"
    elif isinstance(action, Hangup):
        outcome = "hangup"
    else:
        outcome = "ended"
    out["IVR_OUTCOME"] = outcome
    return {k: _clean(v) for k, v in out.items()}


class ActionExecutor:
    """Performs runner actions over AGI; returns the runner's result, None once the call is gone.

    Never raises: a hang-up (inline HANGUP, 511, EOF, socket error) ends the session, a bad
    reply counts as "no input", and ``MAX_ERRORS`` bad replies in a row end it as broken.
    """

    MAX_ERRORS = 3

    def __init__(self, agi: AGI, lookup: Callable[[str], str] = lambda _n: "",
                 attach: Callable[[str], str] = lambda _i: ""):
        self.agi = agi
        self.lookup = lookup
        self.attach = attach
        self.hung_up = False
        self.broken = False
        self.last_failed = False  # the last command answered result=-1
        self._errors = 0

    def answer(self) -> None:
        try:
            self.agi.answer()
        except (AGIHangup, OSError, EOFError):
            self.hung_up = True
        except (AGIError, ValueError, TypeError, UnicodeError):
            pass  # a channel that cannot be answered still gets its flow (early media)

    def perform(self, action: Action) -> Any:
        self.last_failed = False
        if self.hung_up or self.broken:
            return None
        try:
            result = self._do(action)
        except (AGIHangup, OSError, EOFError):  # timeouts and resets are OSErrors
            self.hung_up = True
            return None
        except AGIAppError:  # result=-1: missing sound file, or the caller just hung up
            self.last_failed = True
            return self._probe()
        except (AGIError, ValueError, TypeError, UnicodeError) as exc:
            self._errors += 1
            log.warning("agi_bad_reply", error=str(exc)[:120], action=type(action).__name__)
            if self._errors >= self.MAX_ERRORS:
                self.broken = True
                return None
            return ""
        self._errors = 0
        return result

    def _probe(self) -> Any:
        """After result=-1: a live channel answers CHANNEL STATUS, a dead one gets 511/HANGUP."""
        try:
            self.agi.channel_status()
        except (AGIHangup, OSError, EOFError):
            self.hung_up = True
            return None
        except (AGIError, ValueError, TypeError, UnicodeError):
            pass
        return ""

    def _do(self, action: Action) -> Any:
        if isinstance(action, Play):
            return self.agi.stream_file(_sound(action.prompt), action.escape_digits)
        if isinstance(action, GetDigits):
            timeout = max(1, int(action.timeout_ms))
            if action.prompt is None and action.max_digits <= 1:
                return self.agi.wait_for_digit(timeout)
            prompt = _sound(action.prompt) if action.prompt else "silence/1"
            return self.agi.get_data(prompt, timeout, max(1, int(action.max_digits)))
        if isinstance(action, LookupTicket):
            try:
                return self.lookup(action.number)
            except Exception as exc:  # a failed lookup reads as "not found"
                log.warning("ivr_ticket_lookup_failed", error=str(exc)[:120])
                return ""
        if isinstance(action, AttachIncident):
            try:
                return self.attach(action.incident_id)
            except Exception as exc:  # not attached: the caller goes on in the flow
                log.warning("ivr_incident_attach_failed", error=str(exc)[:120])
                return ""
        return ""  # SetVars: call variables travel in the runner until the end

    def finish(self, action: Action, plan: SessionPlan, vars_: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Set the channel variables of a terminal action; returns (outcome, variables)."""
        values = channel_vars(action, plan, vars_)
        outcome = values["IVR_OUTCOME"]
        if self.broken:
            return "error", {}
        if isinstance(action, Hangup) and action.prompt:
            self.perform(Play(action.prompt, ""))
        if self.hung_up:
            return ("hangup" if isinstance(action, Hangup) else "ended"), {}
        try:
            for name, value in values.items():
                self.agi.set_variable(name, value)
        except (AGIHangup, OSError, EOFError):
            self.hung_up = True
            return ("hangup" if isinstance(action, Hangup) else "ended"), {}
        except (AGIError, ValueError, TypeError, UnicodeError):
            return "error", {}  # IVR_OUTCOME (set last) is not set: the dialplan goes to Stasis
        return outcome, values


def _sound(prompt: str) -> str:
    name = f"{SOUND_DIR}/{prompt}"
    if not _SAFE_SOUND.match(name) or ".." in name:
        raise ValueError(f"unsafe prompt name {prompt!r}")
    return name


def _label(flow: Flow, node_id: str) -> str | None:
    """The node's name for people (its ``label`` in the flow file), recorded with the path."""
    node = flow.nodes.get(node_id)
    return node.label if node is not None else None


def run_session(agi: AGI, plan: SessionPlan, lookup: Callable[[str], str] = lambda _n: "",
                attach: Callable[[str], str] = lambda _i: "") -> SessionResult:
    """Run one call's flow over AGI (worker thread). Never raises for anything the peer sends."""
    ex = ActionExecutor(agi, lookup, attach)
    ex.answer()
    if plan.blocked:
        for prompt in BLOCKED_PROMPTS:  # polite message, never queued
            if ex.perform(Play(prompt, "")) is None or not ex.last_failed:
                break
        outcome, values = ex.finish(Hangup(None), plan, dict(plan.context.vars))
        return SessionResult(outcome, [{"node": "blacklist", "input": None, "label": BLOCKED_LABEL}], "blacklist",
                             values)
    runner = FlowRunner(plan.flow, plan.context)
    action = runner.start()
    while not action.terminal:
        action = runner.feed(ex.perform(action))
    outcome, values = ex.finish(action, plan, runner.vars)
    path = [{"node": node, "input": value, "label": _label(plan.flow, node)} for node, value in runner.path]
    return SessionResult(outcome, path, runner.node_id, values)
