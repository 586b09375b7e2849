"""Chinese words (jieba), in one place: the dispatch rules read a request's words and the
tickets feature indexes them for search; both cut through here, so one request's text is cut
once (:class:`Cuts`, carried with the request) and both see the same words.

jieba's dictionary is process-wide: words taught here (the dispatch rules' keywords and topics)
are known to every cut after.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from typing import Any

#: one request's memo of jieba's cuts, block -> words (see :func:`segment`)
Cuts = dict[str, list[str]]


@functools.cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def teach(words: Iterable[str]) -> None:
    """Add words to jieba's dictionary (they are then cut whole)."""
    jieba = _jieba()
    for word in words:
        jieba.add_word(word)
        jieba.suggest_freq(word, tune=True)


def segment(text: str, memo: Cuts | None = None) -> list[str]:
    """jieba's words of ``text`` (blanks dropped). With ``memo`` (one request's, e.g. its
    routing and its search words, which both read the description), each of jieba's blocks
    (a run of Han characters, letters and digits, or what lies between two) is cut once;
    jieba cuts the blocks independently, so the words are the same."""
    jieba = _jieba()
    if memo is None:
        return [t for t in jieba.lcut(text) if t.strip()]
    words: list[str] = []
    for block in jieba.re_han_default.split(text):
        if block:
            if (cut := memo.get(block)) is None:
                cut = memo[block] = jieba.lcut(block)
            words += cut
    return [t for t in words if t.strip()]


def search_words(text: str, memo: Cuts | None = None) -> list[str]:
    """Search words (jieba tokens, lower case, no punctuation), sorted."""
    return sorted({w.lower() for w in segment(text, memo) if w.isalnum()})
