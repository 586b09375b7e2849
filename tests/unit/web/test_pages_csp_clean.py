"""The pages run under ``script-src 'self'; style-src 'self'`` (callcenter/accounts/guard.py):
no inline <script>, no on...= handler attribute, no style= attribute, no javascript: URL in the
HTML files nor in the markup the scripts build; such a thing would silently stop working."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[3] / "callcenter"
STATIC_DIRS = sorted(d for d in PKG.rglob("static") if d.is_dir())  # each feature's pages and the shell's files
FILES = sorted(p for d in STATIC_DIRS for p in d.iterdir() if p.suffix in (".html", ".js"))
HANDLER = re.compile(r"<[a-zA-Z][^<>]*\son[a-z]+\s*=", re.S)  # <img onerror=…> in markup
STYLE_ATTR = re.compile(r"<[a-zA-Z][^<>]*\sstyle\s*=", re.S)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_inline_script_handler_or_style(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it into a file under static/"
    assert not HANDLER.search(text), "inline event handler: use addEventListener"
    assert not STYLE_ATTR.search(text), "style= attribute: use a class in style.css"
    assert "javascript:" not in text.lower()


def test_the_pages_are_there() -> None:
    assert {"agent.html", "board.html", "dept.html", "admin.html", "login.html", "dispatch.html"} <= {
        p.name for p in FILES}
