"""The flow catalog indexed for the engine: library method -> how data moves through it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from auditor.ruleset.ruleset import FlowEntry

STORE_ANY_KEY = "*"
ANY_METHOD = "*"
"""A `calls` entry's method naming every method of the target: a WebView's JavaScript may call any."""


class Library:
    """Lookups into rules/catalog/flows.yaml, built once per rule set and app."""

    def __init__(self, entries: tuple[FlowEntry, ...]) -> None:
        self.by_method: dict[str, FlowEntry] = {}
        self.overrides: list[FlowEntry] = []
        self.loaders: dict[str, list[str]] = defaultdict(list)
        self.wirers: dict[str, list[str]] = defaultdict(list)
        self.opaque: frozenset[str] = frozenset(t for entry in entries for t in entry.opaque)
        for entry in entries:
            if entry.overrides:
                self.overrides.append(entry)
            for method in entry.methods:
                self.by_method[method] = entry  # a later folder (--rules) overrides the built-in entry
                if entry.load:
                    self.loaders[entry.load["name"]].append(method)
                for call in entry.calls:
                    self.wirers[call.method].append(method)

    def lookup(self, cls: str, name: str, ancestors: Iterable[str] = ()) -> FlowEntry | None:
        """The entry for cls->name, or for the same name on the nearest library ancestor."""
        entry = self.by_method.get(f"{cls}->{name}")
        if entry is not None:
            return entry
        for parent in ancestors:
            entry = self.by_method.get(f"{parent}->{name}")
            if entry is not None:
                return entry
        return None

    def sent_return(self, name: str, lineage: Iterable[str]) -> FlowEntry | None:
        """An entry saying that the library sends what this app method returns (Volley's getParams)."""
        lineage = set(lineage)
        for entry in reversed(self.overrides):  # a later folder (--rules) overrides the built-in entry
            assert entry.overrides is not None
            if name in entry.overrides["methods"] and not lineage.isdisjoint(entry.overrides["base"]):
                return entry
        return None
