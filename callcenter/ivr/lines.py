"""Department hotlines merged into 12345 (整合热线), as data (ivr_flows/merged_lines.yaml).

Merge modes (国办发〔2020〕53号 names / the seed's names):

* ``direct``   整体并入 – number retired into 12345; calls go to the ``general`` queue
  with the ``department`` variable set.
* ``platform`` 双号并行 – number kept, calls land on the 12345 platform in the line's
  own skill queue.
* ``business`` 设立分中心 – the back end stays outside; 12345 hands the call over by
  dialling ``external_number``.

Emergency lines 110/119/120/122 are never merged lines: the loader rejects them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .schema import EMERGENCY_NUMBERS

HOTLINE_NUMBER = "12345"
AREA_CODE = "0812"  # Panzhihua
GENERAL_QUEUE = "general"
QUEUES = frozenset({"general", "market", "housing_fund", "hr_social", "transport", "dialect"})

MAIN_FLOW = "main"
MERGED_LINE_FLOW = "merged_line"
BUSINESS_LINE_FLOW = "business_line"


class MergeMode(StrEnum):
    DIRECT = "direct"  # 整体并入
    PLATFORM = "platform"  # 双号并行
    BUSINESS = "business"  # 设立分中心


class MergedLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    number: str = Field(pattern=r"^[0-9]{3,12}$")
    department: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    merge_mode: MergeMode
    queue: str | None = None  # direct/platform; direct defaults to "general"
    external_number: str | None = Field(default=None, pattern=r"^[0-9*#+]{3,32}$")  # business

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: object) -> object:
        if isinstance(data, dict):
            data = {
                k: (str(v) if k in ("number", "external_number") and isinstance(v, int) else v)
                for k, v in data.items()
            }
            if data.get("merge_mode") == MergeMode.DIRECT.value and data.get("queue") is None:
                data["queue"] = GENERAL_QUEUE
        return data

    @model_validator(mode="after")
    def _check(self) -> MergedLine:
        for n in (self.number, self.external_number):
            if n in EMERGENCY_NUMBERS:
                raise ValueError(f"emergency line {n} cannot be a merged line (transfer to it instead)")
        if self.number == HOTLINE_NUMBER:
            raise ValueError("12345 itself is not a merged line")
        if self.merge_mode is MergeMode.BUSINESS:
            if not self.external_number:
                raise ValueError("business-merged line needs external_number")
            if self.queue is not None:
                raise ValueError("business-merged line is handed over, it has no queue")
        else:
            if self.external_number is not None:
                raise ValueError(f"{self.merge_mode.value}-merged line has no external_number")
            if self.queue is None:
                raise ValueError(f"{self.merge_mode.value}-merged line needs a queue")
            if self.queue not in QUEUES:
                raise ValueError(f"unknown queue {self.queue!r} (known: {', '.join(sorted(QUEUES))})")
        return self

    @property
    def skill(self) -> str | None:
        return self.queue


def normalize_dnis(dnis: object) -> str:
    """Digits of the dialled number without +86/0086 and the 0812 area code."""
    if not isinstance(dnis, str):
        return ""
    s = dnis.strip()
    intl = s.startswith("+86")
    digits = re.sub(r"\D", "", s)
    if digits.startswith("0086"):
        intl, digits = True, digits[2:]
    if intl:
        digits = digits[2:]
        if digits.startswith(AREA_CODE[1:]) and len(digits) > len(AREA_CODE) - 1:
            digits = digits[len(AREA_CODE) - 1 :]
    if digits.startswith(AREA_CODE) and len(digits) > len(AREA_CODE):
        digits = digits[len(AREA_CODE) :]
    return digits


class MergedLines:
    def __init__(self, lines: list[MergedLine]):
        self.lines = list(lines)
        self._by_number: dict[str, MergedLine] = {}
        for line in self.lines:
            if line.number in self._by_number:
                raise ValueError(f"merged line {line.number} listed twice")
            self._by_number[line.number] = line

    def __iter__(self) -> Iterator[MergedLine]:
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    def lookup(self, dnis: object) -> MergedLine | None:
        return self._by_number.get(normalize_dnis(dnis))

    def choose_flow(self, dnis: object) -> tuple[str, dict[str, str]]:
        """(flow name, initial call variables) for a dialled number.

        12345 and unknown numbers -> main; direct/platform -> merged_line with
        department/skill/line; business -> business_line with external_number.
        """
        number = normalize_dnis(dnis)
        line = self._by_number.get(number)
        if line is None:
            return MAIN_FLOW, {"line": number or HOTLINE_NUMBER}
        if line.merge_mode is MergeMode.BUSINESS:
            assert line.external_number is not None
            return BUSINESS_LINE_FLOW, {
                "external_number": line.external_number,
                "department": line.department,
                "line": line.number,
            }
        return MERGED_LINE_FLOW, {
            "department": line.department,
            "skill": line.queue or GENERAL_QUEUE,
            "line": line.number,
        }


def choose_flow(lines: MergedLines, dnis: object) -> tuple[str, dict[str, str]]:
    return lines.choose_flow(dnis)


def parse_merged_lines(text: str, filename: str = "<merged_lines>") -> MergedLines:
    """Parse the merged-lines YAML (``lines: [ {number, department, ...}, ... ]``)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError(f"{filename}: YAML error: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        raise ValueError(f"{filename}:1: expected a mapping with a 'lines' list")
    line_nos: list[int] = []
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if getattr(k, "value", None) == "lines" and isinstance(v, yaml.SequenceNode):
                line_nos = [item.start_mark.line + 1 for item in v.value]
    out: list[MergedLine] = []
    errors: list[str] = []
    for i, entry in enumerate(data["lines"]):
        where = f"{filename}:{line_nos[i] if i < len(line_nos) else '?'}"
        try:
            out.append(MergedLine.model_validate(entry))
        except ValidationError as e:
            for err in e.errors(include_url=False):
                loc = ".".join(str(p) for p in err["loc"])
                msg = err["msg"].removeprefix("Value error, ")
                errors.append(f"{where}: entry {i + 1}{' ' + loc if loc else ''}: {msg}")
    if not errors:
        try:
            return MergedLines(out)
        except ValueError as e:
            errors.append(f"{filename}: {e}")
    raise ValueError("\n".join(errors))


def load_merged_lines(path: Path | str) -> MergedLines:
    p = Path(path)
    return parse_merged_lines(p.read_text(encoding="utf-8"), str(p))
