"""The IVR flow loader (the flow validator): parse a flow file (YAML, with line numbers), validate it against the
schema and the graph checks, and load the flow and prompt files of a directory.

``validate_flow_text`` and ``load_flow`` raise :class:`FlowError` listing every
problem as ``file:line: node 'id': message`` (one line per issue).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from .graph_checks import graph_issues
from .issues import FlowError, Issue, LineMap
from .schema import NODE_TYPES, Flow


def _scalar(n: yaml.Node) -> str | None:
    return n.value if isinstance(n, yaml.ScalarNode) else None


def _line(n: yaml.Node) -> int:
    return n.start_mark.line + 1


def _scan(root: yaml.MappingNode, filename: str) -> tuple[LineMap, list[Issue], dict[str, dict[str, str]]]:
    """Map node ids/fields to lines, find duplicate keys, and keep raw menu keys."""
    lm = LineMap()
    issues: list[Issue] = []
    raw_options: dict[str, dict[str, str]] = {}

    def dup_walk(n: yaml.Node, node_id: str | None, ctx: str) -> None:
        if isinstance(n, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in n.value:
                key = _scalar(k)
                if key is not None:
                    if key in seen:
                        if ctx == "options":
                            msg = f"digit '{key}' used twice in menu"
                        elif ctx == "nodes":
                            msg = f"node id '{key}' defined twice"
                        else:
                            msg = f"duplicate key '{key}'"
                        issues.append(Issue(filename, key if ctx == "nodes" else node_id, _line(k), msg))
                    seen.add(key)
                if ctx == "top" and key == "nodes":
                    dup_walk(v, None, "nodes")
                elif ctx == "nodes":
                    dup_walk(v, key, "node")
                elif ctx == "node" and key == "options":
                    dup_walk(v, node_id, "options")
                else:
                    dup_walk(v, node_id, "other")
        elif isinstance(n, yaml.SequenceNode):
            for item in n.value:
                dup_walk(item, node_id, "other")

    dup_walk(root, None, "top")

    for k, v in root.value:
        key = _scalar(k)
        if key is None:
            continue
        lm.top.setdefault(key, _line(k))
        if key != "nodes" or not isinstance(v, yaml.MappingNode):
            continue
        for nk, nv in v.value:
            nid = _scalar(nk)
            if nid is None:
                continue
            lm.nodes[nid] = _line(nk)  # last definition wins, as in the loaded data
            lm.fields[nid] = {}
            lm.keys[nid] = {}
            if not isinstance(nv, yaml.MappingNode):
                continue
            for fk, fv in nv.value:
                fname = _scalar(fk)
                if fname is None:
                    continue
                lm.fields[nid][fname] = _line(fk)
                if isinstance(fv, yaml.MappingNode):
                    km = lm.keys[nid].setdefault(fname, {})
                    raw: dict[str, str] = {}
                    for ok, ov in fv.value:
                        okey = _scalar(ok)
                        if okey is None:
                            continue
                        km.setdefault(okey, _line(ok))
                        if fname == "options":
                            if okey in raw:  # duplicate: point at the later one
                                km[okey] = _line(ok)
                            oval = _scalar(ov)
                            raw[okey] = oval if oval is not None else ""
                    if fname == "options":
                        raw_options[nid] = raw
    return lm, issues, raw_options


def _pydantic_issues(err: ValidationError, filename: str, lm: LineMap) -> list[Issue]:
    issues: list[Issue] = []
    for e in err.errors(include_url=False):
        e["msg"] = e["msg"].removeprefix("Value error, ")
        loc = e["loc"]
        etype = e["type"]
        if len(loc) >= 2 and loc[0] == "nodes":
            nid = str(loc[1])
            if etype == "union_tag_invalid":
                tag = e.get("ctx", {}).get("tag")
                msg = f"unknown node type '{tag}' (expected one of: {', '.join(NODE_TYPES)})"
                issues.append(Issue(filename, nid, lm.field_line(nid, "type"), msg))
                continue
            if etype == "union_tag_not_found":
                issues.append(Issue(filename, nid, lm.node_line(nid), "missing field 'type'"))
                continue
            rest = [str(p) for p in loc[3:]]  # loc[2] is the node type tag
            fname = rest[0] if rest else None
            if etype == "missing":
                msg = f"missing field '{fname}'"
                line = lm.node_line(nid)
            elif etype == "extra_forbidden":
                msg = f"unknown field '{fname}'"
                line = lm.field_line(nid, fname or "")
            else:
                what = ".".join(rest) if rest else "node"
                msg = f"{what}: {e['msg']}"
                line = lm.field_line(nid, ".".join(rest[:2])) if fname else lm.node_line(nid)
            issues.append(Issue(filename, nid, line, msg))
        else:
            fname = str(loc[0]) if loc else None
            if etype == "missing":
                msg = f"missing field '{fname}'"
                line = 1
            elif etype == "extra_forbidden":
                msg = f"unknown field '{fname}'"
                line = lm.top.get(fname or "", 1)
            else:
                msg = f"{fname}: {e['msg']}" if fname else e["msg"]
                line = lm.top.get(fname or "", 1)
            issues.append(Issue(filename, None, line, msg))
    return issues


def validate_flow_text(
    text: str,
    filename: str = "<flow>",
    prompt_names: set[str] | None = None,
    prompt_dir: Path | str | None = None,
) -> Flow:
    """Parse and validate a flow; raise FlowError listing every issue.

    Prompts are checked when ``prompt_names`` (prompt text keys) and/or
    ``prompt_dir`` (holding ``<prompt>.wav``) are given.
    """
    pdir = Path(prompt_dir) if prompt_dir is not None else None
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        msg = "; ".join(str(p) for p in (e.context, e.problem) if p)
        raise FlowError([Issue(filename, None, line, f"YAML syntax error: {msg}")]) from None
    except yaml.YAMLError as e:
        raise FlowError([Issue(filename, None, None, f"YAML error: {e}")]) from None

    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise FlowError([Issue(filename, None, 1, "a flow file must be a YAML mapping")])

    lm, issues, raw_options = _scan(root, filename)
    nodes_data = data.get("nodes")
    if isinstance(nodes_data, dict):
        for nid, raw in raw_options.items():
            nd = nodes_data.get(nid)
            if isinstance(nd, dict) and isinstance(nd.get("options"), dict):
                nd["options"] = dict(raw)
    try:
        flow = Flow.model_validate(data)
    except ValidationError as e:
        issues.extend(_pydantic_issues(e, filename, lm))
        raise FlowError(issues) from None
    issues.extend(graph_issues(flow, filename, lm, raw_options, prompt_names, pdir))
    if issues:
        raise FlowError(issues)
    return flow


def load_prompts(path: Path | str) -> dict[str, str]:
    """Prompt texts keyed by prompt name (``prompts/zh.yaml``)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: prompt file must be a mapping name -> text")
    out: dict[str, str] = {}
    for k, v in data.items():
        if not isinstance(k, str) or not isinstance(v, str) or not v.strip():
            raise ValueError(f"{path}: prompt {k!r} must map a name to a non-empty text")
        out[k] = v.strip()
    return out


