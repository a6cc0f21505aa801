"""Lending-app signals: loan vocabulary, credit-scoring SDKs, payment intents, regulator texts.

What to look for is data (rules/catalog/lending.yaml); this module only finds it, cheaply. The
label and package name are short; resources.arsc's string pool and each dex file's string data
are lowered once and searched byte-wise, every term of the place in one pass
(auditor/extract/occurrences.py; a dex's pass is shared with the code scan's searches,
auditor/extract/dexstrings.py), and only the strings holding a hit are decoded and checked
for a whole-word match. The dex search stops as soon as the signals found already make a
confident verdict, so a lending app costs less than a clean one. Weighing the signals into a
verdict is auditor/classify.py's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache

from auditor.containers import ApkPiece
from auditor.errors import CorruptArchive
from auditor.extract.arsc import StringPool
from auditor.extract.dexstrings import DexStrings
from auditor.model import Evidence, SdkUse
from auditor.ruleset.ruleset import LendingCatalog, LendingSignal

SNIPPET = 80


@cache
def word_pattern(term: str, case: str, match: str) -> re.Pattern[str]:
    """A term as a regex: anywhere (substring), or as a whole word where camelCase and _ split words.

    A word starts after a non-letter, or at a lower-to-upper case change ("SecondLoanAdapter");
    it ends before a non-letter, or (for terms matched in any case) before a capital. Acronyms
    matched exactly (EMI, KYC) must end before a non-letter, so "EMIT" is not "EMI".
    """
    body = re.escape(term) if case == "exact" else f"(?i:{re.escape(term)})"
    if match == "substring":
        return re.compile(body)
    after = r"(?![^\W\d_])" if case == "exact" else r"(?![^\W\d_A-Z])"
    return re.compile(rf"(?:(?<![^\W\d_])|(?<=[a-z])(?=[A-Z])){body}{after}")


def found_in(text: str, signal: LendingSignal, term: str) -> str | None:
    """The part of `text` around a match of `term`, or None when it does not match as the signal asks."""
    if _cannot_match(text, term, signal.case):
        return None  # and no pattern compiled for nothing (50 of them, 10 ms, for a label and a package name)
    hit = word_pattern(term, signal.case, signal.match).search(text)
    if hit is None:
        return None
    start = max(0, hit.start() - SNIPPET // 2)
    snippet = " ".join(text[start:start + SNIPPET].split())
    return ("…" if start else "") + snippet + ("…" if start + SNIPPET < len(text) else "")


ASCII_FOLDS = frozenset("\u0130\u0131\u017f\u212a")
"""The only non-ASCII characters that re's IGNORECASE matches to an ASCII one: dotted and dotless I
(to i), long s (to s), the Kelvin sign (to k). Found by trying every code point against ASCII."""


def _cannot_match(text: str, term: str, case: str) -> bool:
    """Whether `term` surely does not occur in `text`, told without a regex.

    An exact term is a literal. In ASCII text, a term in any case needs its ASCII-lowered self
    there, and a term with a non-ASCII character that folds to no ASCII one cannot occur at all.
    """
    if case == "exact":
        return term not in text
    if not text.isascii():
        return False
    if term.isascii():
        return term.lower() not in text.lower()
    return not set(term) & ASCII_FOLDS


@cache
def needles(terms: tuple[str, ...], exact: bool) -> tuple[str, ...]:
    """The fewest byte searches that find every term: "loan" also finds the strings holding "loans"."""
    fold = (lambda t: t) if exact else str.lower
    found: list[str] = []
    for term in sorted(terms, key=len):
        if not any(fold(n) in fold(term) for n in found):
            found.append(term)
    return tuple(found)


class LendingSearch:
    """Collects the lending signals of one app, place by place, keeping a running weight."""

    def __init__(self, catalog: LendingCatalog) -> None:
        self.catalog = catalog
        self.evidence: list[Evidence] = []
        self.total = 0
        self.matched: set[tuple[str, str]] = set()

    def add(self, signal_id: str, place: str, value: str, points: int, dex: str | None = None) -> None:
        if (signal_id, place) in self.matched:
            return
        self.matched.add((signal_id, place))
        self.total += points
        self.evidence.append(Evidence("lending", f"{place}: {value}", dex=dex, detail=f"{signal_id}@{place}"))

    def search(self, place: str, texts: Iterable[str], dex: str | None = None) -> None:
        """Look for every signal that applies to `place` in short texts (label, package)."""
        for signal in self._signals(place):
            for text in texts:
                self._match(signal, place, [text], dex)

    def search_pool(self, place: str, containing: Callable[[str, bool], Iterable[str]], max_string: int,
                    dex: str | None = None) -> None:
        """Look in a searchable string store (`containing(needle, exact)` yields the strings holding it)."""
        for signal in self._signals(place):
            if (signal.id, place) in self.matched:
                continue
            exact = signal.case == "exact"
            for needle in needles(signal.terms, exact):
                texts = (t for t in containing(needle, exact) if len(t) <= max_string)
                if self._match(signal, place, texts, dex):
                    break

    def needles(self, place: str) -> list[tuple[str, bool]]:
        """Every (needle, exact) that search_pool may look for in `place`, to find them all in one pass."""
        return [(n, s.case == "exact") for s in self._signals(place) for n in needles(s.terms, s.case == "exact")]

    def _signals(self, place: str) -> list[LendingSignal]:
        return [s for s in self.catalog.signals if place in s.places]

    def _match(self, signal: LendingSignal, place: str, texts: Iterable[str], dex: str | None) -> bool:
        for text in texts:
            for term in signal.terms:
                snippet = found_in(text, signal, term)
                if snippet is not None:
                    points = signal.weight * self.catalog.places.get(place, 1)
                    self.add(signal.id, place, f'"{snippet}" ({term}, {signal.lang})', points, dex)
                    return True
        return False

    @property
    def confident(self) -> bool:
        return self.total >= self.catalog.thresholds.get("high_confidence", 1 << 30)


def dex_needles(catalog: LendingCatalog) -> list[tuple[str, bool]]:
    """Every (needle, exact) the search may look for in a dex's strings, to be announced to its DexStrings."""
    return LendingSearch(catalog).needles("dex")


def lending_signals(catalog: LendingCatalog, label: str | None, package: str, sdks: tuple[SdkUse, ...],
                    pieces: Iterable[ApkPiece], dex_strings: Iterable[DexStrings]) -> tuple[Evidence, ...]:
    """Every lending signal of one app; the dex search stops once the verdict is confident.

    `dex_strings` are the app's dex files with dex_needles(catalog) announced (the code scan's)."""
    search = LendingSearch(catalog)
    search.search("label", [label or ""])
    search.search("package", [package])
    for category in dict.fromkeys(s.category for s in sdks):
        weight = catalog.sdk_categories.get(category)
        if weight:
            names = ", ".join(sorted({s.name for s in sdks if s.category == category}))
            search.add(f"sdk.{category}", "sdk", f"{names} ({category})", weight)
    for piece in pieces:
        table = _arsc(piece)
        if table:
            search.search_pool("resources", StringPool(table, search.needles("resources")).containing, catalog.max_string)
    for strings in dex_strings:
        if search.confident:
            break
        search.search_pool("dex", strings.containing, catalog.max_string, strings.unit.entry)
    return tuple(search.evidence)


def _arsc(piece: ApkPiece) -> bytes:
    try:
        return piece.archive.read("resources.arsc") if piece.archive.has("resources.arsc") else b""
    except CorruptArchive:
        return b""
