"""Method summaries: what a method does with what its parameters carry, computed once per method.

A summary is computed with symbolic labels ("p", k) in the parameters, so it holds for every
caller: the caller substitutes what it passes. This is what keeps the analysis both
context-sensitive for data passed through helpers (a JSON helper called with contacts in one place
and with exchange rates in another does not mix them) and cheap (each method is analysed once,
again only when something it depends on grows).
"""

from __future__ import annotations

from dataclasses import field

from auditor.flow.labels import EMPTY, LabelSet
from auditor.model import FlowStep
from auditor.records import record

GlobalKey = tuple[str, ...]
FlowKey = tuple[str, str, tuple[FlowStep, ...]]
"""A flow's identity: channel, sending call, and the sending step."""
"""("f", class, field name) for a field, ("s", store, key) for a store such as Intent extras."""

MAX_HITS_PER_PARAM = 6


@record
class SinkHit:
    """A sink reached from a parameter: the trace from the parameter to the sending call."""

    kind: str
    call: str
    endpoints: frozenset[str]
    address_params: frozenset[int]
    steps: tuple[FlowStep, ...]


@record(frozen=False)
class Summary:
    ret: LabelSet = EMPTY
    param_out: dict[int, LabelSet] = field(default_factory=dict)
    """Labels the method puts into the object passed at each position (list.add on a parameter)."""
    sinks: dict[int, list[SinkHit]] = field(default_factory=dict)
    globals_written: dict[int, set[GlobalKey]] = field(default_factory=dict)
    """Fields and stores that receive what the parameter at each position carries."""
    addresses: dict[FlowKey, frozenset[int]] = field(default_factory=dict)
    """Flows found here whose destination is passed in by a caller (the connection, the URL), by position."""

    def add_sink(self, position: int, hit: SinkHit) -> bool:
        """Record a sink reached from a parameter; True if that is new. A sink seen again with more
        destinations (learnt on a later visit: the URL was in a field written elsewhere) keeps them."""
        hits = self.sinks.setdefault(position, [])
        for n, old in enumerate(hits):
            if (old.kind, old.call) == (hit.kind, hit.call):
                if hit.endpoints <= old.endpoints and hit.address_params <= old.address_params:
                    return False
                hits[n] = SinkHit(old.kind, old.call, old.endpoints | hit.endpoints,
                                  old.address_params | hit.address_params, old.steps)
                return True
        if len(hits) < MAX_HITS_PER_PARAM:
            hits.append(hit)
            return True
        return False

    def grow(self, other: Summary) -> bool:
        """Merge `other` into this summary (summaries only grow, so iteration ends); True if it changed."""
        changed = False
        if not other.ret <= self.ret:
            self.ret |= other.ret
            changed = True
        for pos, labels in other.param_out.items():
            old = self.param_out.get(pos, EMPTY)
            if not labels <= old:
                self.param_out[pos] = old | labels
                changed = True
        for pos, hits in other.sinks.items():
            for hit in hits:
                changed |= self.add_sink(pos, hit)
        for key, positions in other.addresses.items():
            old_positions = self.addresses.get(key, frozenset())
            if not positions <= old_positions:
                self.addresses[key] = old_positions | positions
                changed = True
        for pos, keys in other.globals_written.items():
            old_keys = self.globals_written.setdefault(pos, set())
            if not keys <= old_keys:
                old_keys |= keys
                changed = True
        return changed
