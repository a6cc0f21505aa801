"""The interprocedural taint analysis: from each source an app has, forward to the sinks it reaches.

It runs only where data is: methods holding a source are analysed first; a method is analysed
again, or for the first time, only when something it depends on grows:
- the summary of a callee it composes (computed on demand, memoised);
- a field or store it reads (its readers are found with one byte search per dex);
- for a method whose result or arguments carry channel data, its callers, the methods that
  create its class (a Runnable, an AsyncTask) and the methods that hand it to a library that
  calls it back (an Rx operator, a LoaderManager).
Everything the engine knows about Android and libraries comes from the rule set (sources from
apis.yaml, library semantics from flows.yaml, entry points from lifecycles.yaml and dispatch.yaml).
A budget of instructions bounds the work per app; reaching it is reported, never silent.
"""

from __future__ import annotations

import struct
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import field

from auditor.dex.annotations import method_annotations
from auditor.dex.insns import MethodBody, decode_body
from auditor.dex.reader import INVOKE_OPS, NEW_INSTANCE, DexFile
from auditor.extract.program import Node, Program
from auditor.flow.labels import EMPTY, Label, LabelSet, data_labels
from auditor.flow.library import ANY_METHOD, STORE_ANY_KEY, Library
from auditor.flow.method import MethodAnalysis
from auditor.flow.summary import FlowKey, GlobalKey, SinkHit, Summary
from auditor.model import FlowStep
from auditor.records import record
from auditor.ruleset.ruleset import ApiEntry, DispatchEntry, FlowEntry

INSTRUCTION_BUDGET = 400_000
"""Instructions the engine may interpret per app: the corpus's largest analysis (an old Gmail) needs
about 130,000; reaching it is reported as flow_lost evidence."""
Blocks = tuple[list[tuple[int, int]], list[list[int]]]
"""A method's basic blocks as [start, end) instruction indices, and each block's successors."""
MAX_DEPTH = 30
MAX_PULLED_CALLERS = 64
MAX_CALLBACK_TARGETS = 8
MAX_FLOWS = 64
MAX_EXPOSED_METHODS = 32
JAVASCRIPT_INTERFACE = "Landroid/webkit/JavascriptInterface;"
GET_OPS = bytes([*range(0x52, 0x59), *range(0x60, 0x67)])
RETROFIT_HTTP = "Lretrofit2/http/"
RETROFIT_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "HTTP")


@record
class SourceIndex:
    """Catalogued sources of one dex, by method, field and string index."""

    methods: dict[int, ApiEntry]
    fields: dict[int, ApiEntry]
    strings: dict[int, ApiEntry]


@record
class SourceSite:
    node: Node
    pc: int
    entry: ApiEntry


@record
class Flow:
    """Data of `channel`, read at `source`, proven to reach a sink; `steps` trace it."""

    channel: str
    source: SourceSite
    sink: SinkHit
    steps: tuple[FlowStep, ...]
    features: tuple[str, ...]
    entry_point: str


@record
class Lost:
    node: Node
    pc: int
    why: str
    channels: tuple[str, ...]


@record(frozen=False)
class FlowResult:
    flows: list[Flow] = field(default_factory=list)
    taken: dict[str, dict[str, Node]] = field(default_factory=dict)
    """Per channel, each column name read and the method that named it."""
    lost: list[Lost] = field(default_factory=list)
    analysed: int = 0
    instructions: int = 0
    exhausted: bool = False


def parse_proto(proto: str) -> tuple[list[str], str]:
    """Parameter descriptors and return descriptor of "(ILjava/lang/String;[B)V"."""
    inner, _, returns = proto[1:].partition(")")
    params, i = [], 0
    while i < len(inner):
        j = i
        while j < len(inner) and inner[j] == "[":
            j += 1
        if j < len(inner) and inner[j] == "L":
            j = inner.find(";", j)
            if j < 0:
                break
        params.append(inner[i:j + 1])
        i = j + 1
    return params, returns


def position_index(position: str) -> int | None:
    """The parameter index a catalog position names: 0 for `receiver`, k for `argk`, else None."""
    if position == "receiver":
        return 0
    return int(position[3:]) if position.startswith("arg") and position[3:].isdigit() else None


