"""Render the Mandarin prompt texts (ivr_flows/prompts/*.yaml) to Asterisk sound files.

espeak-ng speaks each text; sox makes it 8 kHz mono 16-bit wav. A manifest of text hashes
skips prompts that have not changed. Recorded files with the same names may replace them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from callcenter.infra.settings import REPO_ROOT

PROMPTS_DIR = REPO_ROOT / "ivr_flows" / "prompts"
SOUNDS_SUBDIR = "usr/share/asterisk/sounds/callcenter"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}")  # a file name in the sounds directory, no path


def prompt_texts(directory: Path = PROMPTS_DIR) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data.get("prompts"), dict):
            data = data["prompts"]
        for name, text in data.items():
            if not isinstance(text, str):
                raise ValueError(f"{path.name}: prompt {name!r} must be a string")
            if name in texts:
                raise ValueError(f"{path.name}: prompt {name!r} is defined twice")
            texts[str(name)] = text
    return texts


def render_prompt(text: str, out: Path, voice: str = "cmn") -> None:
    with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
        # "--": the text is words to speak, never options (a text "-f<file>" would speak the file)
        subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", raw.name, "--", text], check=True)
        subprocess.run(["sox", raw.name, "-r", "8000", "-c", "1", "-b", "16", str(out)], check=True)


def install_prompts(root: Path, texts: dict[str, str] | None = None) -> int:
    """Render changed prompts into the sandbox root; returns how many were rendered."""
    target = root / SOUNDS_SUBDIR
    target.mkdir(parents=True, exist_ok=True)
    # the channel language is "en": make sounds/en/callcenter resolve to the same files
    for lang in ("en", "en_US_f_Allison"):
        lang_dir = root / "usr/share/asterisk/sounds" / lang
        if lang_dir.is_dir() and not lang_dir.is_symlink() and not (lang_dir / "callcenter").exists():
            (lang_dir / "callcenter").symlink_to("../callcenter")
    return render_prompts(target, texts)


def render_prompts(target: Path, texts: dict[str, str] | None = None) -> int:
    """Render changed prompts into `target` (a sounds/callcenter directory); returns how many."""
    texts = prompt_texts() if texts is None else texts
    target.mkdir(parents=True, exist_ok=True)
    manifest_path = target / ".manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        raise RuntimeError("espeak-ng and sox are needed to render prompts: apt-get install espeak-ng sox")
    rendered = 0
    for name, text in texts.items():
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        out = target / f"{name}.wav"
        if manifest.get(name) == digest and out.exists():
            continue
        render_prompt(text, out)
        manifest[name] = digest
        rendered += 1
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=0))
    return rendered


def render_named(text: str, name: str, target: Path) -> bool:
    """Render one prompt at run time (e.g. an incident's IVR announcement) as `target/name.wav`,
    unless that file is there already (names are content-addressed by the caller). Written under
    a temporary name and renamed, so Asterisk never plays half a file and concurrent renders of
    the same text are harmless. Returns whether it rendered. Blocking: call it in a thread."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"a prompt name is letters, digits, '_' and '-' only: {name[:40]!r}")
    out = target / f"{name}.wav"
    if out.exists():
        return False
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".render-") as tmp:
        part = Path(tmp) / out.name
        render_prompt(text, part)
        part.chmod(0o644)
        part.replace(out)
    return True

