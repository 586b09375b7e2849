"""Cycles in a directed graph (Tarjan's strongly connected components, iterative): used by the
IVR graph checks (input-free loops in a flow) and the architecture test (import cycles)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one node, or of one node with an edge to
    itself. Edges to nodes that are not keys of `graph` are ignored."""
    edges = {v: [w for w in ws if w in graph] for v, ws in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        work: list[tuple[str, Iterator[str]]] = [(v, iter(edges[v]))]
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        while work:
            node, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(edges[w])))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    comp: list[str] = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1 or node in edges[node]:
                        out.append(comp)

    for v in edges:
        if v not in index:
            visit(v)
    return out