@record(frozen=False)
class InvokeInfo:
    """What one invoked method id means to the engine, computed once per dex and id."""

    cls: str
    name: str
    params: list[str]
    returns: str
    spec: FlowEntry | None
    targets: list[Node]
    retrofit: tuple[str, str] | None
    app_without_code: bool

    @property
    def label(self) -> str:
        return f"{self.cls}->{self.name}"

    def positions(self, regs: tuple[int, ...], static: bool) -> dict[int, int]:
        """Register of each position: 0 the receiver, 1.. the declared parameters (wide ones take two)."""
        out: dict[int, int] = {}
        i = 0
        if not static and regs:
            out[0] = regs[0]
            i = 1
        for k, param in enumerate(self.params, start=1):
            if i >= len(regs):
                break
            out[k] = regs[i]
            i += 2 if param in ("J", "D") else 1
        return out

    def param_type(self, position: str) -> str | None:
        k = position_index(position)
        if k == 0:
            return self.cls
        return self.params[k - 1] if k is not None and 0 < k <= len(self.params) else None


class FlowEngine:
    def __init__(self, program: Program, library: Library, sources: list[SourceIndex],
                 is_library: Callable[[Node], bool], entry_points: tuple[DispatchEntry, ...],
                 budget: int = INSTRUCTION_BUDGET) -> None:
        self.program = program
        self.library = library
        self.sources = sources
        self.is_library = is_library
        self.entry_points = entry_points
        self.budget = budget
        self.result = FlowResult()
        self.summaries: dict[Node, Summary] = {}
        self.dependents: dict[Node, set[Node]] = defaultdict(set)
        self.globals: dict[GlobalKey, LabelSet] = {}
        self.store_keys: dict[str, set[str]] = defaultdict(set)
        self.global_readers: dict[GlobalKey, set[Node]] = defaultdict(set)
        self.writers: dict[tuple[GlobalKey, int], tuple[Node, int]] = {}
        self.arrivals: dict[tuple[int, Node], tuple[Node | None, int, str]] = {}
        self.vias: dict[tuple[int, Node], dict[int, tuple[Node, str]]] = defaultdict(dict)
        """Per source and method, the helpers the data passed through there (by instruction offset)."""
        self.features: dict[str, set[str]] = defaultdict(set)
        """Per method signature, what steps there did to the data (encrypted, serialised...)."""
        self.sites: list[SourceSite] = []
        self._site_ids: dict[tuple[Node, int], int] = {}
        self._bodies: dict[Node, MethodBody] = {}
        self._blocks: dict[Node, Blocks] = {}
        self._invokes: dict[tuple[int, int, bool], InvokeInfo] = {}
        self._searched: set[GlobalKey | str] = set()
        self._pulled: set[Node] = set()
        self._pending_callers: list[Node] = []
        self._pending_readers: list[GlobalKey] = []
        self._in_progress: set[Node] = set()
        self._queue: deque[Node] = deque()
        self._queued: set[Node] = set()
        self._flow_keys: dict[FlowKey, int] = {}
        self._annotations: dict[str, dict[tuple[str, str], tuple[str, str]]] = {}
        self._callers: dict[Node, list[Node]] = {}
        self._unreturned: dict[tuple[Node, str], Lost | None] = {}
        """Per exposed method and channel: the flow_lost to report, or None once its data was seen
        in what the method returns (a summary that grew after an earlier call was composed)."""

    # -- driving --------------------------------------------------------------------------------

    def run(self, seeds: list[Node], destinations: tuple[Node, ...] | list[Node] = ()) -> FlowResult:
        """Analyse from the methods holding sources; then, only if a network flow was found without
        knowing where it goes, from the methods holding URL constants too (the URL may be stored far away)."""
        for seed in seeds:
            self.enqueue(seed)
        if seeds:
            for node in self._exposers():
                self.enqueue(node)
        self._drain()
        if any(flow.sink.kind == "network" and not flow.sink.endpoints for flow in self.result.flows):
            for node in destinations:
                self.enqueue(node)
            self._drain()
        if self.result.exhausted:
            self.result.lost.append(Lost(seeds[0] if seeds else (0, 0), 0,
                                         f"analysis budget of {self.budget:,} instructions reached; flows beyond it were not followed",
                                         ()))
        unreturned = [lost for lost in self._unreturned.values() if lost is not None]
        self.result.lost.extend(unreturned[:max(0, MAX_FLOWS - len(self.result.lost))])
        self.result.analysed = len(self.summaries)
        return self.result

    def _drain(self) -> None:
        while not self.result.exhausted:
            if not self._queue and not self._search_pending():
                break
            while self._queue and not self.result.exhausted:
                node = self._queue.popleft()
                self._queued.discard(node)
                self.analyse(node, 0)

    def enqueue(self, node: Node) -> None:
        if node not in self._queued and node not in self._in_progress:
            self._queued.add(node)
            self._queue.append(node)

    def spend(self, instructions: int) -> bool:
        self.result.instructions += instructions
        if self.result.instructions > self.budget:
            self.result.exhausted = True
        return not self.result.exhausted

    def analyse(self, node: Node, depth: int) -> None:
        if node in self._in_progress or self.result.exhausted:
            return
        body = self.body(node)
        self._in_progress.add(node)
        try:
            new = MethodAnalysis(self, node, body, self._params(node, body), depth).run()
        finally:
            self._in_progress.discard(node)
        old = self.summaries.get(node)
        if old is None:
            self.summaries[node] = new
            changed = bool(new.ret or new.param_out or new.sinks or new.globals_written or new.addresses)
        else:
            changed = old.grow(new)
        if changed:
            for dependent in sorted(self.dependents.get(node, ())):
                self.enqueue(dependent)
            summary = self.summaries[node]
            escaping = summary.ret | frozenset().union(*summary.param_out.values())
            if summary.addresses or any(label[0] in ("d", "s") for label in escaping):
                self.pull_callers(node)  # data or a destination leaves upwards, or a caller knows the destination

    def summary_of(self, target: Node, caller: Node, depth: int, demand: bool) -> Summary | None:
        """The callee's summary; computed now only on `demand` (the call passes data or a parameter
        that may carry some), else whatever is known (the caller is queued again if it grows)."""
        self.dependents[target].add(caller)
        summary = self.summaries.get(target)
        if summary is None and demand and depth <= MAX_DEPTH and not self.is_library(target):
            self.analyse(target, depth)
            summary = self.summaries.get(target)
        return summary

    def blocks(self, node: Node, build: Callable[[], Blocks]) -> Blocks:
        """The control-flow graph of a method, built once however often the method is analysed."""
        cached = self._blocks.get(node)
        if cached is None:
            cached = self._blocks[node] = build()
        return cached

    def body(self, node: Node) -> MethodBody:
        cached = self._bodies.get(node)
        if cached is None:
            code = self.program.code(node)
            try:
                cached = decode_body(self.dex_of(node).data, code.start, code.end) if code else MethodBody(0, 0, (), ())
            except (IndexError, struct.error):
                cached = MethodBody(0, 0, (), ())
            self._bodies[node] = cached
        return cached

    def _params(self, node: Node, body: MethodBody) -> list[tuple[int, int]]:
        code = self.program.code(node)
        if code is None:
            return []
        params, _returns = parse_proto(self.dex_of(node).method_ref(code.method_idx)[2])
        words = sum(2 if p in ("J", "D") else 1 for p in params)
        reg = body.registers - body.ins
        out = []
        if body.ins > words:
            out.append((reg, 0))
            reg += 1
        for k, param in enumerate(params, start=1):
            if not self.opaque(param):
                out.append((reg, k))
            reg += 2 if param in ("J", "D") else 1
        return out

    def opaque(self, descriptor: str) -> bool:
        """A type whose values carry no channel data (flows.yaml `opaque`), or an app class extending one."""
        if descriptor in ("Z", "B", "C", "S", "F", "D") or descriptor in self.library.opaque:
            return True
        return descriptor in self.program.classes and not self.library.opaque.isdisjoint(self.program.ancestors(descriptor))

    # -- lookups --------------------------------------------------------------------------------

    def dex_of(self, node: Node) -> DexFile:
        return self.program.units[node[0]].dex

    def field_key(self, node: Node, field_idx: int) -> GlobalKey:
        cls, name, _type = self.dex_of(node).field_ref(field_idx)
        return ("f", cls, name)

    def field_type(self, node: Node, field_idx: int) -> str | None:
        return self.dex_of(node).field_ref(field_idx)[2]

    def invoke_info(self, node: Node, method_idx: int, virtual: bool) -> InvokeInfo:
        key = (node[0], method_idx, virtual)
        info = self._invokes.get(key)
        if info is None:
            info = self._invoke_info(self.dex_of(node), method_idx, virtual)
            self._invokes[key] = info
        return info

    def _resolve(self, cls: str, name: str, proto: str, virtual: bool) -> list[Node]:
        """What an invoke may run: for invoke-direct/static/super the one definition (in the class or
        its nearest ancestor), for a virtual or interface call also the app's overrides."""
        if virtual and name != "<init>":
            found = self.program.resolve(cls, name, proto)
        else:
            found = []
            for owner in (cls, *self.program.ancestors(cls)):
                defined = self.program.methods_of(owner).get((name, proto))
                if defined is not None:
                    found = [defined]
                    break
        return [n for n in found if not self.is_library(n)]

    def _invoke_info(self, dex: DexFile, method_idx: int, virtual: bool) -> InvokeInfo:
        """A catalog entry naming the method wins, even over a library bundled in the app (socket.io,
        OkHttp): its semantics are what matters, not its internals. Else the app's own code, else an
        entry for a library ancestor, else the documented default."""
        cls, name, proto = dex.method_ref(method_idx)
        params, returns = parse_proto(proto)
        in_app = cls in self.program.classes
        spec = self.library.lookup(cls, name)
        targets = [] if spec else self._resolve(cls, name, proto, virtual)
        if spec is None and not targets and in_app:
            spec = self.library.lookup(cls, name, self.program.ancestors(cls))
        retrofit = self._retrofit(cls, name, proto) if in_app and not targets and spec is None else None
        app_without_code = in_app and not targets and spec is None and retrofit is None and not self.is_library_class(cls)
        return InvokeInfo(cls, name, params, returns, spec, targets, retrofit, app_without_code)

    def sent_return(self, node: Node) -> SinkHit | None:
        """When a library sends what this app method returns (a Volley request's getBody), the sink.
        Its destination is the object's own (`address: [receiver]`: the URL the request was built
        with), which only a caller holding the object knows: the flow's address positions say so,
        and whoever calls the method with a known object (the library's send, as a callback) fills it in."""
        signature = self.program.signature(node)
        name = signature.split("->", 1)[1].split("(", 1)[0]
        entry = self.library.sent_return(name, self.program.ancestors(self.program.class_of(node)))
        if entry is None or entry.sink is None:
            return None
        kind = entry.sink["kind"]
        address = frozenset(i for i in map(position_index, entry.sink.get("address", ())) if i is not None)
        return SinkHit(kind, signature, frozenset(), address,
                       (FlowStep(signature, 0, f"returns it to the library, which sends it ({kind})"),))

    def is_library_class(self, cls: str) -> bool:
        info = self.program.classes.get(cls)
        if info is None:
            return True
        methods = self.program.methods_of(cls)
        return bool(methods) and all(self.is_library(n) for n in methods.values())

    def _retrofit(self, cls: str, name: str, proto: str) -> tuple[str, str] | None:
        """(HTTP method, path) when cls->name is a Retrofit interface method."""
        table = self._annotations.get(cls)
        if table is None:
            table = {}
            info = self.program.classes.get(cls)
            if info is not None:
                dex = self.program.units[info.unit].dex
                for method_idx, annotations in method_annotations(dex, dex.annotations_offset(info.type_idx)).items():
                    for annotation in annotations:
                        verb = annotation.type[len(RETROFIT_HTTP):-1]
                        if annotation.type.startswith(RETROFIT_HTTP) and verb in RETROFIT_VERBS:
                            _c, m_name, m_proto = dex.method_ref(method_idx)
                            table[(m_name, m_proto)] = (verb, annotation.strings[-1] if annotation.strings else "")
            self._annotations[cls] = table
        return table.get((name, proto))

    def callback_targets(self, value_type: str | None, declared: str | None, invoke_cls: str, method: str,
                         types: tuple[str, ...] = ()) -> list[Node]:
        """App methods named `method` that a library may call on an object of this type: the value's
        known class first, else its declared type, the invoked class, then the library classes the
        catalog says it may extend."""
        if method == ANY_METHOD:
            return self.exposed_methods(value_type or declared or "")
        for cls in (value_type, declared, invoke_cls):
            if not cls:
                continue
            found = self._named_methods(cls, method)
            if found:
                return found[:MAX_CALLBACK_TARGETS]
        found = list(dict.fromkeys(n for cls in types for n in self._named_methods(cls, method)))
        return found[:MAX_CALLBACK_TARGETS]

    def exposed_methods(self, cls: str) -> list[Node]:
        """The methods of an app class that code outside the app may call on its objects (a WebView's
        JavaScript): those annotated @JavascriptInterface if any is (API 17+ exposes only those),
        else every method but constructors (as older WebViews do)."""
        if cls not in self.program.classes:
            return []
        found: dict[tuple[str, str], Node] = {}
        for owner in (cls, *self.program.ancestors(cls)):
            for key, node in self.program.methods_of(owner).items():
                if key[0] not in ("<init>", "<clinit>") and not self.is_library(node):
                    found.setdefault(key, node)
        annotated = self._annotated(cls, JAVASCRIPT_INTERFACE)
        nodes = [n for key, n in found.items() if not annotated or key in annotated]
        return nodes[:MAX_EXPOSED_METHODS]

    def _annotated(self, cls: str, annotation: str) -> set[tuple[str, str]]:
        """(name, proto) of the methods of `cls` that carry `annotation`."""
        info = self.program.classes.get(cls)
        if info is None:
            return set()
        dex = self.program.units[info.unit].dex
        return {dex.method_ref(m)[1:] for m, found in method_annotations(dex, dex.annotations_offset(info.type_idx)).items()
                if any(a.type == annotation for a in found)}

    def _exposers(self) -> list[Node]:
        """Methods that hand an app object to a library calling any of its methods (a WebView's
        JavaScript bridge): where the app decides what it exposes, so the analysis starts there too."""
        found: list[Node] = []
        for index, unit in enumerate(self.program.units):
            ids = {m for method in self.library.wirers.get(ANY_METHOD, ()) for m in self._method_ids(unit.dex, method)}
            if ids:
                found += [(index, code.start) for code, _insn in unit.dex.find_sites_many([(INVOKE_OPS, ids)])[0]]
        return [n for n in dict.fromkeys(found) if not self.is_library(n)]

    def _named_methods(self, cls: str, method: str) -> list[Node]:
        classes = [cls] if cls in self.program.classes else []
        if not classes:
            stack, seen = list(self.program.subclasses.get(cls, ())), set()
            while stack and len(classes) < MAX_CALLBACK_TARGETS:
                sub = stack.pop()
                if sub not in seen:
                    seen.add(sub)
                    classes.append(sub)
                    stack.extend(self.program.subclasses.get(sub, ()))
        found: list[Node] = []
        for c in classes:
            for owner in (c, *self.program.ancestors(c)):
                nodes = [n for (name, _p), n in self.program.methods_of(owner).items() if name == method]
                if nodes:
                    found += [n for n in nodes if not self.is_library(n)]
                    break
        return list(dict.fromkeys(found))

    # -- sources --------------------------------------------------------------------------------

    def source_label(self, node: Node, kind: str, index: int, pc: int) -> Label | None:
        table = self.sources[node[0]]
        entry = {"method": table.methods, "field": table.fields, "string": table.strings}[kind].get(index)
        if entry is None or entry.channel is None:
            return None
        site_id = self._site_ids.get((node, pc))
        if site_id is None:
            site_id = len(self.sites)
            self.sites.append(SourceSite(node, pc, entry))
            self._site_ids[(node, pc)] = site_id
        return ("u" if entry.produces == "uri" else "d", entry.channel, site_id)

    def source_action(self, label: Label) -> str:
        entry = self.sites[int(label[2])].entry  # type: ignore[misc]
        what = "URI" if label[0] == "u" else "data"
        return f"reads {entry.channel} {what} ({entry.match})"

    # -- globals --------------------------------------------------------------------------------

    def read_global(self, key: GlobalKey, reader: Node) -> LabelSet:
        self.global_readers[key].add(reader)
        return self.globals.get(key, EMPTY)

    def read_store(self, name: str, key: str | None, reader: Node) -> LabelSet:
        keys = sorted(self.store_keys[name]) if key is None or key == STORE_ANY_KEY else [key, STORE_ANY_KEY]
        self.global_readers[("s", name)].add(reader)
        return frozenset().union(*(self.globals.get(("s", name, k), EMPTY) for k in keys))

    def write_global(self, key: GlobalKey, labels: LabelSet, node: Node, pc: int) -> None:
        old = self.globals.get(key, EMPTY)
        if labels <= old:
            return
        self.globals[key] = old | labels
        for label in data_labels(labels - old):
            self.writers.setdefault((key, label[2]), (node, pc))
        if key[0] == "s":
            self.store_keys[key[1]].add(key[2])
            readers_key: GlobalKey = ("s", key[1])
        else:
            readers_key = key
        for reader in sorted(self.global_readers.get(readers_key, ())):
            self.enqueue(reader)
        if readers_key not in self._searched:
            self._searched.add(readers_key)
            self._pending_readers.append(readers_key)

    def _search_pending(self) -> bool:
        """Find, with one byte search per dex, the readers of every field written and the callers of
        every method whose data escapes since the last search; queue them. False when nothing was pending."""
        keys, pulled = self._pending_readers, self._pending_callers
        if not keys and not pulled:
            return False
        self._pending_readers, self._pending_callers = [], []
        for key, nodes in self._find_readers(keys).items():
            self.global_readers[key].update(nodes)
            for node in sorted(nodes):
                self.enqueue(node)
        for node, callers in self._find_callers(pulled).items():
            self._callers[node] = callers
            for caller in callers[:MAX_PULLED_CALLERS]:
                self.enqueue(caller)
        return True

    def _find_readers(self, keys: list[GlobalKey]) -> dict[GlobalKey, set[Node]]:
        """Methods that read each field (or load from each store)."""
        found: dict[GlobalKey, set[Node]] = {key: set() for key in keys}
        for index, unit in enumerate(self.program.units):
            dex = unit.dex
            by_field: dict[int, list[GlobalKey]] = defaultdict(list)
            by_method: dict[int, list[GlobalKey]] = defaultdict(list)
            for key in keys:
                if key[0] == "f":
                    for f in self._field_ids(dex, key[1], key[2]):
                        by_field[f].append(key)
                else:
                    for method in self.library.loaders.get(key[1], ()):
                        for m in self._method_ids(dex, method):
                            by_method[m].append(key)
            gets, loads = dex.find_sites_keyed([(GET_OPS, by_field), (INVOKE_OPS, by_method)])
            for key, code in gets + loads:
                found[key].add((index, code.start))
        return found

    @staticmethod
    def _field_ids(dex: DexFile, cls: str, name: str) -> set[int]:
        type_idx, name_idx = dex.find_type(cls), dex.find_string(name)
        return set(dex.iter_field_ids_of(type_idx, name_idx)) if type_idx is not None and name_idx is not None else set()

    @staticmethod
    def _method_ids(dex: DexFile, method: str) -> list[int]:
        cls, name = method.split("->", 1)
        type_idx, name_idx = dex.find_type(cls), dex.find_string(name)
        return dex.method_ids_named(type_idx, name_idx) if type_idx is not None and name_idx is not None else []

    # -- callers of a method whose data escapes upwards ------------------------------------------

    def pull_callers(self, node: Node) -> None:
        if node not in self._pulled:
            self._pulled.add(node)
            self._pending_callers.append(node)

    def callers(self, node: Node) -> list[Node]:
        cached = self._callers.get(node)
        if cached is None:
            cached = self._find_callers([node])[node]
            self._callers[node] = cached
        return cached

    def _find_callers(self, nodes: list[Node]) -> dict[Node, list[Node]]:
        """Direct callers, creators of each method's class, and methods handing it to a library callback."""
        if not nodes:
            return {}
        direct = self.program.callers_many(nodes)
        found: dict[Node, list[Node]] = {node: list(direct[node]) for node in nodes}
        for index, unit in enumerate(self.program.units):
            dex = unit.dex
            by_type: dict[int, list[Node]] = defaultdict(list)
            by_method: dict[int, list[Node]] = defaultdict(list)
            for node in nodes:
                type_idx = dex.find_type(self.program.class_of(node))
                if type_idx is not None:
                    by_type[type_idx].append(node)
                name = self.program.signature(node).split("->", 1)[1].split("(", 1)[0]
                for method in self.library.wirers.get(name, ()):
                    for m in self._method_ids(dex, method):
                        by_method[m].append(node)
            creations, wirings = dex.find_sites_keyed([(bytes([NEW_INSTANCE]), by_type), (INVOKE_OPS, by_method)])
            for node, code in creations + wirings:
                found[node].append((index, code.start))
        return {node: [n for n in dict.fromkeys(callers) if n != node and not self.is_library(n)]
                for node, callers in found.items()}

    # -- what the analysis of a method reports ----------------------------------------------------

    def arrive(self, site_id: int, node: Node, prev: Node | None, pc: int, action: str) -> None:
        self.arrivals.setdefault((site_id, node), (prev, pc, action))

    def writer(self, site_id: int, key: GlobalKey) -> Node | None:
        """The method that first put data of this source into a field, or into any key of a store."""
        if key[0] == "s" and len(key) == 2:
            return next((node for (k, s), (node, _pc) in self.writers.items() if s == site_id and k[:2] == key), None)
        found = self.writers.get((key, site_id))
        return found[0] if found else None

    def inherit_features(self, node: Node, callee: Node) -> None:
        """Data passed through a callee (a helper that encrypts) carries the callee's features along."""
        self.features[self.program.signature(node)] |= self.features.get(self.program.signature(callee), set())

    def feature(self, node: Node, name: str) -> None:
        self.features[self.program.signature(node)].add(name)

    def taken(self, channel: str, node: Node, names: tuple[str, ...]) -> None:
        table = self.result.taken.setdefault(channel, {})
        for name in names:
            table.setdefault(name, node)

    def lost(self, node: Node, pc: int, why: str, labels: LabelSet) -> None:
        channels = tuple(sorted({label[1] for label in data_labels(labels)}))
        if len(self.result.lost) < MAX_FLOWS:
            self.result.lost.append(Lost(node, pc, why, channels))

    def unreturned(self, node: Node, returned: LabelSet, caller: Node, pc: int, label: str) -> None:
        """Channel data read in a method that code outside the app calls (a WebView's JavaScript
        bridge) and not seen in what it returns (it went into an object's fields, which the
        analysis does not follow into the result): said, never silently dropped."""
        returned_sites = {taint[2] for taint in data_labels(returned)}
        signature = self.program.signature(node)
        for site_id, site in enumerate(self.sites):
            channel = site.entry.channel
            held = site.node == node or (site_id, node) in self.arrivals
            if not (held and channel):
                continue
            key = (node, channel)
            if site_id in returned_sites:
                self._unreturned[key] = None  # summaries only grow: once returned, always returned
            elif key not in self._unreturned:
                self._unreturned[key] = Lost(caller, pc, f"{channel} data in {signature}, which {label} exposes to code outside "
                                                         "the app (a WebView's JavaScript), is not followed into its result",
                                             (channel,))

    def sender_class(self, key: FlowKey) -> str | None:
        """The app class whose method a flow's data leaves from (a request's getBody), if any."""
        cls = key[1].split("->", 1)[0]
        return cls if cls in self.program.classes else None

    def may_be(self, value_class: str | None, cls: str | None) -> bool:
        """Whether an object known to be of `value_class` may be a `cls` (either unknown: yes). A
        request of one class handed to a shared helper does not give its URL to another class's flows."""
        if not value_class or not cls or value_class == cls or value_class not in self.program.classes:
            return True
        return cls in self.program.ancestors(value_class) or value_class in self.program.ancestors(cls)

    def add_endpoints(self, key: FlowKey, endpoints: frozenset[str]) -> None:
        """Where a known flow goes, learnt later (from a caller, or on a second visit)."""
        known = self._flow_keys.get(key)
        if known is None or endpoints <= self.result.flows[known].sink.endpoints:
            return
        flow = self.result.flows[known]
        sink = SinkHit(flow.sink.kind, flow.sink.call, flow.sink.endpoints | endpoints, flow.sink.address_params, flow.sink.steps)
        self.result.flows[known] = Flow(flow.channel, flow.source, sink, flow.steps, flow.features, flow.entry_point)

    def flow(self, site_id: int, node: Node, hit: SinkHit) -> FlowKey | None:
        site = self.sites[site_id]
        channel = site.entry.channel or "?"
        key: FlowKey = (channel, hit.call, hit.steps[-1:])
        if key in self._flow_keys:
            self.add_endpoints(key, hit.endpoints)
            return key
        if len(self.result.flows) >= MAX_FLOWS:
            return None
        self._flow_keys[key] = len(self.result.flows)
        chain = self.chain(site_id, node)
        steps = (*chain, *hit.steps)
        features = sorted({f for step in steps for f in self.features.get(step.method, ())})
        origin = self._chain_nodes(site_id, node)[0]
        self.result.flows.append(Flow(channel, site, hit, steps, tuple(features), self.entry_point(origin)))
        return key

    def _chain_nodes(self, site_id: int, node: Node) -> list[Node]:
        nodes: list[Node] = [node]
        seen = {node}
        while True:
            arrival = self.arrivals.get((site_id, nodes[-1]))
            if arrival is None or arrival[0] is None or arrival[0] in seen:
                break
            seen.add(arrival[0])
            nodes.append(arrival[0])
        return nodes[::-1]

    def via(self, site_id: int, node: Node, pc: int, helper: Node, action: str) -> None:
        self.vias[(site_id, node)].setdefault(pc, (helper, action))

    def chain(self, site_id: int, node: Node) -> list[FlowStep]:
        """Steps from the read to `node`, following how the data first arrived in each method, and
        the helpers it passed through in each (an encryption helper, a cache that stores it)."""
        steps = []
        for n in self._chain_nodes(site_id, node):
            signature = self.program.signature(n)
            arrival = self.arrivals.get((site_id, n))
            start = arrival[1] if arrival is not None else 0
            steps.append(FlowStep(signature, start, arrival[2] if arrival is not None else "holds the data"))
            vias = self.vias.get((site_id, n), {})
            steps += [FlowStep(self.program.signature(vias[pc][0]), 0, vias[pc][1]) for pc in sorted(vias) if pc >= start]
        return steps

    # -- entry points -----------------------------------------------------------------------------

    def is_entry(self, node: Node) -> bool:
        sig = self.program.signature(node)
        name = sig.split("->", 1)[1].split("(", 1)[0]
        lineage = set(self.program.ancestors(self.program.class_of(node)))
        return any(name in e.callbacks and lineage.intersection(e.base_types) for e in self.entry_points)

    def entry_point(self, node: Node) -> str:
        """The nearest framework-called method (lifecycle, callback) from which `node` runs."""
        frontier, seen = [node], {node}
        for _level in range(6):
            for candidate in frontier:
                if self.is_entry(candidate):
                    return self.program.signature(candidate)
            callers: list[Node] = []
            for candidate in frontier:
                callers += [c for c in self.callers(candidate) if c not in seen]
            seen.update(callers)
            if not callers or len(seen) > 300:
                break
            frontier = list(dict.fromkeys(callers))
        return self.program.signature(frontier[0] if frontier else node)
