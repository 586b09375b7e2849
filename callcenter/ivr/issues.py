"""Problems found in a flow file and where they are: :class:`Issue`, :class:`FlowError` and the
map from node ids and fields to line numbers that the loader (:mod:`.loader`) and the graph checks (:mod:`.graph_checks`) share."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Issue:
    file: str
    node: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        node = f" node '{self.node}':" if self.node is not None else ""
        return f"{where}:{node} {self.message}"


class FlowError(ValueError):
    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    def __str__(self) -> str:
        return "\n".join(str(i) for i in self.issues)



@dataclass
class LineMap:
    top: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, int] = field(default_factory=dict)
    fields: dict[str, dict[str, int]] = field(default_factory=dict)
    keys: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # node -> field -> key

    def node_line(self, node: str | None) -> int | None:
        if node is None:
            return None
        return self.nodes.get(node)

    def field_line(self, node: str, label: str) -> int | None:
        name, _, key = label.partition(".")
        if key:
            line = self.keys.get(node, {}).get(name, {}).get(key)
            if line is not None:
                return line
        line = self.fields.get(node, {}).get(name)
        return line if line is not None else self.nodes.get(node)
