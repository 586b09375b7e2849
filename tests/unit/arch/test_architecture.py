"""The house rules of the layout, checked on the source (DESIGN: wiring goes one way).

- no import cycle between modules of `callcenter/`, counting imports inside functions too
  (a cycle broken only by a function-local import is still a cycle); imports under
  `if TYPE_CHECKING:` are for the type checker and do not count;
- no feature imports the composition root `callcenter.app`;
- `callcenter.infra` imports no feature;
- no module over 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

from callcenter.infra.graphs import cycles

PKG = Path(__file__).resolve().parents[3] / "callcenter"
TOP_LEVEL = {"app", "cli", "stack", "seed", "doctor", "context"}  # may import features
MAX_LINES = 400


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PKG.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in MODULES and m != name and not _is_package(m)}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    return sorted(sorted(c) for c in cycles(graph))


def _feature(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) < 3 or parts[1] in TOP_LEVEL or parts[1] == "infra":
        return None
    return parts[1]


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    assert _cycles({"a": {"a"}, "b": {"x"}}) == [["a"]]  # a self loop; edges out of the graph ignored


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_no_feature_imports_the_app():
    offenders = sorted(m for m, deps in GRAPH.items() if _feature(m) and "callcenter.app" in deps)
    assert offenders == []


def test_infra_imports_no_feature():
    offenders = {m: sorted(d for d in deps if _feature(d)) for m, deps in GRAPH.items()
                 if m.startswith("callcenter.infra")}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_modules_stay_short():
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
