"""The analysis of one method: registers, fields and calls, instruction by instruction.

Flow-sensitive over the method's control-flow graph (registers are reused for unrelated values
all the time in Dalvik code, so a flow-insensitive view would mix them), with:
- a per-register value: the labels it carries, its known class, a constant string it holds, and
  the identity of the object (a field, a parameter, an allocation) so that `list.add(x)` also
  taints every other register, field or parameter holding the same list;
- fields as global places (class + name), with a strong update inside the method: a field
  written and then overwritten before anything reads it never carries the first value;
- calls composed through the callee's summary, or through the library catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from auditor.dex.insns import RETURNS, SWITCHES, Instruction, MethodBody
from auditor.flow.labels import EMPTY, LabelSet, concrete, data_labels, endpoint_label, endpoints_in, marks_in, params_in
from auditor.flow.library import ANY_METHOD
from auditor.flow.summary import FlowKey, GlobalKey, SinkHit, Summary
from auditor.model import FlowStep

if TYPE_CHECKING:
    from auditor.extract.program import Node
    from auditor.flow.engine import FlowEngine, InvokeInfo

Val = tuple[LabelSet, str | None, Any, Any]
"""(labels, class descriptor, constant (a string, or a tuple of strings for an array), object identity)."""
NO_VAL: Val = (EMPTY, None, None, None)
State = dict[Any, Val]
RESULT = "result"
MAX_BLOCK_VISITS = 24

MOVES = frozenset(range(0x01, 0x0A))
MOVE_RESULTS = frozenset({0x0A, 0x0B, 0x0C})
INVOKES = frozenset([*range(0x6E, 0x73), *range(0x74, 0x79)])
STATIC_INVOKES = frozenset({0x71, 0x77})
VIRTUAL_INVOKES = frozenset({0x6E, 0x72, 0x74, 0x78})
"""invoke-virtual and invoke-interface: the receiver's class picks the method (super, direct and static do not)."""
IGETS = frozenset(range(0x52, 0x59))
IPUTS = frozenset(range(0x59, 0x60))
SGETS = frozenset(range(0x60, 0x67))
SPUTS = frozenset(range(0x67, 0x6E))
AGETS = frozenset(range(0x44, 0x4B))
APUTS = frozenset(range(0x4B, 0x52))
UNOPS = frozenset(range(0x7B, 0x90))
BINOPS = frozenset(range(0x90, 0xB0))
BINOPS_2ADDR = frozenset(range(0xB0, 0xD0))
LITOPS = frozenset(range(0xD0, 0xE3))
CLEARS = frozenset([0x0D, *range(0x12, 0x1A), 0x20, 0x21, *range(0x2D, 0x32)])


def _merge(a: Val, b: Val) -> Val:
    return (a[0] | b[0], a[1] if a[1] == b[1] else None, a[2] if a[2] == b[2] else None, a[3] if a[3] == b[3] else None)


def _join_into(dst: State, src: State) -> bool:
    """Merge `src` into `dst`. A field overlay survives only where every path wrote the field."""
    changed = False
    for key, val in src.items():
        old = dst.get(key)
        if old is None:
            if isinstance(key, tuple):
                continue
            dst[key] = val
            changed = True
        elif old != val:
            merged = _merge(old, val)
            if merged != old:
                dst[key] = merged
                changed = True
    for key in [k for k in dst if isinstance(k, tuple) and k not in src]:
        del dst[key]
        changed = True
    return changed