def load_flow(
    path: Path | str,
    prompt_names: set[str] | None = None,
    prompt_dir: Path | str | None = None,
) -> Flow:
    """Load and validate one flow file.

    When ``prompt_names`` is None and ``<flow dir>/prompts/zh.yaml`` exists, its keys
    are used for the prompt check.
    """
    p = Path(path)
    if prompt_names is None:
        zh = p.parent / "prompts" / "zh.yaml"
        if zh.is_file():
            prompt_names = set(load_prompts(zh))
    text = p.read_text(encoding="utf-8")
    return validate_flow_text(text, str(p), prompt_names, prompt_dir)


def load_flows(directory: Path | str, prompt_names: set[str] | None = None) -> dict[str, Flow]:
    """Load every flow file (a YAML file with a top-level ``nodes`` key) keyed by flow name."""
    d = Path(directory)
    if prompt_names is None and (d / "prompts" / "zh.yaml").is_file():
        prompt_names = set(load_prompts(d / "prompts" / "zh.yaml"))
    flows: dict[str, Flow] = {}
    issues: list[Issue] = []
    for f in sorted(d.glob("*.yaml")):
        text = f.read_text(encoding="utf-8")
        try:
            head = yaml.safe_load(text)
        except yaml.YAMLError:
            head = {"nodes": None}  # let the validator report the syntax error
        if not isinstance(head, dict) or "nodes" not in head:
            continue
        try:
            flow = validate_flow_text(text, str(f), prompt_names)
        except FlowError as e:
            issues.extend(e.issues)
            continue
        if flow.name in flows:
            issues.append(Issue(str(f), None, 1, f"flow name '{flow.name}' used by two files"))
        flows[flow.name] = flow
    if issues:
        raise FlowError(issues)
    return flows
