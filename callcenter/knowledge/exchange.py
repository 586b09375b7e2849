"""Articles in and out as JSON or CSV (pure), validated row by row: every problem names its
row (1 = the first article; in CSV the first line after the header) and its field.

JSON: ``{"articles": [{...}, ...]}`` with the fields of :data:`FIELDS` (``questions`` and
``districts`` as lists). CSV: a header line with those names, UTF-8; ``questions`` and
``districts`` hold several values separated by ``|``. Dates are ``YYYY-MM-DD``; ``status`` is
draft, under_review, published or expired (a department's import is always stored as draft).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from callcenter.knowledge.model import Article, FieldProblem, KnowledgeError, Status

FIELDS = ("id", "title", "questions", "answer", "full_text", "unit", "category", "districts", "source",
          "source_date", "valid_from", "valid_until", "review_on", "status")
REQUIRED = ("id", "title", "questions", "answer", "unit")
LISTS = ("questions", "districts")
DATES = ("source_date", "valid_from", "valid_until", "review_on")
MAX_ROWS = 5000


@dataclass(frozen=True)
class Problem:
    row: int
    field: str
    message: str

    def doc(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


class ImportRejected(KnowledgeError):
    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(f"{len(problems)} problem(s); first: row {first.row}, {first.field}: {first.message}")
        self.problems = problems


def _article(n: int, raw: Any, problems: list[Problem]) -> Article | None:
    if not isinstance(raw, dict):
        problems.append(Problem(n, "row", "must be an object"))
        return None
    unknown = sorted(set(raw) - set(FIELDS))
    for name in unknown:
        problems.append(Problem(n, name, "unknown field"))
    values: dict[str, Any] = {}
    ok = not unknown
    for name in FIELDS:
        value = raw.get(name)
        if value in (None, "") and name in REQUIRED:
            problems.append(Problem(n, name, "is required"))
            ok = False
            continue
        if name in LISTS:
            if isinstance(value, str):
                value = [v.strip() for v in value.split("|") if v.strip()]
            if value is None:
                value = []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(Problem(n, name, "must be a list of texts"))
                ok = False
                continue
            value = tuple(value)
        elif name in DATES:
            if value in (None, ""):
                value = None
            else:
                try:
                    value = date.fromisoformat(str(value))
                except ValueError:
                    problems.append(Problem(n, name, f"{value!r} is not a date YYYY-MM-DD"))
                    ok = False
                    continue
        elif name == "status":
            try:
                value = Status(value or "draft")
            except ValueError:
                problems.append(Problem(n, name, f"{value!r}: one of {', '.join(s.value for s in Status)}"))
                ok = False
                continue
        elif value is None:
            value = ""
        elif not isinstance(value, str):
            problems.append(Problem(n, name, "must be text"))
            ok = False
            continue
        values[name] = value
    if not ok:
        return None
    try:
        return Article(**values)
    except FieldProblem as exc:
        problems.append(Problem(n, exc.field, exc.message))
    return None


def _rows(rows: list[Any]) -> list[Article]:
    if len(rows) > MAX_ROWS:
        raise ImportRejected([Problem(0, "articles", f"at most {MAX_ROWS} articles in one import")])
    problems: list[Problem] = []
    out, seen = [], set()
    for n, raw in enumerate(rows, start=1):
        a = _article(n, raw, problems)
        if a is not None:
            if a.id in seen:
                problems.append(Problem(n, "id", f"{a.id} appears twice"))
            seen.add(a.id)
            out.append(a)
    if problems:
        raise ImportRejected(problems)
    if not out:
        raise ImportRejected([Problem(0, "articles", "no articles")])
    return out


def from_json(text: str) -> list[Article]:
    try:
        doc = json.loads(text)
    except ValueError:
        raise ImportRejected([Problem(0, "body", "not valid JSON")]) from None
    rows = doc.get("articles") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise ImportRejected([Problem(0, "articles", 'expected {"articles": [...]}')])
    return _rows(rows)


def from_csv(text: str) -> list[Article]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    missing = [f for f in REQUIRED if f not in header]
    if missing:
        raise ImportRejected([Problem(0, f, "column missing from the header") for f in missing])
    rows: list[Any] = []
    try:
        for r in reader:
            if None in r:  # more cells than the header names
                rows.append({"__extra__": ""})
                continue
            rows.append({k: v for k, v in r.items() if k})
    except csv.Error as exc:  # e.g. a cell over the reader's field limit (128 KiB), an unclosed quote
        raise ImportRejected([Problem(reader.line_num, "row", f"not readable as CSV: {exc}")]) from None
    problems = [Problem(n, "row", "more cells than the header") for n, r in enumerate(rows, 1) if "__extra__" in r]
    if problems:
        raise ImportRejected(problems)
    return _rows(rows)


def _plain(a: Article) -> dict[str, Any]:
    d = a.doc()
    return {f: d[f] for f in FIELDS}


def to_json(articles: list[Article]) -> str:
    return json.dumps({"articles": [_plain(a) for a in articles]}, ensure_ascii=False, indent=1)


def to_csv(articles: list[Article]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(FIELDS))
    w.writeheader()
    for a in articles:
        row = _plain(a)
        for name in LISTS:
            row[name] = "|".join(row[name])
        w.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()