class MethodAnalysis:
    """Computes the summary of one method under the engine's current global knowledge."""

    def __init__(self, engine: FlowEngine, node: Node, body: MethodBody, params: list[tuple[int, int]],
                 depth: int) -> None:
        self.engine = engine
        self.node = node
        self.body = body
        self.params = params
        self.depth = depth
        self.summary = Summary()
        self.signature = engine.program.signature(node)
        self.addressed: dict[Any, list[FlowKey]] = {}
        """Flows whose destination is an object of this method (by identity): a URL it gets later in
        the method (a WebView's loadUrl after addJavascriptInterface) names their destination too."""

    # -- control flow ---------------------------------------------------------------------------

    def _blocks(self) -> tuple[list[tuple[int, int]], list[list[int]]]:
        insns = self.body.insns
        index = {insn.pc: i for i, insn in enumerate(insns)}
        leaders = {0}
        for i, insn in enumerate(insns):
            if insn.targets or not insn.falls_through or insn.op in SWITCHES:
                leaders.update(index[t] for t in insn.targets if t in index)
                leaders.add(i + 1)
        for block in self.body.tries:
            leaders.update(index[h] for h in block.handlers if h in index)
        starts = sorted(i for i in leaders if i < len(insns))
        spans = [(s, (starts[n + 1] if n + 1 < len(starts) else len(insns))) for n, s in enumerate(starts)]
        block_of = {s: n for n, (s, _e) in enumerate(spans)}
        successors: list[list[int]] = []
        for start, end in spans:
            last = insns[end - 1]
            succ = [block_of[index[t]] for t in last.targets if t in index and index[t] in block_of]
            if last.falls_through and end in block_of:
                succ.append(block_of[end])
            first_pc, last_pc = insns[start].pc, last.pc
            for block in self.body.tries:
                if block.start <= last_pc and first_pc < block.end:
                    succ += [block_of[index[h]] for h in block.handlers if h in index and index[h] in block_of]
            successors.append(list(dict.fromkeys(succ)))
        return spans, successors

    def run(self) -> Summary:
        insns = self.body.insns
        if not insns:
            return self.summary
        spans, successors = self.engine.blocks(self.node, self._blocks)
        entry: State = {reg: (frozenset({("p", pos)}), None, None, ("p", pos)) for reg, pos in self.params}
        states: dict[int, State] = {0: entry}
        visits = [0] * len(spans)
        work = [0]
        sent = self.engine.sent_return(self.node)
        while work:
            block = work.pop()
            visits[block] += 1
            if visits[block] > MAX_BLOCK_VISITS or not self.engine.spend(spans[block][1] - spans[block][0]):
                break
            state = dict(states[block])
            for insn in insns[spans[block][0]:spans[block][1]]:
                self.step(state, insn)
            for succ in successors[block]:
                if succ not in states:
                    states[succ] = dict(state)
                    work.append(succ)
                elif _join_into(states[succ], state) and succ not in work:
                    work.append(succ)
        if sent is not None and self.summary.ret:
            self.reach_sink(self.summary.ret, sent, 0)
        return self.summary

    # -- values ---------------------------------------------------------------------------------

    @staticmethod
    def labels(state: State, reg: int) -> LabelSet:
        return state.get(reg, NO_VAL)[0]

    @staticmethod
    def carried(state: State, regs: Iterable[int]) -> LabelSet:
        """Everything the registers carry together."""
        return frozenset().union(*(state.get(reg, NO_VAL)[0] for reg in regs))

    def taint_object(self, state: State, reg: int, added: LabelSet, pc: int) -> None:
        """Add labels to the object in `reg` and to every register, field or parameter holding it."""
        if not added:
            return
        val = state.get(reg, NO_VAL)
        ident = val[3]
        if ident is None:
            state[reg] = (val[0] | added, val[1], val[2], None)
        else:
            for key, other in list(state.items()):
                if other[3] == ident and not added <= other[0]:
                    state[key] = (other[0] | added, other[1], other[2], other[3])
            if reg not in state:
                state[reg] = (added, None, None, ident)
            for key in self.addressed.get(ident, ()):
                self.engine.add_endpoints(key, frozenset(endpoints_in(added)))
        if ident and ident[0] == "g":
            self.write_global(ident[1], added, pc)
        elif ident and ident[0] == "p":
            pos = ident[1]
            self.summary.param_out[pos] = self.summary.param_out.get(pos, EMPTY) | added

    def write_global(self, key: GlobalKey, labels: LabelSet, pc: int) -> None:
        for pos in params_in(labels):
            self.summary.globals_written.setdefault(pos, set()).add(key)
        self.engine.write_global(key, concrete(labels), self.node, pc)

    def commit_fields(self, state: State, pc: int) -> None:
        for key, val in state.items():
            if val[0] and isinstance(key, tuple):
                self.write_global(key[1], val[0], pc)

    def arrive(self, labels: LabelSet, prev: Node | None, pc: int, action: str) -> None:
        for label in data_labels(labels):
            self.engine.arrive(label[2], self.node, prev, pc, action)

    # -- instructions ---------------------------------------------------------------------------

    def step(self, state: State, insn: Instruction) -> None:
        op, regs = insn.op, insn.regs
        if op in INVOKES:
            self.invoke(state, insn)
        elif op in MOVES:
            state[regs[0]] = state.get(regs[1], NO_VAL)
        elif op in MOVE_RESULTS:
            state[regs[0]] = state.pop(RESULT, NO_VAL)
        elif op in RETURNS:
            self.commit_fields(state, insn.pc)
            if op != 0x0E:
                self.summary.ret |= self.labels(state, regs[0])
        elif op in (0x1A, 0x1B):
            self.const_string(state, insn)
        elif op in IGETS or op in SGETS:
            self.field_get(state, insn)
        elif op in IPUTS or op in SPUTS:
            self.field_put(state, insn)
        else:
            self.simple(state, insn)

    def simple(self, state: State, insn: Instruction) -> None:
        op, regs = insn.op, insn.regs
        dex = self.engine.dex_of(self.node)
        if op in CLEARS:
            state[regs[0]] = NO_VAL
        elif op == 0x1C:
            state[regs[0]] = (EMPTY, "Ljava/lang/Class;", ("class", dex.type_name(insn.index)), None)
        elif op == 0x1F:
            old = state.get(regs[0], NO_VAL)
            state[regs[0]] = (old[0], dex.type_name(insn.index), old[2], old[3])
        elif op == 0x22:
            state[regs[0]] = (EMPTY, dex.type_name(insn.index), None, ("new", insn.pc))
        elif op == 0x23:
            state[regs[0]] = (EMPTY, dex.type_name(insn.index), (), ("new", insn.pc))
        elif op in (0x24, 0x25):
            state[RESULT] = (self.carried(state, regs), None, None, None)
        elif op in AGETS:
            state[regs[0]] = (self.labels(state, regs[1]), None, None, None)
        elif op in APUTS:
            self.array_put(state, insn)
        elif op in UNOPS or op in LITOPS:
            state[regs[0]] = (self.labels(state, regs[1]), None, None, None)
        elif op in BINOPS:
            state[regs[0]] = (self.labels(state, regs[1]) | self.labels(state, regs[2]), None, None, None)
        elif op in BINOPS_2ADDR:
            state[regs[0]] = (self.labels(state, regs[0]) | self.labels(state, regs[1]), None, None, None)
        elif op >= 0xFA:
            state[RESULT] = (self.carried(state, regs), None, None, None)

    def array_put(self, state: State, insn: Instruction) -> None:
        value, array = insn.regs[0], insn.regs[1]
        val, arr = state.get(value, NO_VAL), state.get(array, NO_VAL)
        if isinstance(arr[2], tuple) and isinstance(val[2], str):
            state[array] = (arr[0], arr[1], (*arr[2], val[2])[:64], arr[3])
        self.taint_object(state, array, val[0] - state.get(array, NO_VAL)[0], insn.pc)

    def const_string(self, state: State, insn: Instruction) -> None:
        dex = self.engine.dex_of(self.node)
        text = dex.string(insn.index)
        labels: set[Any] = set()
        endpoint = endpoint_label(text)
        if endpoint is not None:
            labels.add(endpoint)
        source = self.engine.source_label(self.node, "string", insn.index, insn.pc)
        if source is not None:
            labels.add(source)
            self.arrive(frozenset({source}), None, insn.pc, self.engine.source_action(source))
        state[insn.regs[0]] = (frozenset(labels), "Ljava/lang/String;", text, None)

    def field_get(self, state: State, insn: Instruction) -> None:
        key = self.engine.field_key(self.node, insn.index)
        overlay = state.get(("F", key))
        if overlay is not None:
            labels = overlay[0]
        else:
            labels = self.engine.read_global(key, self.node)
            for label in data_labels(labels):
                self.engine.arrive(label[2], self.node, self.engine.writer(label[2], key), insn.pc, f"reads field {key[2]}")
        source = self.engine.source_label(self.node, "field", insn.index, insn.pc) if insn.op in SGETS else None
        if source is not None:
            labels = labels | {source}
            self.arrive(frozenset({source}), None, insn.pc, self.engine.source_action(source))
        field_type = self.engine.field_type(self.node, insn.index)
        state[insn.regs[0]] = (labels, field_type, None, ("g", key))

    def field_put(self, state: State, insn: Instruction) -> None:
        key = self.engine.field_key(self.node, insn.index)
        val = state.get(insn.regs[0], NO_VAL)
        state[("F", key)] = (val[0], None, None, ("g", key))
        if insn.op in IPUTS and len(insn.regs) > 1 and insn.regs[1] != insn.regs[0]:
            self.holder_gains(state, insn.regs[1], val[0], insn.pc)
        if val[3] is None or val[3][0] == "new":
            state[insn.regs[0]] = (val[0], val[1], val[2], ("g", key))  # the object now lives in the field

    def holder_gains(self, state: State, holder: int, labels: LabelSet, pc: int) -> None:
        """An object whose field receives a value carries that value too, as a list carries what is
        added to it: the contact objects an app fills, collects and serialises (Gson, Moshi, a JSON
        of the list) or returns to a WebView's page carry the rows into the send. The field itself
        stays a place of its own, so reading another field of the object is not tainted by it.

        Not for `this`: a component keeps its state in its own fields and is passed everywhere as a
        Context, so its data is followed through those fields (global places), not through the
        component."""
        if state.get(holder, NO_VAL)[3] == ("p", 0) and any(pos == 0 for _reg, pos in self.params):
            return
        self.taint_object(state, holder, labels - state.get(holder, NO_VAL)[0], pc)

    # -- calls ----------------------------------------------------------------------------------

    def invoke(self, state: State, insn: Instruction) -> None:
        info = self.engine.invoke_info(self.node, insn.index, insn.op in VIRTUAL_INVOKES)
        positions = info.positions(insn.regs, insn.op in STATIC_INVOKES)
        self.commit_fields(state, insn.pc)
        state.pop(RESULT, None)
        result: LabelSet = EMPTY
        source = self.engine.source_label(self.node, "method", insn.index, insn.pc)
        if source is not None:
            result |= {source}
            self.arrive(frozenset({source}), None, insn.pc, self.engine.source_action(source))
        if info.retrofit is not None:
            self.retrofit_call(state, insn, info, positions)
        elif info.spec is not None:
            result |= self.apply_spec(state, insn, info, positions)
        elif info.targets:
            for target in info.targets:
                result |= self.call(state, insn.pc, target, positions, info.label)
        else:
            result |= self.default_call(state, insn, info, positions)
        state[RESULT] = (result, info.returns, None, ("r", insn.pc))

    def default_call(self, state: State, insn: Instruction, info: InvokeInfo, positions: dict[int, int]) -> LabelSet:
        """A library method the catalog does not name: its inputs flow into its result (and into
        the new object, for a constructor)."""
        carried = self.carried(state, positions.values())
        if info.name == "<init>" and 0 in positions:
            args = self.carried(state, (r for p, r in positions.items() if p))
            self.taint_object(state, positions[0], args, insn.pc)
        if info.app_without_code and data_labels(carried):
            self.engine.lost(self.node, insn.pc, f"data passed to {info.label}, which has no code in the app (native or abstract)", carried)
        return carried

    def call(self, state: State, pc: int, target: Node, positions: dict[int, int], label: str,
             given: dict[int, LabelSet] | None = None, demand: bool = False) -> LabelSet:
        """Compose the callee's summary at this call: substitute what each position carries (`demand`:
        analyse the callee now even if nothing passed carries data, for what it returns)."""
        args = given if given is not None else {pos: self.labels(state, reg) for pos, reg in positions.items()}
        summary = self.engine.summary_of(target, self.node, self.depth + 1, demand or _carries_data(args))
        if summary is None:
            return EMPTY

        def substitute(labels: LabelSet) -> LabelSet:
            out = set(concrete(labels))
            for pos in params_in(labels):
                out |= args.get(pos, EMPTY)
            return frozenset(out)

        result = substitute(summary.ret)
        passed_through = {pos for labels in (summary.ret, *summary.param_out.values()) for pos in params_in(labels)}
        if any(data_labels(args.get(pos, EMPTY)) for pos in passed_through):
            self.engine.inherit_features(self.node, target)
        stored = {pos for pos, keys in summary.globals_written.items() if keys}
        for pos in passed_through | stored:
            what = "stores it" if pos in stored else "returns it transformed"
            for taint in data_labels(args.get(pos, EMPTY)):
                self.engine.via(taint[2], self.node, pc, target, f"{what} (called at {pc:#x})")
        self.arrive(concrete(summary.ret), target, pc, f"gets the result of {label}")
        for pos, added in summary.param_out.items():
            if pos in positions:
                self.arrive(concrete(added), target, pc, f"gets data put into an argument by {label}")
                self.taint_object(state, positions[pos], substitute(added), pc)
        for pos, keys in summary.globals_written.items():
            for key in sorted(keys):
                self.write_global(key, args.get(pos, EMPTY), pc)
        for pos, hits in summary.sinks.items():
            for hit in hits:
                self.compose_sink(args, pos, hit, pc, f"passes it to {label}")
        for flow_key, where in summary.addresses.items():
            sender = self.engine.sender_class(flow_key)
            given_address = frozenset().union(*(args.get(p, EMPTY) for p in where
                                                 if self.engine.may_be(state.get(positions.get(p, -1), NO_VAL)[1], sender)))
            self.engine.add_endpoints(flow_key, frozenset(endpoints_in(given_address)))
            upward = frozenset(params_in(given_address))
            if upward:
                self.summary.addresses[flow_key] = self.summary.addresses.get(flow_key, frozenset()) | upward
        return result

    def compose_sink(self, args: dict[int, LabelSet], pos: int, hit: SinkHit, pc: int, action: str) -> None:
        carried = args.get(pos, EMPTY)
        if not carried:
            return
        addresses = frozenset().union(*(args.get(p, EMPTY) for p in hit.address_params)) if hit.address_params else EMPTY
        steps = (FlowStep(self.signature, pc, action), *hit.steps)
        lifted = SinkHit(hit.kind, hit.call, hit.endpoints | set(endpoints_in(addresses)),
                         frozenset(params_in(addresses)), steps)
        self.reach_sink(carried, lifted, pc)

    def reach_sink(self, carried: LabelSet, hit: SinkHit, pc: int) -> list[FlowKey]:
        """Record the sink for the parameters and the flows for the data `carried`; the flows' keys."""
        for pos in params_in(carried):
            self.summary.add_sink(pos, hit)
        keys = []
        for label in data_labels(carried):
            key = self.engine.flow(label[2], self.node, hit)
            if key is not None:
                keys.append(key)
                if hit.address_params:
                    self.summary.addresses[key] = self.summary.addresses.get(key, frozenset()) | hit.address_params
        return keys

    # -- library semantics ----------------------------------------------------------------------

    def apply_spec(self, state: State, insn: Instruction, info: InvokeInfo, positions: dict[int, int]) -> LabelSet:
        spec = info.spec
        assert spec is not None
        pc = insn.pc
        result: LabelSet = EMPTY

        def at(position: str) -> LabelSet:
            return self.carried(state, self.regs_at(position, positions))

        if spec.alias:
            self.alias(state, positions, spec.alias)
        for flow in spec.flows:
            src, dst = flow.split("->")
            carried = at(src)
            if dst == "return":
                result |= carried
            else:
                for reg in self.regs_at(dst, positions):
                    self.taint_object(state, reg, carried, pc)
            if spec.feature and (data_labels(carried) or params_in(carried)):
                self.engine.feature(self.node, spec.feature)
        if spec.reads:
            result |= self.read_channel(state, spec.reads, positions, pc, at)
        if spec.columns:
            self.name_columns(state, spec.columns["name"], positions, at("receiver"))
        if spec.store:
            self.store(state, spec.store, positions, at(spec.store["value"]), pc)
        if spec.load:
            loaded = self.engine.read_store(spec.load["name"], self.const_at(state, spec.load.get("key"), positions), self.node)
            for label in data_labels(loaded):
                self.engine.arrive(label[2], self.node, self.engine.writer(label[2], ("s", spec.load["name"])), pc,
                                   f"reads it back from {spec.load['name']}")
            result |= loaded
        if spec.mark:
            result |= {("m", spec.mark)}
        temps: dict[str, LabelSet] = {}
        if spec.calls:
            result |= self.callbacks(state, insn, info, positions, temps)
        if spec.sink:
            self.library_sink(state, spec.sink, info, positions, pc, temps)
        passed = self.carried(state, positions.values())
        if spec.lost and data_labels(passed):
            self.engine.lost(self.node, pc, f"data passed to {info.label} ({spec.lost}): not followed further", passed)
        return result

    def alias(self, state: State, positions: dict[int, int], position: str) -> None:
        """The receiver becomes the object at `position` (a stream wrapping another): what is later
        written into either is in both."""
        receiver, inner = self.regs_at("receiver", positions), self.regs_at(position, positions)
        if not receiver or not inner:
            return
        outer_val, inner_val = state.get(receiver[0], NO_VAL), state.get(inner[0], NO_VAL)
        ident = inner_val[3] or ("alias", receiver[0], id(inner_val))
        state[inner[0]] = (inner_val[0], inner_val[1], inner_val[2], ident)
        for key, val in list(state.items()):
            if key == receiver[0] or (outer_val[3] is not None and val[3] == outer_val[3]):
                state[key] = (val[0] | inner_val[0], val[1], val[2], ident)

    @staticmethod
    def regs_at(position: str, positions: dict[int, int]) -> list[int]:
        if position == "receiver":
            return [positions[0]] if 0 in positions else []
        if position == "args":
            return [reg for pos, reg in sorted(positions.items()) if pos]
        if position.startswith("arg"):
            reg = positions.get(int(position[3:]))
            return [] if reg is None else [reg]
        return []

    def const_at(self, state: State, position: str | None, positions: dict[int, int]) -> str | None:
        if position is None:
            return None
        regs = self.regs_at(position, positions)
        value = state.get(regs[0], NO_VAL)[2] if regs else None
        return value if isinstance(value, str) else None

    def read_channel(self, state: State, reads: dict[str, str], positions: dict[int, int], pc: int,
                     at: Any) -> LabelSet:
        """A query: the channel URI it is given becomes the channel's rows."""
        rows = frozenset(("d", label[1], label[2]) for label in at(reads["uri"]) if label[0] == "u")
        if not rows:
            return EMPTY
        self.arrive(rows, None, pc, "queries " + ", ".join(sorted({str(r[1]) for r in rows})))
        columns = reads.get("columns")
        if columns:
            regs = self.regs_at(columns, positions)
            names = state.get(regs[0], NO_VAL)[2] if regs else None
            if isinstance(names, tuple):
                for label in rows:
                    self.engine.taken(str(label[1]), self.node, names)
        if reads["to"] == "return":
            return rows
        for reg in self.regs_at(reads["to"], positions):
            self.taint_object(state, reg, rows, pc)
        return EMPTY

    def name_columns(self, state: State, position: str, positions: dict[int, int], cursor: LabelSet) -> None:
        regs = self.regs_at(position, positions)
        name = state.get(regs[0], NO_VAL)[2] if regs else None
        if isinstance(name, str):
            for label in data_labels(cursor):
                self.engine.taken(label[1], self.node, (name,))

    def store(self, state: State, store: dict[str, str], positions: dict[int, int], value: LabelSet, pc: int) -> None:
        key = self.const_at(state, store.get("key"), positions) or "*"
        self.write_global(("s", store["name"], key), value, pc)

    def callbacks(self, state: State, insn: Instruction, info: InvokeInfo, positions: dict[int, int],
                  temps: dict[str, LabelSet]) -> LabelSet:
        """Library code calling app code back (Rx, AsyncTask, LiveData...): call it here, in its place.
        `temps` receives the results kept by name (`result: $name`), for later calls and the sink."""
        assert info.spec is not None
        result: LabelSet = EMPTY
        for cb in info.spec.calls:
            regs = self.regs_at(cb.target, positions)
            if not regs:
                continue
            target_val = state.get(regs[0], NO_VAL)
            targets = self.engine.callback_targets(target_val[1], info.param_type(cb.target), info.cls, cb.method, cb.types)
            given: dict[int, LabelSet] = {0: target_val[0]}
            for n, src in enumerate(cb.args, start=1):
                given[n] = temps.get(src, EMPTY) if src.startswith("$") else \
                    self.carried(state, self.regs_at(src, positions))
            produced: LabelSet = EMPTY
            exposed = cb.method == ANY_METHOD
            for target in targets:
                returned = self.call(state, insn.pc, target, {}, self.engine.program.signature(target).split("(")[0], given, exposed)
                if exposed:
                    self.engine.unreturned(target, returned, self.node, insn.pc, info.label)
                produced |= returned
            if cb.result == "return":
                result |= produced
            elif cb.result:
                temps[cb.result] = temps.get(cb.result, EMPTY) | produced
        return result

    def library_sink(self, state: State, sink: dict[str, Any], info: InvokeInfo, positions: dict[int, int], pc: int,
                     temps: dict[str, LabelSet]) -> None:
        sent_positions = sink.get("args", ["args"])
        carried = self.carried(state, (r for p in sent_positions for r in self.regs_at(p, positions)))
        carried |= frozenset().union(*(temps.get(p, EMPTY) for p in sent_positions))
        if not carried:
            return
        kinds = [sink["kind"]]
        receiver = self.carried(state, self.regs_at("receiver", positions))
        if sink["kind"] == "marked":
            kinds = marks_in(receiver)
        address_regs = [r for p in sink.get("address", sent_positions) for r in self.regs_at(p, positions)]
        address = self.carried(state, address_regs)
        for kind in kinds:
            hit = SinkHit(kind, info.label, frozenset(endpoints_in(address)), frozenset(params_in(address)),
                          (FlowStep(self.signature, pc, f"sends it with {info.label} ({kind})"),))
            keys = self.reach_sink(carried, hit, pc)
            for reg in address_regs:
                ident = state.get(reg, NO_VAL)[3]
                if ident is not None and keys:
                    self.addressed.setdefault(ident, []).extend(keys)

    def retrofit_call(self, state: State, insn: Instruction, info: InvokeInfo, positions: dict[int, int]) -> None:
        """A call of a Retrofit interface method: every argument becomes part of the HTTP request."""
        carried = self.carried(state, (r for p, r in positions.items() if p))
        receiver = self.labels(state, positions[0]) if 0 in positions else EMPTY
        method, path = info.retrofit or ("", "")
        bases = endpoints_in(receiver) or [""]
        endpoints = frozenset(_join_url(base, path) for base in bases)
        interface_method = f"{info.label}({''.join(info.params)}){info.returns}"
        hit = SinkHit("network", f"{info.label} (Retrofit @{method})", endpoints, frozenset(params_in(receiver)),
                      (FlowStep(self.signature, insn.pc, f"passes it to {info.label}"),
                       FlowStep(interface_method, 0, f"Retrofit sends it: @{method} {path}".rstrip())))
        self.reach_sink(carried, hit, insn.pc)


def _carries_data(args: dict[int, LabelSet]) -> bool:
    """Whether a call passes channel data, a channel URI, a destination (URL constant), or a parameter
    (other than `this`) that may carry one."""
    for pos, labels in args.items():
        for label in labels:
            if label[0] in ("d", "u", "s") or (label[0] == "p" and label[1] != 0 and pos != 0):
                return True
    return False


def _join_url(base: str, path: str) -> str:
    if not base or "://" in path:
        return path or base
    return base.rstrip("/") + "/" + path.lstrip("/")
