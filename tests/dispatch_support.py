"""Helpers for the dispatch tests: the shipped corpus cut down to a few units (a model that
trains in a second or two)."""

from __future__ import annotations

from collections.abc import Collection

from callcenter.dispatch.corpus import Corpus, load_corpus


def corpus_of(units: Collection[str]) -> Corpus:
    """The shipped corpus's training and held-out requests of `units` only (and all its vague ones)."""
    full, keep = load_corpus(), set(units)
    return Corpus(tuple(e for e in full.train if e.department in keep),
                  tuple(e for e in full.heldout if e.department in keep), full.vague)
