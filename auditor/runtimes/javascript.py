"""JavaScript code (React Native plain bundles, Cordova `www/`, Capacitor `public/`), parsed with tree-sitter.

tree-sitter with its JavaScript grammar is the maintained incremental parser behind GitHub's code
navigation; it tolerates minified and partly broken code, which bundles often are. The analysis
is deliberately small and local:
- a call whose member chain ends like a catalogued plugin method (navigator.contacts.find) is a read;
- a call of fetch/axios/$.ajax, or send() on an XMLHttpRequest or WebSocket, is a sink;
- within the function that holds the read (including the callbacks it creates), names bound to
  the read's result (await, then-callbacks, callback parameters, and variables assigned from
  them) are followed; a sink whose arguments use one of them is a `flow`, any other sink in that
  function is only `sink_nearby`.
Nothing is executed; imports are not resolved (a Metro bundle's modules are numbered), so a read
is recognised by its method name, and only when the plugin that offers it is bundled.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from auditor.model import ChannelEvidence, Evidence, FlowStep, Origin
from auditor.records import record
from auditor.ruleset.ruleset import RuntimeApiEntry

FUNCTION_TYPES = frozenset({"function_declaration", "function_expression", "arrow_function", "method_definition",
                            "generator_function_declaration", "generator_function", "function"})
MAX_TAINT_PASSES = 6
MAX_EVIDENCE = 20
"""Reads and sinks reported per script, so that a huge bundle cannot flood the report."""


@record
class Script:
    """One JavaScript file of the app: its entry name and bytes."""

    name: str
    data: bytes


@record
class Call:
    """A catalogued call found in a script."""

    entry: RuntimeApiEntry
    node: Any
    callee: str


@record(frozen=False)
class ScriptResult:
    """What one script shows: channel evidence and the plugins it calls."""

    evidence: list[ChannelEvidence]
    called_plugins: set[str]


@cache
def _parser() -> Any:
    import tree_sitter_javascript
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_javascript.language()))


@cache
def _query(names: tuple[str, ...], constructors: tuple[str, ...]) -> Any:
    import tree_sitter_javascript
    from tree_sitter import Language, Query

    quoted = " ".join(f'"{n}"' for n in names)
    built = " ".join(f'"{n}"' for n in constructors) or '"-"'
    return Query(Language(tree_sitter_javascript.language()), f"""
