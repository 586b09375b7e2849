"""`callcenter ivr check FILE...`: validate IVR files the way a hall edits them.

Each file is checked by its own schema: a flow (a mapping with ``nodes``) by the flow validator,
then its prompts are rendered (or the recorded files in ``--sounds`` are used), measured, and the
flow is held to the limits in settings (``CALLCENTER_IVR_MAX_*``, see ``limits.py``); the line
map (``merged_lines.yaml``, a mapping with ``lines``) by the merged-line schema. One line per
problem, ``file[:line]: [node 'id':] message``; the exit status is 1 if any file has one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from callcenter.infra.prompt_audio import AudioError, prompt_seconds
from callcenter.infra.prompts import prompt_texts
from callcenter.infra.settings import Settings

from .issues import FlowError
from .limits import IvrLimits, check_flow
from .lines import load_merged_lines
from .loader import load_flow
from .schema import Flow

Say = Callable[[str], None]


def audio_cache(settings: Settings) -> Path:
    """Where rendered prompts are kept for measuring (content-addressed, shared by checkouts)."""
    for base in (settings.asterisk_cache, Path(tempfile.gettempdir())):
        cache = base / "prompt-audio"
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        return cache
    raise AudioError("no writable directory for rendered prompts (CALLCENTER_ASTERISK_CACHE)")


def _kind(path: Path) -> str:
    try:
        head = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return "flow"  # the flow validator reports the syntax error with its line
    if isinstance(head, dict) and "lines" in head and "nodes" not in head:
        return "lines"
    return "flow"


def _texts(flow_file: Path) -> dict[str, str]:
    prompts = flow_file.parent / "prompts"
    return prompt_texts(prompts) if prompts.is_dir() else {}


def check_flow_file(path: Path, settings: Settings, *, measure: bool, sounds: Path | None,
                    say: Say, complain: Say) -> bool:
    try:
        flow = load_flow(path)
    except FlowError as exc:
        for issue in exc.issues:
            complain(str(issue))
        return False
    if not measure:
        say(f"{path}: ok (prompt lengths not measured)")
        return True
    texts = _texts(path)
    used = {p for node in flow.nodes.values() for _, p in node.prompt_refs()}
    missing = sorted(p for p in used if p not in texts and not (sounds and (sounds / f"{p}.wav").is_file()))
    for p in missing:
        complain(f"{path}: prompt '{p}' has no text in {path.parent / 'prompts'} and no recorded file to measure")
    durations = prompt_seconds({p: texts.get(p, "") for p in used if p not in missing},
                               audio_cache(settings), sounds)
    limits = IvrLimits.from_settings(settings)
    timing = check_flow(flow, durations, limits, texts)
    for breach in timing.breaches:
        node = f" node '{breach.node}':" if breach.node else ""
        complain(f"{path}:{node} {breach.message}")
    if missing or timing.breaches:
        return False
    say(f"{path}: ok ({_summary(flow, timing.greeting_s, timing.prompts, timing.silent.seconds, limits)})")
    return True


def _summary(flow: Flow, greeting: float, prompts: dict[str, float], silent: float, limits: IvrLimits) -> str:
    menus = [prompts.get(getattr(n, "prompt", ""), 0.0) for n in flow.nodes.values() if n.type == "menu"]
    parts = [f"greeting {greeting:.1f} s" if greeting else "no greeting"]
    if menus:
        parts.append(f"longest menu {max(menus):.1f} s")
    parts.append(f"a caller who presses nothing is through after {silent:.1f} s")
    return (", ".join(parts) + f"; limits {limits.greeting_s:g} / {limits.menu_s:g} / {limits.no_input_s:g} s")


def check_files(files: Iterable[str], settings: Settings, *, measure: bool = True, sounds: Path | None = None,
                say: Say = print, complain: Say = print) -> int:
    ok = True
    for name in files:
        path = Path(name)
        if not path.is_file():
            complain(f"{path}: no such file")
            ok = False
            continue
        try:
            if _kind(path) == "lines":
                lines = load_merged_lines(path)
                say(f"{path}: ok ({len(lines)} merged lines)")
            else:
                ok = check_flow_file(path, settings, measure=measure, sounds=sounds, say=say,
                                     complain=complain) and ok
        except (ValueError, OSError, AudioError) as exc:  # the line map's errors, unreadable files
            for line in str(exc).splitlines():
                complain(line if line.startswith(str(path)) else f"{path}: {line}")
            ok = False
    return 0 if ok else 1
