"""Two processes building the Asterisk sandbox at once (make run and make test started
together, parallel test runs): the second waits for the first instead of deleting its
half-built root."""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path

import pytest

from callcenter.infra import sandbox


def test_a_second_builder_waits_for_the_first_and_reuses_its_root(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda _: "/usr/sbin/debootstrap")
    built: list[Path] = []
    monkeypatch.setattr(sandbox, "_debootstrap", lambda root, echo: built.append(root) or root)
    root = sandbox.root_path(tmp_path)
    said: list[str] = []
    with open(tmp_path / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first builder, still running
        result: list[Path] = []
        waiter = threading.Thread(target=lambda: result.append(sandbox.build_root(tmp_path, echo=said.append)))
        waiter.start()
        deadline = time.monotonic() + 10
        while not said and time.monotonic() < deadline:
            time.sleep(0.01)
        assert said and "waiting" in said[0]
        assert not result  # still waiting on the lock
        root.mkdir()
        (root / ".complete").write_text("built\n")
    waiter.join(10)
    assert result == [root] and built == []  # the finished root is reused, nothing rebuilt


def test_a_missing_debootstrap_is_one_clear_line(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda _: None)
    with pytest.raises(sandbox.SandboxError, match="apt-get install debootstrap"):
        sandbox.build_root(tmp_path)
