"""The starting corpus: labelled citizen requests, as data (``data/corpus/*.jsonl``).

One JSON object a line: one *paraphrase group* (one situation, several ways citizens put it)
with its unit (``dept``), request kind and texts. ``train.jsonl`` and ``heldout.jsonl`` hold
different groups, so no paraphrase of a held-out request is ever trained on. ``vague.jsonl``
holds requests that name no unit (a greeting, "我要投诉", "上次那个事"), without ``dept``: the
model must leave them to a person, and they choose its floor (training.choose_floor); they are
never trained on. Validated at load against the catalogue. Pure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from callcenter.dispatch.catalogue import HALL, Catalogue, default_catalogue
from callcenter.dispatch.model import KINDS, Example, segments

CORPUS_DIR = Path(__file__).parent / "data" / "corpus"
SPLITS = ("train", "heldout")
NEAR = 0.6  # a training text this similar to a held-out one would leak it (char-bigram Jaccard)


class CorpusError(ValueError):
    """A corpus line is invalid; the message names the file and line."""


@dataclass(frozen=True)
class Corpus:
    train: tuple[Example, ...]
    heldout: tuple[Example, ...]
    vague: tuple[Example, ...] = ()  # unit HALL: name no unit, go to a person


def parse_lines(lines: list[str], split: str, catalogue: Catalogue) -> list[Example]:
    out: list[Example] = []
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{split}.jsonl:{no}"
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise CorpusError(f"{where}: not JSON ({exc})") from None
        if not isinstance(row, dict) or set(row) - {"group", "dept", "kind", "district", "texts"}:
            raise CorpusError(f"{where}: expected an object with group, dept, kind, texts (and district)")
        group, dept, kind, texts = row.get("group"), row.get("dept"), row.get("kind"), row.get("texts")
        if not isinstance(group, str) or not group:
            raise CorpusError(f"{where}: group must be a non-empty string")
        if split == "vague":
            if dept is not None:
                raise CorpusError(f"{where}: a vague request names no unit (no dept)")
            dept = HALL
        elif dept not in catalogue or dept == HALL:
            raise CorpusError(f"{where}: dept {dept!r} is not a unit of the catalogue")
        if kind not in KINDS:
            raise CorpusError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise CorpusError(f"{where}: texts must be a non-empty list of non-empty strings")
        out.extend(Example(t.strip(), dept, kind, row.get("district"), group) for t in texts)
    return out


def load_corpus(directory: Path = CORPUS_DIR, catalogue: Catalogue | None = None) -> Corpus:
    catalogue = catalogue or default_catalogue()
    splits = {s: parse_lines((directory / f"{s}.jsonl").read_text("utf-8").splitlines(), s, catalogue)
              for s in SPLITS}
    check_disjoint(splits["train"], splits["heldout"])
    uncovered = set(catalogue.dispatchable) - {e.department for e in splits["train"]}
    if uncovered:
        raise CorpusError(f"train.jsonl: no example for {', '.join(sorted(uncovered))}")
    vague_file = directory / "vague.jsonl"
    vague = parse_lines(vague_file.read_text("utf-8").splitlines(), "vague", catalogue) if vague_file.exists() else []
    return Corpus(tuple(splits["train"]), tuple(splits["heldout"]), tuple(vague))


def check_disjoint(train: list[Example], heldout: list[Example]) -> None:
    """No group, and no text, in both splits; no text twice in the corpus."""
    shared = {e.group for e in train} & {e.group for e in heldout}
    if shared:
        raise CorpusError(f"groups in both splits: {', '.join(sorted(shared))}")
    seen: dict[str, str] = {}
    for e in (*train, *heldout):
        if e.text in seen:
            raise CorpusError(f"text repeated in groups {seen[e.text]!r} and {e.group!r}: {e.text}")
        seen[e.text] = e.group


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of the normalised text, within segments (punctuation and spaces cut)."""
    return frozenset(seg[i:i + 2] for seg in segments(text) for i in range(max(1, len(seg) - 1)))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def near_heldout(train: list[Example], heldout: list[Example], limit: float = NEAR) -> list[tuple[str, float]]:
    """Training texts within `limit` similarity (char-bigram Jaccard) of some held-out text, with
    the similarity: such a text is a paraphrase of a held-out request. Only the training text is
    named, so that fixing a finding never means reading the held-out split."""
    held = [bigrams(e.text) for e in heldout]
    index: dict[str, list[int]] = {}
    for j, grams in enumerate(held):
        for g in grams:
            index.setdefault(g, []).append(j)
    out = []
    for e in train:
        mine = bigrams(e.text)
        near = {j for g in mine for j in index.get(g, ())}
        best = max((similarity(mine, held[j]) for j in near), default=0.0)
        if best >= limit:
            out.append((e.text, round(best, 3)))
    return out
