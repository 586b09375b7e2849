"""Bad settings and missing services give one clear line each, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest


def run_cli(settings, *args: str, timeout: float = 30, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env.update({f"CALLCENTER_{k.upper()}": str(v) for k, v in settings.model_dump().items() if v is not None})
    env.update({f"CALLCENTER_{k.upper()}": v for k, v in env_overrides.items()})
    env["CALLCENTER_LOG_LEVEL"] = "WARNING"
    try:
        return subprocess.run([sys.executable, "-m", "callcenter.cli", *args], env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"`callcenter {' '.join(args)}` did not stop: {exc.stderr!r}") from None


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("callcenter ")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return errors[0]


def test_invalid_setting_names_the_variable(settings):
    line = one_line_error(run_cli(settings, "migrate", mqtt_port="not-a-port"))
    assert "CALLCENTER_MQTT_PORT" in line


def test_postgres_down_is_one_line(settings, database):
    line = one_line_error(run_cli(settings, "run", database_url="postgresql://x:y@127.0.0.1:1/none"))
    assert "PostgreSQL unreachable" in line


def test_wrong_ari_password_is_one_line(settings, database, asterisk):
    line = one_line_error(run_cli(settings, "run", ari_password="wrong", http_port=str(_free())))
    assert "ARI" in line and "CALLCENTER_ARI_PASSWORD" in line


def test_http_port_taken_is_one_line(settings, database, asterisk):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        line = one_line_error(run_cli(settings, "run", http_port=str(port), agi_port=str(_free()),
                                      ari_app="cli-port-test"))
    assert f"port {port} is taken" in line and "CALLCENTER_HTTP_PORT" in line and "AGI" not in line


def test_fastagi_port_taken_names_the_agi_port_not_the_http_port(settings, database, asterisk):
    """A second `callcenter run` finds 4573 (FastAGI) taken first: the line must say so."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        line = one_line_error(run_cli(settings, "run", agi_port=str(port), http_port=str(_free()),
                                      ari_app="cli-agi-port-test"))
    assert f"FastAGI port {port}" in line and "CALLCENTER_AGI_PORT" in line
    assert "HTTP" not in line


def test_wrong_ari_password_makes_call_print_exactly_one_line(settings, asterisk):
    proc = run_cli(settings, "call", "12345", ari_password="wrong")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "callcenter call: error: ARI refused the user/password (CALLCENTER_ARI_USER / CALLCENTER_ARI_PASSWORD)"]


@pytest.mark.parametrize("bad", ["ivr_flows/../tests/unit/ivr/broken/unknown_next.yaml"])
def test_ivr_check_reports_broken_flow(settings, bad):
    proc = run_cli(settings, "ivr", "check", bad)
    assert proc.returncode == 1 and "unknown_next.yaml" in proc.stderr


def _free() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
