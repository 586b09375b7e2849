"""/admin's audit log reads in Chinese (#25 item 6): every action the code writes to the audit log
(``audit.write(by, "<action>", …)`` and the policy table's ``audit=``) has a label in the pages'
shared LABELS (callcenter/web/static/common.js, group ``audit``), and /admin shows it by label."""

from __future__ import annotations

import re
from pathlib import Path

from callcenter.accounts.model import POLICY

PKG = Path(__file__).resolve().parents[3] / "callcenter"
WRITE = re.compile(r'audit\.write\(\s*[^,()]+(?:\([^)]*\))?[^,]*,\s*"([a-z_]+)"')


def _written_actions() -> set[str]:
    found = {m for p in PKG.rglob("*.py") for m in WRITE.findall(p.read_text(encoding="utf-8"))}
    return found | {r.audit for r in POLICY if r.audit}


def _labels(group: str) -> dict[str, str]:
    js = (PKG / "web" / "static" / "common.js").read_text(encoding="utf-8")
    body = re.search(group + r": \{(.*?)\}", js, re.S)
    assert body, f"no LABELS.{group} in common.js"
    return dict(re.findall(r'(\w+): "([^"]+)"', body.group(1)))


def test_every_audit_action_has_a_chinese_label() -> None:
    actions = _written_actions()
    assert {"user_added", "login", "supervise", "show_number"} <= actions  # the scan finds them
    labels = _labels("audit")
    assert not actions - set(labels), sorted(actions - set(labels))
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in labels.values()), labels


def test_admin_shows_the_action_by_its_label() -> None:
    js = (PKG / "accounts" / "static" / "admin.js").read_text(encoding="utf-8")
    assert 'label("audit", e.action)' in js
