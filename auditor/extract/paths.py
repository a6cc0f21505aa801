"""Connect methods that read a channel to methods that can send data off the phone.

Bound (documented in the README): a read and a sink are connected when
- they are in the same method, or
- the reading method reaches a sink method within DEPTH calls, or
- a common caller, at most DEPTH calls above the reading method, reaches a sink method within
  DEPTH calls (Quark-Engine's "two APIs share a caller" check, extended across dispatch edges).
Generic library code (androidx, support, kotlin...) may hold a sink but is never a step in the
middle: its dispatch hubs (LocalBroadcastManager, RecyclerView) would link unrelated app code.
Searches share one memo and a node budget, so the cost stays bounded on huge apps.
"""

from __future__ import annotations

from collections.abc import Callable

from auditor.extract.program import Node, Program

DEPTH = 3
NODE_BUDGET = 20_000
MAX_SOURCES_PER_CHANNEL = 40
MAX_PATHS_PER_CHANNEL = 3
MAX_FRONTIER = 2_000
"""Callers carried to the next level of the upward search (huge fan-in stops here)."""


class PathFinder:
    def __init__(self, program: Program, sinks: set[Node], is_library: Callable[[Node], bool]) -> None:
        self.program = program
        self.sinks = sinks
        self.is_library = is_library
        self._down: dict[tuple[Node, int], tuple[Node, ...] | None] = {}
        self._caller_memo: dict[Node, list[Node]] = {}
        self.visited = 0

    def _spend(self, count: int = 1) -> bool:
        self.visited += count
        return self.visited <= NODE_BUDGET

    def down(self, node: Node, depth: int = DEPTH) -> tuple[Node, ...] | None:
        """Shortest chain node -> ... -> sink of at most `depth` calls, or None."""
        key = (node, depth)
        if key in self._down:
            return self._down[key]
        self._down[key] = None  # also breaks cycles
        result: tuple[Node, ...] | None = None
        if node in self.sinks:
            result = (node,)
        elif depth > 0 and self._spend():
            for callee in self.program.callees(node):
                if callee not in self.sinks and self.is_library(callee):
                    continue
                tail = self.down(callee, depth - 1)
                if tail is not None and (result is None or len(tail) + 1 < len(result)):
                    result = (node, *tail)
                    if len(result) == 2:
                        break
        self._down[key] = result
        return result

    def _callers(self, nodes: list[Node]) -> dict[Node, list[Node]]:
        missing = [n for n in nodes if n not in self._caller_memo]
        if missing:
            self._caller_memo.update(self.program.callers_many(missing))
        return {n: self._caller_memo[n] for n in nodes}

    def up(self, sources: list[Node]) -> dict[Node, list[tuple[Node, tuple[Node, ...]]]]:
        """For each source, its callers within DEPTH calls, each with the chain from the source up to it.

        Breadth first and level by level for all sources together, so each level costs one byte
        search per dex file however many methods it holds.
        """
        found: dict[Node, list[tuple[Node, tuple[Node, ...]]]] = {s: [] for s in sources}
        seen = {s: {s} for s in sources}
        frontier: list[tuple[Node, tuple[Node, ...]]] = [(s, (s,)) for s in sources]
        for _level in range(DEPTH):
            if not frontier or not self._spend(len(frontier)):
                break
            callers = self._callers(list(dict.fromkeys(node for node, _ in frontier)))
            next_frontier = []
            for node, chain in frontier:
                for caller in callers[node]:
                    if caller in seen[chain[0]] or self.is_library(caller):
                        continue
                    seen[chain[0]].add(caller)
                    longer = (*chain, caller)
                    found[chain[0]].append((caller, longer))
                    next_frontier.append((caller, longer))
            frontier = next_frontier[:MAX_FRONTIER]
        return found

    def connect(self, source: Node, callers: list[tuple[Node, tuple[Node, ...]]]) -> tuple[Node, ...] | None:
        """A chain from the reading method to a sink through a common caller, or None."""
        for caller, chain in callers:
            tail = self.down(caller)
            if tail is not None:
                return (*chain, *tail[1:])
        return None

    def paths(self, sources: list[Node]) -> list[tuple[Node, ...]]:
        """Up to MAX_PATHS_PER_CHANNEL chains, direct ones (read -> sink downwards) first."""
        direct = {s: self.down(s) for s in sources[:MAX_SOURCES_PER_CHANNEL]}
        found = [chain for chain in direct.values() if chain is not None][:MAX_PATHS_PER_CHANNEL]
        if len(found) < MAX_PATHS_PER_CHANNEL:
            rest = [s for s, chain in direct.items() if chain is None]
            ancestors = self.up(rest) if rest else {}
            for source in rest:
                chain = self.connect(source, ancestors[source])
                if chain is not None:
                    found.append(chain)
                    if len(found) >= MAX_PATHS_PER_CHANNEL:
                        break
        return sorted(found, key=len)
