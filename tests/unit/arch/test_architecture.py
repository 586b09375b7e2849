"""The house rules of the layout, checked on the source (DESIGN: wiring goes one way).

- no import cycle between modules of `callcenter/`, counting imports inside functions too
  (a cycle broken only by a function-local import is still a cycle); imports under
  `if TYPE_CHECKING:` are for the type checker and do not count;
- no feature imports the composition root `callcenter.app`;
- `callcenter.infra` imports no feature;
- no module over 400 lines.
"""

from __future__ import annotations

from unit.arch.import_graph import PKG, graph, modules

from callcenter.infra.graphs import cycles

TOP_LEVEL = {"app", "cli", "stack", "seed", "doctor", "context"}  # may import features
MAX_LINES = 400

MODULES = modules(PKG)
# edges to a package itself (its __init__) are left out: every package __init__ is empty or import-only
GRAPH = {name: {d for d in deps if MODULES[d].name != "__init__.py"} for name, deps in graph(MODULES).items()}


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


def test_the_web_shell_imports_no_feature():
    """`callcenter.web` (page serving, the live hub, the security headers) is shared by the pages
    of every feature: like infra, it depends on none of them."""
    offenders = {m: sorted(d for d in deps if _feature(d) not in (None, "web")) for m, deps in GRAPH.items()
                 if m.startswith("callcenter.web")}
    assert any(m.startswith("callcenter.web.") for m in GRAPH)
    assert {m: d for m, d in offenders.items() if d} == {}
