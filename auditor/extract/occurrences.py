"""Where each of many needles occurs in one large text, found in a single pass.

The lending search asks, term by term (about 70 of them), for the strings of a pool that hold
the term. One `find` pass per term over a large pool costs the pool's size times the number of
terms: 0.25 s for framework-res.apk's 8.6 MB string pool. An Aho-Corasick automaton finds every
occurrence of every needle in one pass (15 ms there); `Occurrences.find` then answers from those
positions exactly as `text.find(needle, start)` would, so the callers keep their logic.

The automaton is ahocorasick-rs, the Python binding of the Rust aho-corasick crate that ripgrep
and Rust's regex engine use.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from functools import cache
from typing import Generic, TypeVar

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, MatchKind

Text = TypeVar("Text", bytes, str)


@cache
def _bytes_automaton(needles: tuple[bytes, ...]) -> BytesAhoCorasick:
    return BytesAhoCorasick(list(needles), matchkind=MatchKind.Standard)


@cache
def _str_automaton(needles: tuple[str, ...]) -> AhoCorasick:
    return AhoCorasick(list(needles), matchkind=MatchKind.Standard)


def case_key(needle: str, exact: bool) -> tuple[bool, str]:
    """Whether `needle` is looked for in the text's lowered copy, and spelt how there.

    A needle matched in any case is lowered and searched in a copy whose ASCII letters are
    lowered; one with no case at all (CJK, Thai, digits) is searched in the text as it is.
    """
    lowered = not exact and needle.lower() != needle.upper()
    return lowered, needle.lower() if lowered else needle


class Occurrences(Generic[Text]):
    """Every position of each needle in `text` (overlapping ones too), from one pass over it."""

    def __init__(self, text: Text, needles: Iterable[Text]) -> None:
        self.text: Text = text
        unique = tuple(sorted({n for n in needles if n}))
        self.positions: dict[Text, list[int]] = {n: [] for n in unique}
        if not unique:
            return
        if isinstance(text, bytes):
            matches = _bytes_automaton(unique).find_matches_as_indexes(text, overlapping=True)
        else:
            matches = _str_automaton(unique).find_matches_as_indexes(text, overlapping=True)
        for index, start, _end in matches:  # ordered by end, which for one needle is the order of starts
            self.positions[unique[index]].append(start)

    def find(self, needle: Text, start: int = 0) -> int:
        """The first position of `needle` at or after `start`, or -1: `text.find(needle, start)`."""
        found = self.positions.get(needle)
        if found is None:  # not one of the needles searched for
            return int(self.text.find(needle, start))
        i = bisect_left(found, start)
        return found[i] if i < len(found) else -1
