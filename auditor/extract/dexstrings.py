"""The string data of one dex file, searched once for everything the checks look for in it.

Four checks search a dex's strings for text: the catalog's string entries and URL constants
(code.py), pieces of class-loader names (loaders.py) and lending vocabulary (lending.py). Each
used to make its own passes over the data, a `find` per needle: 14 passes and one Aho-Corasick
pass per dex, 14 ms on appium_settings' 2.3 MB of string data. The needles the checks will ask
for are announced when a dex's DexStrings is made; on the first question they are all found in one
Aho-Corasick pass (auditor/extract/occurrences.py), which costs the same for 30 needles as for 3.
A needle not announced is still found, by a search of its own.

String data is one run of items (ULEB128 length, MUTF-8 bytes, NUL), so the string holding a hit
starts after the NUL before it. Needles matched in any case are searched in a lowered copy of the
run, made once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache

from auditor.extract.occurrences import Occurrences, case_key
from auditor.extract.program import DexUnit

MAX_HITS = 64
"""Strings examined per needle by `containing`: enough to get past identifiers that only contain a term."""


class DexStrings:
    """The string data of one dex, and the needles (text, matched exactly?) announced for it."""

    def __init__(self, unit: DexUnit, needles: Iterable[tuple[str, bool]] = ()) -> None:
        self.unit = unit
        span = unit.dex.string_span()
        data = unit.dex.data
        self.lo = span[0] if span else 0
        end = data.find(b"\0", span[1]) if span else 0
        self.hi = len(data) if end < 0 else end + 1
        self.exact = data[self.lo:self.hi]
        self._needles = tuple(needles)
        self._found: dict[bool, Occurrences[bytes]] = {}

    @staticmethod
    @cache
    def _key(needle: str, exact: bool) -> tuple[bool, bytes]:
        """Which copy a needle is searched in, and spelt how there (the same in every dex of an app)."""
        lowered, key = case_key(needle, exact)
        return lowered, key.encode("utf-8")

    def _occurrences(self, lowered: bool) -> Occurrences[bytes]:
        """Every needle announced at construction, found in one pass over that copy on first use."""
        if lowered not in self._found:
            keys = [key for low, key in (self._key(n, e) for n, e in self._needles) if low == lowered]
            self._found[lowered] = Occurrences(self.exact.lower() if lowered else self.exact, keys)
        return self._found[lowered]

    def containing(self, needle: str, exact: bool, limit: int = MAX_HITS) -> Iterator[str]:
        """The strings holding `needle` (ASCII letters in any case unless `exact`), decoded, at most `limit`."""
        lowered, encoded = self._key(needle, exact)
        found = self._occurrences(lowered)
        seen = 0
        pos = found.find(encoded)
        while pos >= 0 and seen < limit:
            start = self.exact.rfind(b"\0", 0, pos) + 1
            while start < pos and self.exact[start] & 0x80:  # the ULEB128 length's continuation bytes
                start += 1
            start += 1
            stop = self.exact.find(b"\0", pos)
            seen += 1
            yield self.exact[start:len(self.exact) if stop < 0 else stop].decode("utf-8", "replace")
            pos = found.find(encoded, pos + 1 if stop < 0 else stop)

    def ids_containing(self, needle: str) -> set[int]:
        """Indices of the strings that contain `needle` as it is spelt: DexFile.find_string_ids,
        answered from the shared pass."""
        encoded = needle.encode("utf-8")
        found = self._occurrences(False)
        positions = []
        pos = found.find(encoded)
        while pos >= 0:
            positions.append(self.lo + pos)
            pos = found.find(encoded, pos + 1)
        return self.unit.dex.string_ids_at(encoded, positions)
