"""Pure IVR step machine: emits Actions, is fed their results, never does I/O.

Protocol (the adapter, AGI or ARI, performs each action and feeds back the result)::

    runner = FlowRunner(flow, CallContext(caller, dnis, now, vars))
    action = runner.start()
    while not action.terminal:
        action = runner.feed(perform(action))

Results per action:

* ``Play(prompt, escape_digits)``  -> the digit pressed, or "" (played to the end)
* ``GetDigits(prompt, timeout_ms, max_digits)`` -> digits ("" on timeout);
  ``prompt`` None means "just wait for digits"
* ``LookupTicket(number)`` -> status string; "" when the ticket is not found
* ``AttachIncident(incident_id)`` -> "ok" when the call joined the incident, else ""
* ``SetVars(vars)`` -> ignored (the adapter sets channel variables)

``None`` fed for any action means the caller hung up -> ``Ended("hangup")``.
Garbage (wrong types, non-digit or overlong strings) counts as invalid input and
never raises.  Any sequence of results ends in a terminal action (Transfer,
Hangup, Queue, Ended) within ``max_steps`` feeds; past that the call goes to the
``general`` queue so the caller reaches a human.  The one exception: a caller
who picked an emergency transfer (110/119/120/122) at the limit still gets the
transfer (at most 2 extra feeds: the choice and the announcement); emergency
choices are never turned into a Queue.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from .actions import (
    ALL_DIGITS,
    CN_TZ,
    MAX_RESULT_LEN,
    Action,
    AttachIncident,
    CallContext,
    Ended,
    GetDigits,
    Hangup,
    LookupTicket,
    Play,
    Queue,
    SetVars,
    Transfer,
    clip,
    digit_input,
    is_open,
    var_str,
)
from .schema import (
    DIAL_RE,
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
    render_template,
)

GENERAL_QUEUE = "general"
REPEAT_PRIORITY = 5

_Cont = Callable[[Any], "Action"]


class FlowRunner:
    def __init__(self, flow: Flow, ctx: CallContext, max_steps: int = 200):
        self.flow = flow
        self.ctx = ctx
        self.max_steps = max_steps
        self.vars: dict[str, str] = {str(k): var_str(v) for k, v in dict(ctx.vars or {}).items()}
        self.path: list[tuple[str, str | None]] = []
        self.steps = 0
        self.node_id: str | None = None  # node the call is at now
        self.error: BaseException | None = None  # internal error that forced the fallback
        self.action: Action | None = None  # last action returned
        self._cont: _Cont | None = None
        self._typeahead = ""
        self._started = False

    # ----------------------------------------------------------------- public

    @property
    def done(self) -> bool:
        return self.action is not None and self.action.terminal

    def start(self) -> Action:
        if self._started and self.action is not None:
            return self.action
        self._started = True
        return self._guard(lambda: self._goto(self.flow.start))

    def feed(self, result: Any) -> Action:
        if not self._started:
            if result is None:
                self._started = True
                return self._emit(Ended("hangup"))
            return self.start()
        if self.action is not None and self.action.terminal:
            return self.action
        if result is None:
            self.path.append((self.node_id or "", None))
            return self._emit(Ended("hangup"))
        cont = self._cont
        if cont is None:
            return self._guard(self._fallback)
        return self._guard(lambda: cont(result))

    # ----------------------------------------------------------------- core

    def _guard(self, fn: Callable[[], Action]) -> Action:
        try:
            action = fn()
        except Exception as exc:  # the runner must never raise into the call
            self.error = exc
            action = self._fallback("error")
        return action

    def _emit(self, action: Action, cont: _Cont | None = None) -> Action:
        self.action = action
        self._cont = cont
        return action

    def _tick(self) -> bool:
        self.steps += 1
        return self.steps > self.max_steps

    def _fallback(self, reason: str = "max_steps") -> Action:
        vars_ = dict(self.vars)
        vars_["ivr_fallback"] = reason
        return self._emit(self._queue_action(GENERAL_QUEUE, GENERAL_QUEUE, 0, vars_))

    def _queue_action(self, queue: str, skill: str, priority: int, vars_: dict[str, str]) -> Queue:
        try:
            repeat = int(self.ctx.recent_calls_24h or 0) > 0
        except (TypeError, ValueError):
            repeat = False
        if repeat:
            priority = max(priority, REPEAT_PRIORITY)
            vars_["repeat"] = "1"
        return Queue(queue=queue, skill=skill, priority=priority, vars=vars_)

    def _is_emergency(self, node_id: str | None) -> bool:
        node = self.flow.nodes.get(node_id or "")
        return isinstance(node, TransferNode) and node.emergency

    def _goto(self, node_id: str) -> Action:
        # an emergency transfer is honoured even past the step limit (never queued)
        if self._tick() and not self._is_emergency(node_id):
            return self._fallback()
        node = self.flow.nodes.get(node_id)
        if node is None:
            return self._fallback("bad_node")
        self.node_id = node_id
        handler = getattr(self, f"_do_{node.type}")
        return handler(node_id, node)

    def _after_input(self, cont: _Cont) -> _Cont:
        """Wrap a continuation: each fed result costs a step."""

        def wrapped(result: Any) -> Action:
            if self._tick():
                node = self.flow.nodes.get(self.node_id or "")
                if self._is_emergency(self.node_id):
                    return cont(result)  # emergency announce played: transfer now
                if isinstance(node, MenuNode) and isinstance(result, str) and result in node.options:
                    target = node.options[result]
                    if self._is_emergency(target):
                        self.path.append((self.node_id or "", result))
                        return self._goto(target)
                return self._fallback()
            return cont(result)

        return wrapped

    def _wait(self, action: Action, cont: _Cont) -> Action:
        return self._emit(action, self._after_input(cont))

    # ----------------------------------------------------------------- node handlers

    def _do_play(self, nid: str, node: PlayNode) -> Action:
        escape = ALL_DIGITS if node.interruptible else ""
        if escape and self._typeahead:
            # the caller already pressed a digit: skip further interruptible prompts
            self.path.append((nid, "<skipped>"))
            return self._goto(node.next)

        def done(result: Any) -> Action:
            self._typeahead = ""
            if escape and digit_input(result, 1) and result:
                self._typeahead = result
            self.path.append((nid, clip(result)))
            return self._goto(node.next)

        return self._wait(Play(node.prompt, escape), done)

    def _do_say_var(self, nid: str, node: SayVarNode) -> Action:
        value = self.vars.get(node.var, "")
        prompt = node.prompts.get(value, node.default_prompt)
        if prompt is None:  # no variant for this value and no default: nothing to say
            self.path.append((nid, "<none>"))
            return self._goto(node.next)
        if self._typeahead:  # a digit is already pressed: said in full (a notice), the digit kept
            def said(result: Any) -> Action:
                self.path.append((nid, "<typeahead kept>"))
                return self._goto(node.next)

            return self._wait(Play(prompt, ""), said)

        def done(result: Any) -> Action:  # a digit pressed is type-ahead for the next menu
            self._typeahead = result if digit_input(result, 1) else ""
            self.path.append((nid, clip(result)))
            return self._goto(node.next)

        return self._wait(Play(prompt, ALL_DIGITS), done)

    def _do_set(self, nid: str, node: SetNode) -> Action:
        new = node.str_vars()
        self.vars.update(new)

        def done(result: Any) -> Action:
            self.path.append((nid, ""))
            return self._goto(node.next)

        return self._wait(SetVars(dict(new)), done)

    def _do_hours(self, nid: str, node: HoursNode) -> Action:
        now = self.ctx.now if isinstance(self.ctx.now, _dt.datetime) else _dt.datetime.now(CN_TZ)
        opened = is_open(node, now)
        self.path.append((nid, "open" if opened else "closed"))
        return self._goto(node.next_open if opened else node.next_closed)

    def _do_lookup_ticket(self, nid: str, node: LookupTicketNode) -> Action:
        number = self.vars.get(node.var, "")
        if not number:
            self.path.append((nid, ""))
            return self._goto(node.next_not_found)

        def done(result: Any) -> Action:
            status = result.strip()[:MAX_RESULT_LEN] if isinstance(result, str) else ""
            self.path.append((nid, status))
            if status:
                self.vars[node.result_var] = status
                return self._goto(node.next_found)
            self.vars.pop(node.result_var, None)
            return self._goto(node.next_not_found)

        return self._wait(LookupTicket(number), done)

    def _do_incident(self, nid: str, node: IncidentNode) -> Action:
        """The caller's incident (vars ``incident_id``, ``incident_prompt``, ``incident_prompt_s``
        from the session plan): announce it, attach the call on ``digit``."""
        iid, prompt = self.vars.get("incident_id", ""), self.vars.get("incident_prompt", "")
        try:
            fits = float(self.vars.get("incident_prompt_s", "inf")) <= node.max_prompt_s
        except ValueError:
            fits = False
        if not (iid and prompt and fits):  # nothing to announce: as if the node were not there
            self.steps -= 1
            return self._goto(node.next_none or node.next)

        def attached(result: Any) -> Action:
            ok = result == "ok"
            self.path.append((nid, "attached" if ok else "attach_failed"))
            if ok:
                self.vars["incident_attached"] = iid
            return self._goto(node.next_attached if ok else node.next)

        def answer(result: Any) -> Action:
            digit = digit_input(result, 1)
            if digit and digit == node.digit:
                return self._wait(AttachIncident(iid), attached)
            self.path.append((nid, clip(result)))
            self._typeahead = digit or ""
            return self._goto(node.next if digit else node.on_timeout or node.next)

        return self._wait(GetDigits(prompt, max(1, int(node.timeout_s * 1000)), 1), answer)

    def _do_menu(self, nid: str, node: MenuNode) -> Action:
        timeout_ms = int(node.timeout_s * 1000)
        failures = 0

        def ask(replay_prompt: str | None) -> Action:
            if replay_prompt is not None:  # barge-in: a digit pressed now answers the menu
                escape = ALL_DIGITS if node.interruptible else ""
                return self._wait(Play(replay_prompt, escape), replayed)
            if node.interruptible:
                return self._wait(GetDigits(node.prompt, timeout_ms, 1), answer)
            return self._wait(
                Play(node.prompt, ""), lambda _r: self._wait(GetDigits(None, timeout_ms, 1), answer)
            )

        def replayed(result: Any) -> Action:
            return answer(result) if node.interruptible and digit_input(result, 1) else ask(None)

        def answer(result: Any) -> Action:
            nonlocal failures
            self.path.append((nid, clip(result)))
            digit = digit_input(result, 1)
            if digit and digit in node.options:
                return self._goto(node.options[digit])
            timeout = digit == ""
            failures += 1
            if failures > node.retries:
                return self._goto(node.on_timeout if timeout else node.on_invalid)
            return ask(node.timeout_prompt if timeout else node.invalid_prompt)

        ahead, self._typeahead = self._typeahead, ""
        if ahead:
            self.path.append((nid, ahead))
            if ahead in node.options:
                return self._goto(node.options[ahead])
        return ask(None)

    def _do_collect(self, nid: str, node: CollectNode) -> Action:
        self._typeahead = ""
        timeout_ms = int(node.timeout_s * 1000)
        failures = 0
        on_invalid = node.on_invalid or node.on_timeout

        def ask(replay_prompt: str | None) -> Action:
            if replay_prompt is not None:
                return self._wait(Play(replay_prompt, ""), lambda _r: ask(None))
            return self._wait(GetDigits(node.prompt, timeout_ms, node.max_digits), answer)

        def answer(result: Any) -> Action:
            nonlocal failures
            self.path.append((nid, clip(result)))
            digits = digit_input(result, node.max_digits + 1)
            if digits is not None and node.terminator and digits.endswith(node.terminator):
                digits = digits[: -len(node.terminator)]
            ok = (
                digits is not None
                and digits.isdigit()
                and digits.isascii()
                and node.min_digits <= len(digits) <= node.max_digits
            )
            if ok and digits is not None:
                self.vars[node.var] = digits
                return self._goto(node.next)
            timeout = digits == ""
            failures += 1
            if failures > node.retries:
                return self._goto(node.on_timeout if timeout else on_invalid)
            return ask(None if timeout else node.invalid_prompt)

        return ask(None)

    def _do_transfer(self, nid: str, node: TransferNode) -> Action:
        number = render_template(node.number, self.vars)
        if not DIAL_RE.match(number):
            return self._fallback("bad_transfer_number")
        final = Transfer(number, node.emergency)

        def go(_r: Any = "") -> Action:
            self.path.append((nid, ""))
            return self._emit(final)

        if node.announce:
            return self._wait(Play(node.announce, ""), go)
        return go()

    def _do_hangup(self, nid: str, node: HangupNode) -> Action:
        self.path.append((nid, ""))
        return self._emit(Hangup(node.prompt))

    def _do_queue(self, nid: str, node: QueueNode) -> Action:
        queue = render_template(node.queue, self.vars) or GENERAL_QUEUE
        skill = render_template(node.skill, self.vars) if node.skill else queue
        priority = node.priority
        if priority is None:
            try:
                priority = max(0, min(10, int(self.vars.get("priority", "0"))))
            except ValueError:
                priority = 0

        def go(_r: Any = "") -> Action:
            self.path.append((nid, ""))
            return self._emit(self._queue_action(queue, skill or queue, priority, dict(self.vars)))

        if node.prompt:
            return self._wait(Play(node.prompt, ""), go)
        return go()