((call_expression function: [(identifier) @name (member_expression property: (property_identifier) @name)]) @call
 (#any-of? @name {quoted}))
((new_expression constructor: (identifier) @name) @new (#any-of? @name {built}))
""")


def _text(node: Any) -> str:
    return bytes(node.text).decode("utf-8", "replace")


def _last(pattern: str) -> str:
    return pattern.rsplit(".", 1)[-1]


def _callee_matches(callee: str, pattern: str) -> bool:
    """`pattern` is the end of the member chain: 'contacts.find' matches 'window.navigator.contacts.find'."""
    compact = "".join(callee.split())
    return compact == pattern or compact.endswith("." + pattern)


def mentions(data: bytes, apis: tuple[RuntimeApiEntry, ...]) -> bool:
    """A cheap byte test before parsing: does the script name any catalogued read at all?"""
    return any(_last(p).encode() in data for e in apis if e.role in ("source", "picker") for p in e.js)


class ScriptAnalysis:
    """Reads, sinks and the flows between them in one parsed script."""

    def __init__(self, script: Script, apis: tuple[RuntimeApiEntry, ...]) -> None:
        self.script = script
        self.apis = apis
        self.tree = _parser().parse(script.data)
        self.calls: list[Call] = []
        self.xhr_names: dict[str, Any] = {}  # variable -> its new XMLHttpRequest / WebSocket expression
        self._collect()

    def _collect(self) -> None:
        names = tuple(sorted({_last(p) for e in self.apis for p in e.js} | {"send"}))
        constructors = tuple(sorted({c for e in self.apis for c in e.js_new}))
        from tree_sitter import QueryCursor

        for _index, captures in QueryCursor(_query(names, constructors)).matches(self.tree.root_node):
            if "new" in captures:
                self._note_constructed(captures["new"][0], _text(captures["name"][0]))
                continue
            node = captures["call"][0]
            callee = _text(node.child_by_field_name("function"))
            for entry in self.apis:
                if any(_callee_matches(callee, p) for p in entry.js):
                    self.calls.append(Call(entry, node, callee))
                    break
        for node, entry in self._constructed_sends():
            self.calls.append(Call(entry, node, _text(node.child_by_field_name("function"))))

    def _note_constructed(self, node: Any, constructor: str) -> None:
        parent = node.parent
        if parent is not None and parent.type == "variable_declarator":
            target = parent.child_by_field_name("name")
        elif parent is not None and parent.type == "assignment_expression":
            target = parent.child_by_field_name("left")
        else:
            return
        if target is not None:
            self.xhr_names[_text(target)] = (node, constructor)

    def _constructed_sends(self) -> Iterator[tuple[Any, RuntimeApiEntry]]:
        """x.send(...) where x holds a new XMLHttpRequest or WebSocket."""
        by_constructor = {c: e for e in self.apis for c in e.js_new}
        for node in _descendants(self.tree.root_node, "call_expression"):
            function = node.child_by_field_name("function")
            if function is None or function.type != "member_expression":
                continue
            prop = function.child_by_field_name("property")
            obj = function.child_by_field_name("object")
            if prop is None or obj is None or _text(prop) != "send":
                continue
            held = self.xhr_names.get(_text(obj))
            if held is not None and held[1] in by_constructor:
                yield node, by_constructor[held[1]]

    # -- results ----------------------------------------------------------------------------------

    def result(self) -> ScriptResult:
        reads = [c for c in self.calls if c.entry.role in ("source", "picker")]
        sinks = [c for c in self.calls if c.entry.role == "sink"]
        out: list[ChannelEvidence] = []
        called = {c.entry.plugin for c in reads if c.entry.plugin}
        for read in reads[:MAX_EVIDENCE]:
            assert read.entry.channel is not None
            where = self.where(read.node)
            kind = "picker" if read.entry.role == "picker" else "api"
            out.append(ChannelEvidence(read.entry.channel, Evidence(
                kind, f"{read.callee}() ({read.entry.plugin})", where, origin=Origin("app"), dex=self.script.name,
                detail="JavaScript plugin call")))
            if read.entry.role == "source":
                out += self._sinks_for(read, sinks)
        return ScriptResult(out, called)

    def _sinks_for(self, read: Call, sinks: list[Call]) -> list[ChannelEvidence]:
        scope = _enclosing_function(read.node) or self.tree.root_node
        in_scope = [s for s in sinks if _contains(scope, s.node)]
        if not in_scope:
            return []
        tainted = self._tainted(read, scope)
        channel = read.entry.channel
        assert channel is not None
        out = []
        for sink in in_scope[:MAX_EVIDENCE]:
            endpoint = self.endpoint(sink)
            endpoints = (endpoint,) if endpoint else ()
            # offset: the call's byte offset in the script (the method names file and line)
            steps = (FlowStep(self.where(read.node), read.node.start_byte, f"read by {read.callee}()"),
                     FlowStep(self.where(sink.node), sink.node.start_byte, f"sent by {sink.callee}()"))
            if _uses(sink.node, tainted):
                out.append(ChannelEvidence(channel, Evidence(
                    "flow", f"{channel} -> network: {sink.callee}()", self.where(read.node), origin=Origin("app"),
                    dex=self.script.name, steps=steps, entry_point=self.where(scope), endpoints=endpoints,
                    detail="JavaScript: the value the plugin returns is passed to the network call")))
            else:
                out.append(ChannelEvidence(channel, Evidence(
                    "sink_nearby", f"{channel} read and {sink.callee}() in one function", self.where(read.node),
                    origin=Origin("app"), dex=self.script.name, steps=steps, endpoints=endpoints,
                    detail="JavaScript: not proven that the data read is what is sent")))
        return out

    def _tainted(self, read: Call, scope: Any) -> set[str]:
        """Names in `scope` that hold what the read returns."""
        names: set[str] = set()
        for arg in _arguments(read.node):
            if arg.type in FUNCTION_TYPES:
                names |= _params(arg)
        node = read.node
        while node.parent is not None and node.parent.type in ("await_expression", "parenthesized_expression"):
            node = node.parent
        holder = node.parent
        if holder is not None and holder.type == "variable_declarator":
            names.add(_text(holder.child_by_field_name("name")))
        elif holder is not None and holder.type == "assignment_expression":
            names.add(_text(holder.child_by_field_name("left")))
        elif holder is not None and holder.type == "member_expression":  # read().then(cb)
            call = holder.parent
            if call is not None and call.type == "call_expression":
                for arg in _arguments(call):
                    if arg.type in FUNCTION_TYPES:
                        names |= _params(arg)
        return _propagate(scope, names)

    def endpoint(self, sink: Call) -> str | None:
        """The URL a sink sends to, when it is a literal (or a variable holding one) in the script."""
        if sink.entry.js_new:
            obj = sink.node.child_by_field_name("function").child_by_field_name("object")
            held = self.xhr_names.get(_text(obj)) if obj is not None else None
            if held is None:
                return None
            if held[1] == "WebSocket":
                return self._literal(next(iter(_arguments(held[0])), None))
            return self._xhr_open_url(_text(obj))
        first = next(iter(_arguments(sink.node)), None)
        if first is not None and first.type == "object":
            for pair in _descendants(first, "pair"):
                key = pair.child_by_field_name("key")
                if key is not None and _text(key).strip("'\"") == "url":
                    return self._literal(pair.child_by_field_name("value"))
            return None
        return self._literal(first)

    def _xhr_open_url(self, name: str) -> str | None:
        for node in _descendants(self.tree.root_node, "call_expression"):
            function = node.child_by_field_name("function")
            if function is not None and "".join(_text(function).split()) == f"{name}.open":
                args = list(_arguments(node))
                return self._literal(args[1]) if len(args) > 1 else None
        return None

    def _literal(self, node: Any) -> str | None:
        if node is None:
            return None
        if node.type in ("string", "template_string"):
            return _text(node)[1:-1] or None
        if node.type == "binary_expression":
            return self._literal(node.child_by_field_name("left"))
        if node.type == "identifier":
            name = _text(node)
            for decl in _descendants(self.tree.root_node, "variable_declarator"):
                if _text(decl.child_by_field_name("name")) == name:
                    value = decl.child_by_field_name("value")
                    if value is not None and value.type in ("string", "template_string", "binary_expression"):
                        return self._literal(value)
        return None

    def where(self, node: Any) -> str:
        """'assets/www/js/app.js:12 (function syncContacts)'."""
        function = node if node.type in FUNCTION_TYPES else _enclosing_function(node)
        name = _function_name(function) if function is not None else "top level"
        return f"{self.script.name}:{node.start_point[0] + 1} ({name})"


def _descendants(root: Any, node_type: str) -> Iterator[Any]:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == node_type:
            yield node
        stack.extend(reversed(node.children))


def _arguments(call: Any) -> Iterator[Any]:
    args = call.child_by_field_name("arguments")
    if args is None:
        return iter(())
    return iter(args.named_children)


def _params(function: Any) -> set[str]:
    params = function.child_by_field_name("parameters") or function.child_by_field_name("parameter")
    if params is None:
        return set()
    if params.type == "identifier":
        return {_text(params)}
    return {_text(n) for n in _descendants(params, "identifier")}


def _propagate(scope: Any, names: set[str]) -> set[str]:
    """Names assigned from expressions that use tainted names, to a fixpoint (bounded)."""
    bindings = []
    for decl in _descendants(scope, "variable_declarator"):
        bindings.append((decl.child_by_field_name("name"), decl.child_by_field_name("value")))
    for assign in _descendants(scope, "assignment_expression"):
        bindings.append((assign.child_by_field_name("left"), assign.child_by_field_name("right")))
    tainted = set(names)
    for _ in range(MAX_TAINT_PASSES):
        grown = {_text(target).split(".")[0] for target, value in bindings
                 if target is not None and value is not None and _uses(value, tainted)}
        if grown <= tainted:
            break
        tainted |= grown
    return tainted


def _uses(node: Any, names: set[str]) -> bool:
    """Whether the expression reads one of `names` (a plain or shorthand-property identifier)."""
    if not names:
        return False
    return any(_text(n) in names for kind in ("identifier", "shorthand_property_identifier") for n in _descendants(node, kind))


def _contains(outer: Any, inner: Any) -> bool:
    return bool(outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte)


def _enclosing_function(node: Any) -> Any:
    """The innermost function around a node (None at module level).

    For a read this is the function that makes the call, so it holds the callbacks the read is
    given (navigator.contacts.find(f, function (cs) {...})) and its then-callbacks.
    """
    parent = node.parent
    while parent is not None:
        if parent.type in FUNCTION_TYPES:
            return parent
        parent = parent.parent
    return None


def _function_name(function: Any) -> str:
    name = function.child_by_field_name("name")
    if name is not None:
        return f"function {_text(name)}"
    parent = function.parent
    if parent is not None and parent.type in ("variable_declarator", "pair", "assignment_expression"):
        target = parent.child_by_field_name("name") or parent.child_by_field_name("key") or parent.child_by_field_name("left")
        if target is not None:
            return f"function {_text(target)}"
    return f"anonymous function at line {function.start_point[0] + 1}"
