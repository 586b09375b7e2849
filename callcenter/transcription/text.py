"""Pure text rules of transcripts: privacy masking and the word-overlap measure."""

from __future__ import annotations

import re

_DIGIT_RUN = re.compile(r"\d[\d\s-]{5,}\d")


def mask_sensitive(text: str) -> str:
    """Phone numbers, ID-card and bank-card numbers: a run of 7+ digits keeps its first 3 and
    last 2 digits, the middle becomes *."""
    def repl(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group())
        if len(digits) < 7:
            return m.group()
        return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]
    return _DIGIT_RUN.sub(repl, text)


def word_overlap(reference: str, hypothesis: str) -> float:
    """Share of reference words found in the hypothesis (multiset), 0..1."""
    ref = reference.split()
    if not ref:
        return 1.0
    pool: dict[str, int] = {}
    for w in hypothesis.split():
        pool[w] = pool.get(w, 0) + 1
    hit = 0
    for w in ref:
        if pool.get(w, 0) > 0:
            pool[w] -= 1
            hit += 1
    return hit / len(ref)
