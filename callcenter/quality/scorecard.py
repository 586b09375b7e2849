"""The quality scorecard (质检评分表) as data: YAML validated with pydantic, errors said with the
item and field; and scoring a call: the automatic checks of its items run on the transcript
(`checks.py`), a person's marks override them, weights add up to the score, a fatal item failed
(一票否决) makes the call fail whatever the rest.

```yaml
name: 12345 热线通话质检评分表
pass_mark: 80
items:
  - {id: opening, name: 规范开头语, weight: 10, check: {kind: opening, phrases: [您好], within_s: 10}}
  - {id: forbidden, name: 服务禁语, weight: 20, fatal: true, check: {kind: forbidden_words, words: [...]}}
  - {id: attitude, name: 服务态度, weight: 20}          # no check: scored by the inspector
```
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callcenter.quality import checks
from callcenter.quality.checks import Finding, Line

DEFAULT = Path(__file__).parent / "data" / "scorecard.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Opening(_Strict):
    kind: Literal["opening"]
    phrases: list[str] = Field(min_length=1)
    within_s: float = Field(10.0, gt=0, le=120)


class Closing(_Strict):
    kind: Literal["closing"]
    phrases: list[str] = Field(min_length=1)
    last_lines: int = Field(3, ge=1, le=20)


class Forbidden(_Strict):
    kind: Literal["forbidden_words"]
    words: list[str] = Field(min_length=1)


class Restatement(_Strict):
    kind: Literal["restatement"]
    phrases: list[str] = []
    min_overlap: float = Field(0.4, gt=0, le=1)


class Silence(_Strict):
    kind: Literal["long_silence"]
    max_gap_s: float = Field(20.0, gt=0, le=600)
    citizen_share: float = Field(0.5, gt=0, le=1)  # a gap the citizen talks through this much is no hold


class TalkOver(_Strict):
    kind: Literal["talk_over"]
    max_share: float = Field(0.15, ge=0, le=1)


class Anger(_Strict):
    kind: Literal["anger"]
    words: list[str] = Field(min_length=1)


class Length(_Strict):
    kind: Literal["length_outlier"]
    spread: float = Field(3.5, gt=0)
    min_s: float = Field(20.0, ge=0)


Check = Annotated[Opening | Closing | Forbidden | Restatement | Silence | TalkOver | Anger | Length,
                  Field(discriminator="kind")]


class Item(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str = Field(min_length=1, max_length=40)
    weight: float = Field(gt=0, le=100)
    fatal: bool = False  # 一票否决
    check: Check | None = None  # None: scored by the inspector


class Scorecard(_Strict):
    name: str = Field(min_length=1)
    pass_mark: float = Field(ge=0, le=100)
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Scorecard:
        ids = [i.id for i in self.items]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"item ids used twice: {', '.join(twice)}")
        return self


class ScorecardError(ValueError):
    """A scorecard file that is not one; the message has a line per problem."""


def parse(text: str, source: str = "scorecard") -> Scorecard:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScorecardError(f"{source}: not YAML: {exc}") from None
    try:
        return Scorecard.model_validate(data)
    except ValidationError as exc:
        raise ScorecardError("\n".join(_where(source, data, e) for e in exc.errors())) from None


def _where(source: str, data: object, err: Mapping) -> str:
    loc = list(err.get("loc", ()))
    path = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int) and isinstance(data, dict):
        items = data.get("items") or []
        if loc[1] < len(items) and isinstance(items[loc[1]], dict) and items[loc[1]].get("id"):
            path = f"item '{items[loc[1]]['id']}': " + ".".join(str(p) for p in loc[2:])
    return f"{source}: {path or '(top)'}: {err.get('msg')}"


def load(path: Path = DEFAULT) -> Scorecard:
    return parse(path.read_text(encoding="utf-8"), str(path))


# --------------------------------------------------------------------------- running it

def run_check(check: Check, lines: Sequence[Line], duration_s: float, typical: Sequence[float] = ()) -> Finding:
    match check:
        case Opening():
            return checks.opening(lines, check.phrases, check.within_s)
        case Closing():
            return checks.closing(lines, check.phrases, check.last_lines)
        case Forbidden():
            return checks.forbidden_words(lines, check.words)
        case Restatement():
            return checks.restatement(lines, check.phrases, check.min_overlap)
        case Silence():
            return checks.long_silence(lines, check.max_gap_s, duration_s, check.citizen_share)
        case TalkOver():
            return checks.talk_over(lines, check.max_share)
        case Anger():
            return checks.anger(lines, check.words)
        case Length():
            return checks.length_outlier(duration_s, typical, spread=check.spread, min_s=check.min_s)
    raise AssertionError(check)


@dataclass(frozen=True)
class ItemResult:
    item: str
    name: str
    weight: float
    fatal: bool
    passed: bool | None  # None: a person must score it
    by: str  # "auto" | "inspector"
    finding: Finding | None


@dataclass(frozen=True)
class Score:
    items: tuple[ItemResult, ...]
    score: float | None  # None until every item is scored
    passed: bool | None
    fatal_hits: tuple[str, ...]


LISTED = ("forbidden_words", "anger")  # the checks whose word list the hall edits (/qa)


def with_words(card: Scorecard, lists: Mapping[str, Sequence[str]]) -> Scorecard:
    """The card with the hall's word lists (check kind -> words) in place of the file's; a kind
    without a list keeps the file's words."""
    items = [i.model_copy(update={"check": i.check.model_copy(update={"words": list(lists[i.check.kind])})})
             if i.check is not None and i.check.kind in LISTED and i.check.kind in lists else i for i in card.items]
    return card.model_copy(update={"items": items})


def file_words(card: Scorecard) -> dict[str, list[str]]:
    """The scorecard file's word list of each listed check kind (the default the hall edits)."""
    return {i.check.kind: list(i.check.words) for i in card.items
            if i.check is not None and i.check.kind in LISTED}


def fatal_hits(card: Scorecard, lines: Sequence[Line], duration_s: float,
               typical: Sequence[float] = ()) -> tuple[str, ...]:
    """The names of the fatal items (一票否决) an automatic check fails on this call (only the
    fatal items' checks run: the queue asks it of every call of the week)."""
    return tuple(i.name for i in card.items if i.fatal and i.check is not None
                 and not run_check(i.check, lines, duration_s, typical).passed)


def auto_findings(card: Scorecard, lines: Sequence[Line], duration_s: float,
                  typical: Sequence[float] = ()) -> dict[str, Finding]:
    """Every automatic check of the card on one call."""
    return {i.id: run_check(i.check, lines, duration_s, typical) for i in card.items if i.check is not None}


def score(card: Scorecard, findings: Mapping[str, Finding], marks: Mapping[str, bool] | None = None) -> Score:
    """The call's score: an inspector's mark (`marks`: item -> passed) overrides the check's."""
    marks = marks or {}
    results = []
    for item in card.items:
        found = findings.get(item.id)
        if item.id in marks:
            passed, by = bool(marks[item.id]), "inspector"
        else:
            passed, by = (found.passed if found is not None else None), "auto"
        results.append(ItemResult(item.id, item.name, item.weight, item.fatal, passed, by, found))
    fatal = tuple(r.item for r in results if r.fatal and r.passed is False)
    if any(r.passed is None for r in results):
        return Score(tuple(results), None, False if fatal else None, fatal)
    total = sum(r.weight for r in results)
    got = 100.0 * sum(r.weight for r in results if r.passed) / total
    value = 0.0 if fatal else round(got, 1)
    return Score(tuple(results), value, not fatal and value >= card.pass_mark, fatal)
