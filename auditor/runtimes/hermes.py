"""Hermes bytecode (React Native's default engine), read with hermes-dec.

hermes-dec is the maintained Python parser of the Hermes bytecode format (versions 51 to 99):
it reads the header, function table and string table, and decodes each function's instructions.
Compiled JavaScript keeps the names of the properties it calls (getAll, fetch...) as string
operands, so a function that names a plugin read and a network call (itself or in the closures it
creates) is an upload candidate. The bytecode is not executed or decompiled, so the evidence says
plainly that the flow is not proven.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from io import BytesIO
from typing import Any

from auditor.model import ChannelEvidence, Evidence, Origin
from auditor.records import record
from auditor.ruleset.ruleset import RuntimeApiEntry

MAGIC = bytes.fromhex("c61fbc03c103191f")
"""The Hermes bytecode file magic ('Ἑρμῆ' in UTF-16BE, little-endian on disk)."""
MAX_FUNCTIONS = 50_000
"""Functions decoded per bundle at most: large apps have tens of thousands, each a Python loop."""
MAX_EVIDENCE = 20


def is_hermes(head: bytes) -> bool:
    return head.startswith(MAGIC)


@record
class HermesResult:
    evidence: tuple[ChannelEvidence, ...]
    called_plugins: frozenset[str]
    summary: str


@record
class FunctionNames:
    """The strings one function uses, with those of the anonymous closures (callbacks) it creates."""

    name: str
    strings: frozenset[str]


def analyse(name: str, data: bytes, apis: tuple[RuntimeApiEntry, ...]) -> HermesResult:
    """Plugin reads and network calls per function of a Hermes bundle; never raises."""
    try:
        functions, version, total = _functions(data)
    except Exception as exc:  # hermes-dec raises many types on data it cannot read
        return HermesResult((), frozenset(), f"Hermes bytecode could not be read ({type(exc).__name__})")
    reads = [e for e in apis if e.role == "source" and e.js]
    sinks = [e for e in apis if e.role == "sink" and (e.js or e.js_new)]
    out: list[ChannelEvidence] = []
    called: set[str] = set()
    for function in functions:
        for entry in reads:
            hit = next((p for p in entry.js if _named(p, function.strings)), None)
            if hit is None or entry.channel is None:
                continue
            called.add(entry.plugin or entry.id)
            where = f"{name} (Hermes function {function.name})"
            if len(out) < MAX_EVIDENCE:
                out.append(ChannelEvidence(entry.channel, Evidence(
                    "api", f"{hit}() ({entry.plugin})", where, origin=Origin("app"), dex=name,
                    detail="Hermes bytecode: the function names the plugin's method")))
            sink = next((s for s in sinks if any(_named(p, function.strings) for p in (*s.js, *s.js_new))), None)
            if sink is not None and len(out) < MAX_EVIDENCE:
                urls = tuple(sorted(s for s in function.strings if s.startswith(("http://", "https://", "ws://", "wss://"))))[:3]
                out.append(ChannelEvidence(entry.channel, Evidence(
                    "sink_nearby", f"{entry.channel} read and {', '.join((*sink.js, *sink.js_new))} in one function",
                    where, origin=Origin("app"), dex=name, endpoints=urls,
                    detail="upload candidate, not proven: Hermes bytecode names the plugin read and a network call "
                           "in the same function, but the data flow between them was not followed")))
    cut = f" (first {MAX_FUNCTIONS} of {total} functions)" if total > len(functions) else ""
    summary = f"Hermes bytecode v{version}: string table and {len(functions)} functions read{cut}; no data flow is proven"
    return HermesResult(tuple(out), frozenset(called), summary)


def _named(pattern: str, strings: frozenset[str]) -> bool:
    """'contacts.find' is named when every part of the chain is a string the function uses."""
    return all(part in strings for part in pattern.split("."))


def _functions(data: bytes) -> tuple[list[FunctionNames], int, int]:
    from hermes_dec.parsers.hbc_bytecode_parser import parse_hbc_bytecode
    from hermes_dec.parsers.hbc_file_parser import HBCReader
    from hermes_dec.parsers.hbc_opcodes.def_classes import OperandMeaning

    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # hermes-dec warns about bytecode versions it has not seen
    try:
        reader = HBCReader()
        reader.read_whole_file(BytesIO(data))
        headers = reader.function_headers[:MAX_FUNCTIONS]
        own: list[set[str]] = []
        closures: list[set[int]] = []
        for header in headers:
            strings, created = _operands(parse_hbc_bytecode(header, reader), reader, OperandMeaning)
            own.append(strings)
            closures.append(created)
    finally:
        logging.disable(previous)
    functions = []
    for index, header in enumerate(headers):
        names = set(own[index])
        for child in closures[index]:  # callbacks (anonymous closures), not the named functions a scope declares
            if child < len(own) and not reader.strings[headers[child].functionName]:
                names |= own[child]
        functions.append(FunctionNames(reader.strings[header.functionName] or f"#{index}", frozenset(names)))
    return functions, int(reader.header.version), len(reader.function_headers)


def _operands(instructions: Iterator[Any], reader: Any, meaning: Any) -> tuple[set[str], set[int]]:
    strings: set[str] = set()
    created: set[int] = set()
    for insn in instructions:
        for index, operand in enumerate(insn.inst.operands):
            if operand.operand_meaning == meaning.string_id:
                strings.add(reader.strings[getattr(insn, f"arg{index + 1}")])
            elif operand.operand_meaning == meaning.function_id:
                created.add(getattr(insn, f"arg{index + 1}"))
    return strings, created
