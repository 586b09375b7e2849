"""The AGI action executor and the pyst2 subclass, against a scripted Asterisk and random replies."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from asterisk.agi import AGI, AGIHangup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcenter.ivr.actions import CallContext, Queue, Transfer
from callcenter.ivr.fastagi_session import (
    AGIChannelGone,
    PystAGI,
    SessionPlan,
    channel_vars,
    run_session,
)
from callcenter.ivr.lines import load_merged_lines
from callcenter.ivr.loader import load_flows

FLOWS_DIR = Path(__file__).resolve().parents[3] / "ivr_flows"
FLOWS = load_flows(FLOWS_DIR)
LINES = load_merged_lines(FLOWS_DIR / "merged_lines.yaml")
NOW = dt.datetime(2024, 10, 8, 10, 0, tzinfo=dt.UTC)
ENV = "agi_network: yes\nagi_network_script: ivr\nagi_uniqueid: call-1\nagi_callerid: 13800000000\n" \
      "agi_arg_1: 12345\n\n"
OUTCOMES = {"queue", "transfer", "hangup", "ended", "error"}


def plan_for(dnis: str = "12345", recent: int = 0, blocked: bool = False) -> SessionPlan:
    name, vars_ = LINES.choose_flow(dnis)
    ctx = CallContext("13800000000", dnis, NOW, vars_, recent)
    return SessionPlan("call-1", "13800000000", dnis, name, FLOWS[name], ctx, blocked)


class ScriptedAsterisk:
    """Answers each AGI command like Asterisk would; `digits` feeds GET DATA / digit presses."""

    def __init__(self, digits: list[str] | None = None, *, hangup_after: int | None = None,
                 reply: Callable[[str], str | None] | None = None):
        self.digits = list(digits or [])
        self.commands: list[str] = []
        self.variables: dict[str, str] = {}
        self.hangup_after = hangup_after
        self.reply = reply
        self._pending: list[str] = [line + "\n" for line in ENV.split("\n")[:-1]]
        self.stdin, self.stdout = _Reader(self), _Writer(self)

    def command(self, line: str) -> None:
        self.commands.append(line)
        if self.hangup_after is not None and len(self.commands) > self.hangup_after:
            self._pending += ["HANGUP\n", "511 Command Not Permitted on a dead channel\n"]
            return
        custom = self.reply(line) if self.reply else None
        self._pending.append((custom if custom is not None else self._answer(line)) + "\n")

    def _answer(self, line: str) -> str:
        verb = " ".join(line.split()[:2])
        if verb == "SET VARIABLE":
            _, _, name, value = line.split(" ", 3)
            self.variables[name.strip('"')] = value.strip('"')
            return "200 result=1"
        if verb == "GET DATA":
            return f"200 result={self.digits.pop(0)}" if self.digits else "200 result= (timeout)"
        if verb in ("STREAM FILE", "WAIT FOR"):
            interruptible = verb == "WAIT FOR" or '"0123456789*#"' in line
            digit = self.digits.pop(0) if interruptible and self.digits else ""
            return f"200 result={ord(digit) if digit else 0} endpos=1000"
        if verb == "CHANNEL STATUS":
            return "200 result=6"
        return "200 result=0"

    def readline(self, size: int = -1) -> str:
        return self._pending.pop(0) if self._pending else ""


class _Reader(io.TextIOBase):
    def __init__(self, owner: ScriptedAsterisk):
        self.owner = owner

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        return self.owner.readline()


class _Writer(io.TextIOBase):
    def __init__(self, owner: ScriptedAsterisk):
        self.owner = owner
        self.buf = ""

    def write(self, s: str) -> int:
        self.buf += s
        return len(s)

    def flush(self) -> None:
        *lines, self.buf = self.buf.split("\n")
        for line in lines:
            self.owner.command(line)


def run(ast: ScriptedAsterisk, plan: SessionPlan | None = None, lookup=lambda n: ""):
    agi = PystAGI(ast.stdin, ast.stdout)
    assert agi.env["agi_uniqueid"] == "call-1"
    return run_session(agi, plan or plan_for(), lookup)


def test_pyst2_constructor_needs_the_main_thread_the_subclass_does_not():
    errors: list[BaseException] = []

    def build(cls) -> None:
        try:
            cls(io.StringIO(ENV), io.StringIO(), io.StringIO())
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    for cls in (AGI, PystAGI):
        t = threading.Thread(target=build, args=(cls,))
        t.start()
        t.join()
    assert len(errors) == 1 and isinstance(errors[0], ValueError)  # signal only works in main thread


def test_menu_choice_sets_the_channel_variables_outcome_last():
    ast = ScriptedAsterisk(digits=["2", "1"])  # 2 typed during the greeting, 1 in the specialist menu
    result = run(ast)
    assert result.outcome == "queue" and result.last_node == "queue_market"
    assert ast.commands[0] == "ANSWER"
    assert ast.commands[1] == 'STREAM FILE callcenter/welcome "0123456789*#" 0'
    sets = [c.split()[2].strip('"') for c in ast.commands if c.startswith("SET VARIABLE")]
    assert sets[-1] == "IVR_OUTCOME"
    assert ast.variables["IVR_QUEUE"] == "market" and ast.variables["IVR_CALL_ID"] == "call-1"
    assert ast.variables["IVR_OUTCOME"] == "queue"


def test_emergency_transfer_and_ticket_lookup():
    ast = ScriptedAsterisk(digits=["9", "1"])
    result = run(ast)
    assert result.outcome == "transfer"
    assert (ast.variables["TRANSFER_NUMBER"], ast.variables["IVR_EMERGENCY"]) == ("110", "1")

    seen: list[str] = []
    ast = ScriptedAsterisk(digits=["1", "20240001", "0"])
    result = run(ast, lookup=lambda n: seen.append(n) or "resolved")
    assert seen == ["20240001"] and result.outcome == "queue"
    assert any("ticket_status_resolved" in c for c in ast.commands)
    assert ast.variables["IVR_TICKET"] == "20240001"


def test_inline_hangup_ends_the_session_without_more_commands():
    ast = ScriptedAsterisk(hangup_after=3)
    result = run(ast)
    assert result.outcome == "ended"
    assert len(ast.commands) == 4  # nothing sent after the HANGUP line
    assert result.path[-1]["input"] is None


def test_dead_channel_511_and_eof_count_as_hang_up():
    ast = ScriptedAsterisk(reply=lambda c: "511 Command Not Permitted on a dead channel" if "GET DATA" in c else None)
    result = run(ast)
    assert result.outcome == "ended" and result.last_node == "main_menu"
    assert not ast.variables
    agi = PystAGI(io.StringIO(ENV + "200 result=0\n"), io.StringIO())  # answered, then the socket closes
    assert run_session(agi, plan_for()).outcome == "ended"
    with pytest.raises(AGIHangup):  # no command is written once the channel is gone
        agi.execute("NOOP")


def test_garbage_replies_in_a_row_end_the_session_as_broken():
    ast = ScriptedAsterisk(reply=lambda c: "garbage" if c != "ANSWER" else None)
    result = run(ast)
    assert result.outcome == "error"
    assert len(ast.commands) == 1 + 3


def test_missing_sound_file_then_live_channel_goes_on():
    # STREAM FILE of a missing file answers result=-1; CHANNEL STATUS tells it from a hang-up
    ast = ScriptedAsterisk(digits=["2", "1"], reply=lambda c: "200 result=-1 endpos=0" if "welcome" in c else None)
    result = run(ast)
    assert "CHANNEL STATUS" in ast.commands
    assert result.outcome == "queue"


def test_blocked_caller_hears_the_polite_message_and_is_not_queued():
    ast = ScriptedAsterisk(reply=lambda c: "200 result=-1 endpos=0" if "caller_blocked" in c else None)
    result = run(ast, plan_for(blocked=True))
    assert result.outcome == "hangup" and result.last_node == "blacklist"
    assert any("callcenter/goodbye" in c for c in ast.commands)
    assert ast.variables["IVR_OUTCOME"] == "hangup" and "IVR_QUEUE" in ast.variables


def test_usage_reply_at_eof_does_not_loop_forever():
    agi = PystAGI(io.StringIO(ENV + "520-Invalid command syntax.  Proper usage follows:\nUsage: x\n"),
                  io.StringIO())
    with pytest.raises(AGIChannelGone):
        agi.execute("GET DATA")


def test_channel_values_are_sanitised_and_repeat_flag_follows_the_context():
    plan = plan_for(recent=2)
    values = channel_vars(Queue("general", "general", 5, {"department": 'a"b\nc'}), plan, {"department": 'a"b\nc'})
    assert values["IVR_DEPARTMENT"] == "abc" and values["IVR_REPEAT"] == "1"
    assert list(values)[-1] == "IVR_OUTCOME"
    values = channel_vars(Transfer("12360"), plan_for("12360"), {"line": "12360"})
    assert (values["IVR_OUTCOME"], values["IVR_EMERGENCY"], values["IVR_QUEUE"]) == ("transfer", "0", "")


REPLIES = st.one_of(
    st.sampled_from([
        "HANGUP", "511 Command Not Permitted on a dead channel or intercepted subroutine", "200 result=0",
        "200 result=-1", "200 result=-1 endpos=0", "200 result=49 endpos=1234", "200 result=57",
        "200 result= (timeout)", "200 result=1234 (timeout)", "200 result=1 (hangup)", "510 Invalid command",
        "520-Invalid command syntax.  Proper usage follows:", "520 End of proper usage.", "", "   ",
        "200", "200 result=99999999999", "200 result=abc", "garbage", "999 what", "200 result=6",
        "200 result=0 endpos=0\r", "\x00\x01", "200 result=" + "9" * 300,
    ]),
    st.text(max_size=40).map(lambda s: s.replace("\n", " ")),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies=st.lists(REPLIES, max_size=60), dnis=st.sampled_from(["12345", "12315", "12360", "96960"]),
       blocked=st.booleans())
def test_random_agi_replies_never_crash_the_session(replies, dnis, blocked):
    stdin = io.StringIO(ENV + "".join(r + "\n" for r in replies))
    stdout = io.StringIO()
    agi = PystAGI(stdin, stdout)
    result = run_session(agi, plan_for(dnis, blocked=blocked), lambda n: "in_progress")
    assert result.outcome in OUTCOMES
    for line in stdout.getvalue().splitlines():  # every command is one well-formed line
        assert line and "\r" not in line and line.split()[0].isupper()


@settings(max_examples=200, deadline=None)
@given(env=st.text(max_size=300))
def test_random_environment_never_crashes_the_parser(env):
    agi = PystAGI(io.StringIO(env), io.StringIO())
    assert isinstance(agi.env, dict)


def test_a_failing_lookup_reads_as_not_found_and_a_bad_reply_to_set_variable_is_an_error():
    def boom(_n: str) -> str:
        raise RuntimeError("tickets down")

    ast = ScriptedAsterisk(digits=["1", "20240001"])
    result = run(ast, lookup=boom)
    assert ("ticket_lookup", "") in [(p["node"], p["input"]) for p in result.path]
    assert result.outcome == "queue"
    ast = ScriptedAsterisk(digits=["2", "1"], reply=lambda c: "500 what" if "IVR_PRIORITY" in c else None)
    assert run(ast).outcome == "error" and "IVR_OUTCOME" not in ast.variables


def test_the_recorded_path_names_each_step_by_its_label():
    result = run(ScriptedAsterisk(digits=["2", "1"]))  # the desk shows 欢迎语 → 主菜单 → 专席菜单 …
    assert [(p["node"], p["label"]) for p in result.path][:3] == [
        ("greeting", "欢迎语"), ("main_menu", "主菜单"), ("specialist_menu", "专席菜单")]
    assert result.path[-1]["label"] == "转市场监管专席"
