"""`callcenter ivr check` as the operator runs it: the flows with their rendered prompts measured
against the limits in settings, the merged-line map by its own schema. Needs espeak-ng and sox
(what `make setup` installs), no services."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

from callcenter.infra.settings import REPO_ROOT

FLOWS = REPO_ROOT / "ivr_flows"


def ivr_check(*args: str, **settings: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env.update({f"CALLCENTER_{k.upper()}": v for k, v in settings.items()})
    return subprocess.run([sys.executable, "-m", "callcenter.cli", "ivr", "check", *args], env=env,
                          capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)


def copy_flows(tmp_path: Path) -> Path:
    target = tmp_path / "ivr_flows"
    shutil.copytree(FLOWS, target)
    return target


def test_the_shipped_files_pass_each_by_its_own_schema() -> None:
    files = sorted(str(p.relative_to(REPO_ROOT)) for p in FLOWS.glob("*.yaml"))  # what ivr_flows/*.yaml expands to
    assert "ivr_flows/merged_lines.yaml" in files
    proc = ivr_check(*files)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert len(out) == len(files) and all(": ok (" in line for line in out)
    assert "ivr_flows/merged_lines.yaml: ok (10 merged lines)" in out
    main = next(line for line in out if line.startswith("ivr_flows/main.yaml"))
    assert "greeting 6." in main and "limits 8 / 15 / 30 s" in main  # the longer, recorded-call welcome


def test_a_long_greeting_and_a_slow_silent_path_fail_and_wider_limits_in_settings_pass(tmp_path: Path) -> None:
    flows = copy_flows(tmp_path)
    zh = flows / "prompts" / "zh.yaml"
    zh.write_text(zh.read_text(encoding="utf-8").replace(
        "welcome: 您好，攀枝花一二三四五热线。",
        "welcome: 您好，欢迎致电攀枝花一二三四五政务服务便民热线，本热线七乘二十四小时为您服务。"), encoding="utf-8")
    proc = ivr_check(str(flows / "main.yaml"))
    assert proc.returncode == 1 and proc.stdout == ""
    problems = proc.stderr.splitlines()
    assert any("main.yaml: node 'greeting': greeting lasts" in p and "(limit 8 s)" in p for p in problems), problems
    assert any("node 'agent_general': a caller who presses nothing reaches the queue after" in p
               and "(limit 30 s)" in p for p in problems), problems
    wider = ivr_check(str(flows / "main.yaml"), ivr_max_greeting_s="20", ivr_max_no_input_s="45")
    assert wider.returncode == 0, wider.stderr


def test_a_recorded_prompt_is_measured_instead_of_the_text(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    with wave.open(str(sounds / "menu_main.wav"), "wb") as w:  # a 16 s recording of the main menu
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000 * 16)
    proc = ivr_check("ivr_flows/main.yaml", "--sounds", str(sounds))
    assert proc.returncode == 1
    assert "node 'main_menu': menu prompt 'menu_main' lasts 16.0 s (limit 15 s)" in proc.stderr


def test_a_bad_line_map_and_a_broken_flow_are_named(tmp_path: Path) -> None:
    flows = copy_flows(tmp_path)
    lines = flows / "merged_lines.yaml"
    lines.write_text(lines.read_text(encoding="utf-8").replace(
        '{number: "12316", department: agriculture', '{number: "110", department: agriculture'), encoding="utf-8")
    main = flows / "main.yaml"
    main.write_text(main.read_text(encoding="utf-8").replace('"9": emergency_menu', '"9": no_such_node'),
                    encoding="utf-8")
    proc = ivr_check(str(lines), str(main), str(flows / "merged_line.yaml"))
    assert proc.returncode == 1
    assert "emergency line 110 cannot be a merged line" in proc.stderr and f"{lines}:" in proc.stderr
    assert "options.9 refers to unknown node 'no_such_node'" in proc.stderr
    [ok] = proc.stdout.splitlines()  # the good file in between is still checked
    assert ok.startswith(f"{flows / 'merged_line.yaml'}: ok (")
