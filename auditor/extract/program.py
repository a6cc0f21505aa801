"""All dex files of one app seen as one program: classes, methods and call edges, built lazily.

A node of the call graph is a defined method, named by (unit index, code start offset). Edges
are computed only for the methods a path search visits:
- invokes, resolved to the defining class (walking up superclasses) and, for virtual and
  interface calls, to overriding implementations in the app (when there are few enough);
- dispatch edges from the catalog: creating an instance of a Runnable, AsyncTask, Kotlin lambda,
  coroutine... links the creating method to the instance's callbacks (run, doInBackground...).
Callers are found the same way in reverse, with one byte search per dex file.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from auditor.dex.integrity import Hashes
from auditor.dex.reader import INVOKE_OPS, NEW_INSTANCE, NO_INDEX, DexFile, MethodCode
from auditor.records import record
from auditor.ruleset.ruleset import DispatchEntry

MAX_IMPLEMENTATIONS = 16
"""Virtual/interface calls with more implementations than this are not expanded (too generic)."""


@record
class DexUnit:
    """One dex file and where it came from (split name, entry name, hidden or not)."""

    dex: DexFile
    split: str | None
    entry: str
    hidden: bool = False
    hashes: Hashes | None = None
    """The header hashes checked against the file, when the loader computed them already."""


Node = tuple[int, int]
"""A defined method: (unit index, byte offset where its instructions start)."""


class ClassInfo(NamedTuple):
    """Where a class is defined and what it extends. A named tuple, made without a Python call
    (tuple.__new__): a large app defines tens of thousands of classes, every one indexed."""

    unit: int
    type_idx: int
    superclass: str | None
    interfaces: tuple[str, ...]


class Program:
    """Cross-dex lookups for the path search; everything expensive is cached on first use."""

    def __init__(self, units: list[DexUnit], dispatch: tuple[DispatchEntry, ...]) -> None:
        self.units = units
        self.dispatch = dispatch
        self.classes: dict[str, ClassInfo] = {}
        self.subclasses: dict[str, list[str]] = defaultdict(list)
        for index, unit in enumerate(units):
            self._index_classes(index, unit.dex)
        self._methods: dict[str, dict[tuple[str, str], Node]] = {}
        self._ancestors: dict[str, tuple[str, ...]] = {}
        self._edges: dict[Node, list[Node]] = {}
        self._signatures: dict[Node, str] = {}
        self._classes_of: dict[Node, str] = {}

    def _index_classes(self, index: int, dex: DexFile) -> None:
        """Built once per dex; an interface list shared by many classes is named once."""
        type_name = dex.type_name
        names = dex.type_names()
        known = len(names)
        named: dict[int, tuple[str, ...]] = {}
        classes, subclasses, new_tuple = self.classes, self.subclasses, tuple.__new__
        for type_idx, super_idx, _data_off, ifaces in dex.class_defs():
            name = names[type_idx] if type_idx < known else "?"
            if name in classes:
                continue  # the platform loads the first definition; later ones are shadowed
            sup = (names[super_idx] if super_idx < known else "?") if super_idx != NO_INDEX else None
            interfaces = named.get(id(ifaces))
            if interfaces is None:
                interfaces = named[id(ifaces)] = tuple(map(type_name, ifaces))
            classes[name] = new_tuple(ClassInfo, (index, type_idx, sup, interfaces))
            if sup:
                subclasses[sup].append(name)
            for parent in interfaces:
                if parent:
                    subclasses[parent].append(name)

    # -- methods ------------------------------------------------------------------------------

    def methods_of(self, cls: str) -> dict[tuple[str, str], Node]:
        """(name, proto) -> node for the methods with code that `cls` defines."""
        cached = self._methods.get(cls)
        if cached is not None:
            return cached
        info = self.classes.get(cls)
        table: dict[tuple[str, str], Node] = {}
        if info is not None:
            dex = self.units[info.unit].dex
            for code in dex.class_methods().get(info.type_idx, []):
                _c, name, proto = dex.method_ref(code.method_idx)
                table[(name, proto)] = (info.unit, code.start)
        self._methods[cls] = table
        return table

    def code(self, node: Node) -> MethodCode | None:
        return self.units[node[0]].dex.method_at(node[1])

    def signature(self, node: Node) -> str:
        """cls->name(proto) of a node; memoised (every reference, step and origin asks again)."""
        found = self._signatures.get(node)
        if found is None:
            code = self.code(node)
            found = self.units[node[0]].dex.method_signature(code.method_idx) if code else "?"
            self._signatures[node] = found
        return found

    def class_of(self, node: Node) -> str:
        found = self._classes_of.get(node)
        if found is None:
            code = self.code(node)
            found = self.units[node[0]].dex.method_class(code.method_idx) if code else "?"
            self._classes_of[node] = found
        return found

    def ancestors(self, cls: str) -> tuple[str, ...]:
        """Superclasses and interfaces of `cls`, transitively, including ones outside the app."""
        cached = self._ancestors.get(cls)
        if cached is not None:
            return cached
        seen: list[str] = []
        stack = [cls]
        while stack and len(seen) < 64:
            info = self.classes.get(stack.pop())
            if info is None:
                continue
            for parent in (info.superclass, *info.interfaces):
                if parent and parent not in seen:
                    seen.append(parent)
                    stack.append(parent)
        self._ancestors[cls] = tuple(seen)
        return self._ancestors[cls]

    def resolve(self, cls: str, name: str, proto: str) -> list[Node]:
        """Defined methods an invoke of cls->name(proto) may run: the definition and overrides."""
        targets: list[Node] = []
        for owner in (cls, *self.ancestors(cls)):
            node = self.methods_of(owner).get((name, proto))
            if node is not None:
                targets.append(node)
                break
        overrides = [n for sub in self._descendants(cls)
                     if (n := self.methods_of(sub).get((name, proto))) is not None]
        if len(overrides) <= MAX_IMPLEMENTATIONS:
            targets.extend(overrides)
        return list(dict.fromkeys(targets))

    def _descendants(self, cls: str) -> list[str]:
        out: list[str] = []
        stack = list(self.subclasses.get(cls, ()))
        while stack and len(out) <= MAX_IMPLEMENTATIONS * 4:
            sub = stack.pop()
            if sub not in out:
                out.append(sub)
                stack.extend(self.subclasses.get(sub, ()))
        return out

    def callbacks(self, cls: str) -> list[Node]:
        """Methods that run when an instance of `cls` is handed to a dispatcher (Thread, Executor...)."""
        lineage = set(self.ancestors(cls))
        names = {cb for entry in self.dispatch if lineage.intersection(entry.base_types) for cb in entry.callbacks}
        return [node for (name, _proto), node in self.methods_of(cls).items() if name in names]

    # -- edges --------------------------------------------------------------------------------

    def callees(self, node: Node) -> list[Node]:
        cached = self._edges.get(node)
        if cached is not None:
            return cached
        unit = self.units[node[0]]
        code = unit.dex.method_at(node[1])
        out: list[Node] = []
        for insn in unit.dex.decode(code) if code else []:
            if insn.op in INVOKE_OPS:
                out.extend(self.resolve(*unit.dex.method_ref(insn.index)))
            elif insn.op == NEW_INSTANCE:
                out.extend(self.callbacks(unit.dex.type_name(insn.index)))
        self._edges[node] = out = list(dict.fromkeys(n for n in out if n != node))
        return out

    def callers_many(self, nodes: list[Node]) -> dict[Node, list[Node]]:
        """Callers of each node, found with one byte search per dex file for all of them.

        A caller invokes the node's method (or a method it overrides), or creates the node's class
        when the node is a dispatch callback (run, doInBackground...).
        """
        out: dict[Node, list[Node]] = {node: [] for node in nodes}
        targets = [(node, *self._caller_keys(node)) for node in nodes]
        for index, unit in enumerate(self.units):
            dex = unit.dex
            by_method: dict[int, list[Node]] = defaultdict(list)
            by_type: dict[int, list[Node]] = defaultdict(list)
            for node, owners, name, proto, dispatched in targets:
                for m in self._method_ids(dex, owners, name, proto):
                    by_method[m].append(node)
                type_idx = dex.find_type(owners[0]) if dispatched else None
                if type_idx is not None:
                    by_type[type_idx].append(node)
            invokes, creations = dex.find_sites_keyed([(INVOKE_OPS, by_method), (bytes([NEW_INSTANCE]), by_type)])
            for node, code in invokes + creations:
                out[node].append((index, code.start))
        return {node: list(dict.fromkeys(c for c in callers if c != node)) for node, callers in out.items()}

    def _caller_keys(self, node: Node) -> tuple[tuple[str, ...], str, str, bool]:
        code = self.code(node)
        if code is None:
            return ((), "", "", False)
        cls, name, proto = self.units[node[0]].dex.method_ref(code.method_idx)
        owners = (cls, *self.ancestors(cls))
        dispatched = any(name in e.callbacks and set(e.base_types) & set(owners) for e in self.dispatch)
        return owners, name, proto, dispatched

    @staticmethod
    def _method_ids(dex: DexFile, owners: tuple[str, ...], name: str, proto: str) -> list[int]:
        """Method ids in `dex` that name `name(proto)` on any of `owners`."""
        name_idx = dex.find_string(name) if owners else None
        if name_idx is None:
            return []
        found = []
        for owner in owners:
            type_idx = dex.find_type(owner)
            if type_idx is not None:
                found += [m for m in dex.method_ids_named(type_idx, name_idx) if dex.method_ref(m)[2] == proto]
        return found
