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

from collections import deque
from collections.abc import Callable

from auditor.extract.program import Node, Program

DEPTH = 3
NODE_BUDGET = 20_000
MAX_SOURCES_PER_CHANNEL = 40
MAX_PATHS_PER_CHANNEL = 3


class PathFinder:
    def __init__(self, program: Program, sinks: set[Node], is_library: Callable[[Node], bool]) -> None:
        self.program = program
        self.sinks = sinks
        self.is_library = is_library
        self._down: dict[tuple[Node, int], tuple[Node, ...] | None] = {}
        self._up: dict[Node, list[tuple[Node, tuple[Node, ...]]]] = {}
        self.visited = 0

    def _spend(self) -> bool:
        self.visited += 1
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

    def up(self, node: Node) -> list[tuple[Node, tuple[Node, ...]]]:
        """Callers of `node` within DEPTH calls, each with its chain from `node` up to it."""
        cached = self._up.get(node)
        if cached is not None:
            return cached
        found: list[tuple[Node, tuple[Node, ...]]] = []
        queue = deque([(node, (node,))])
        seen = {node}
        while queue:
            current, chain = queue.popleft()
            if len(chain) > DEPTH or not self._spend():
                continue
            for caller in self.program.callers(current):
                if caller not in seen and not self.is_library(caller):
                    seen.add(caller)
                    found.append((caller, (*chain, caller)))
                    queue.append((caller, (*chain, caller)))
        self._up[node] = found
        return found

    def connect(self, source: Node) -> tuple[Node, ...] | None:
        """A chain from the reading method to a sink: read ... caller ... sink, or None."""
        direct = self.down(source)
        if direct is not None:
            return direct
        for caller, chain in self.up(source):
            tail = self.down(caller)
            if tail is not None:
                return (*chain, *tail[1:])
        return None

    def paths(self, sources: list[Node]) -> list[tuple[Node, ...]]:
        found: list[tuple[Node, ...]] = []
        for source in sources[:MAX_SOURCES_PER_CHANNEL]:
            chain = self.connect(source)
            if chain is not None:
                found.append(chain)
                if len(found) >= MAX_PATHS_PER_CHANNEL:
                    break
        return sorted(found, key=len)
