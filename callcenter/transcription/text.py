"""Pure text rules of transcripts: privacy masking and the word-overlap measure."""

from __future__ import annotations

import re

# digits as a Chinese model writes them too (幺三八…), and X, the ID-card check character
_D = "0-9０-９零〇一二三四五六七八九幺两"
_DIGIT_RUN = re.compile(f"[{_D}][{_D}\\s-]{{5,}}[{_D}Xx]")
_DIGIT = re.compile(f"[{_D}Xx]")


def mask_sensitive(text: str) -> str:
    """Phone numbers, ID-card and bank-card numbers: a run of 7+ digits (spaces allowed between
    them, as a recognizer writes digits said one by one) keeps its first 3 and last 2 digits, the
    middle becomes *."""
    def repl(m: re.Match[str]) -> str:
        digits = _DIGIT.findall(m.group())
        if len(digits) < 7:
            return m.group()
        return "".join(digits[:3]) + "*" * (len(digits) - 5) + "".join(digits[-2:])
    return _DIGIT_RUN.sub(repl, text)


def mask_words(words: list[str]) -> list[str]:
    """The same rule over a word list (digits said one by one are separate words): every word of a
    run of digit-only words holding 7+ digits is masked whole."""
    out = list(words)
    i = 0
    while i < len(out):
        j = i
        while j < len(out) and out[j] and all(_DIGIT.fullmatch(c) for c in out[j]):
            j += 1
        if sum(len(w) for w in out[i:j]) >= 7:
            out[i:j] = ["*" * len(w) for w in out[i:j]]
        i = max(j, i + 1)
    return out


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
