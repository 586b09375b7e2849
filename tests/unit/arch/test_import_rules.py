"""The import rule between features (docs/architecture.md, "The rules of the house"):

a module of feature X imports from another feature Y only Y's public surface,
`callcenter.Y.api` (or the package `callcenter.Y` itself when its `__init__` is import-only),
counting imports inside functions and under `if TYPE_CHECKING:` (a type named there is a
dependency all the same). Not features: the top-level modules (app, cli, stack, seed, doctor,
context), `infra/` and the `web/` shell, which imports no feature at all.
"""

from __future__ import annotations

from pathlib import Path

from unit.arch.import_graph import PKG, graph, import_only, modules

NOT_FEATURES = {"app", "cli", "stack", "seed", "doctor", "context", "infra", "web", "migrations"}



def feature(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) >= 2 and parts[1] not in NOT_FEATURES else None


def violations(root: Path) -> set[tuple[str, str]]:
    """(module, imported module) for every import of another feature's private module."""
    known = modules(root)
    top = root.name
    found = set()
    for name, deps in graph(known, type_checking=True).items():
        mine = feature(name)
        if mine is None:
            continue
        for dep in deps:
            theirs = feature(dep)
            if theirs is None or theirs == mine:
                continue
            surface = f"{top}.{theirs}.api"
            whole = f"{top}.{theirs}"
            if dep == surface or (dep == whole and import_only(known[dep])):
                continue
            found.add((name, dep))
    return found


def test_features_read_each_other_only_through_their_public_surface():
    assert violations(PKG) == set()


def test_api_modules_hold_names_only():
    surfaces = {name: path for name, path in modules(PKG).items() if name.endswith(".api")}
    assert surfaces  # accounts, acd, calls, surveys, tickets at least
    assert [name for name, path in surfaces.items() if not import_only(path)] == []


def test_the_web_shell_and_infra_import_no_feature():
    offenders = {(m, d) for m, deps in graph(modules(PKG), type_checking=True).items()
                 if m.split(".")[1:2] in (["infra"], ["web"]) for d in deps if feature(d)}
    assert offenders == set()


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "callcenter"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


CLEAN = {
    "__init__.py": "",
    "app.py": "from callcenter.acd.service import AcdService\nfrom callcenter.tickets.service import X\n",
    "infra/__init__.py": "",
    "infra/db.py": "",
    "acd/__init__.py": "",
    "acd/service.py": "from callcenter.acd.view import View\nfrom callcenter.tickets.api import Kind\n"
                      "from callcenter.infra import db\nimport callcenter.tickets\n",
    "acd/view.py": "from . import service\n",
    "tickets/__init__.py": '"""The tickets."""\nfrom callcenter.tickets.api import Kind\n__all__ = ["Kind"]\n',
    "tickets/api.py": "from callcenter.tickets.model import Kind\n",
    "tickets/model.py": "Kind = str\n",
    "tickets/service.py": "from callcenter.acd import api\n",
    "acd/api.py": "from callcenter.acd.view import View\n",
}


def test_the_rule_passes_a_tree_that_uses_public_surfaces_only(tmp_path):
    assert violations(_tree(tmp_path, CLEAN)) == set()


def test_the_rule_reports_a_planted_private_import_wherever_it_hides(tmp_path):
    planted = dict(CLEAN)
    planted["acd/service.py"] += "\ndef later():\n    from callcenter.tickets.model import Kind\n"
    planted["acd/view.py"] += ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                               "    from callcenter.tickets import service\n")
    planted["tickets/service.py"] += "from ..acd.view import View\n"  # relative, across features
    assert violations(_tree(tmp_path, planted)) == {
        ("callcenter.acd.service", "callcenter.tickets.model"),
        ("callcenter.acd.view", "callcenter.tickets.service"),
        ("callcenter.tickets.service", "callcenter.acd.view"),
    }


def test_a_package_init_with_logic_is_no_public_surface(tmp_path):
    planted = dict(CLEAN)
    planted["tickets/__init__.py"] = "def helper():\n    return 1\n"
    assert violations(_tree(tmp_path, planted)) == {("callcenter.acd.service", "callcenter.tickets")}
