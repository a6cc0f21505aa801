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
from typing import Any, Generic, TypeVar

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, MatchKind

Text = TypeVar("Text", bytes, str)

KEEP = 256
"""Positions kept per needle: callers want the strings holding the first 64 hits of a term."""
WINDOW = 1 << 16
"""Characters scanned per automaton call: at most this many matches of one needle are held at once."""


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
    """The first KEEP positions of each needle in `text` (overlapping ones too), from one pass.

    The text is scanned in windows of WINDOW characters, and a needle is dropped from the
    automaton once it has KEEP positions, so a hostile text that is one needle repeated millions
    of times costs a bounded list, not millions of matches. Past a needle's last kept position,
    `find` asks the text itself, so its answers stay exact.
    """

    def __init__(self, text: Text, needles: Iterable[Text]) -> None:
        self.text: Text = text
        self.positions: dict[Text, list[int]] = {n: [] for n in sorted({n for n in needles if n})}
        self.cut_short: set[Text] = set()
        pending = tuple(self.positions)
        reach = max(map(len, pending), default=1) - 1  # a match starting in a window may end past it
        view = memoryview(text) if isinstance(text, bytes) else text
        for offset in range(0, len(text), WINDOW):
            if not pending:
                break
            for index, start, _end in _matches(pending, view[offset:offset + WINDOW + reach]):
                found = self.positions[pending[index]]
                if start < WINDOW and len(found) < KEEP:  # ordered by end: for one needle, by start
                    found.append(offset + start)
            full = {n for n in pending if len(self.positions[n]) >= KEEP}
            if full:
                self.cut_short |= full
                pending = tuple(n for n in pending if n not in full)

    def find(self, needle: Text, start: int = 0) -> int:
        """The first position of `needle` at or after `start`, or -1: `text.find(needle, start)`."""
        found = self.positions.get(needle)
        if found is None:  # not one of the needles searched for
            return int(self.text.find(needle, start))
        i = bisect_left(found, start)
        if i < len(found):
            return found[i]
        return int(self.text.find(needle, start)) if needle in self.cut_short else -1


def _matches(needles: tuple[Any, ...], window: Any) -> list[tuple[int, int, int]]:
    """(needle index, start, end) of every occurrence of every needle in the window."""
    if isinstance(window, memoryview):
        return _bytes_automaton(needles).find_matches_as_indexes(window, overlapping=True)
    return _str_automaton(needles).find_matches_as_indexes(window, overlapping=True)
