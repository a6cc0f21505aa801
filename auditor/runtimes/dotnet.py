""".NET assemblies of Xamarin.Android / .NET for Android (MAUI) apps, read with dnfile.

dnfile (Mandiant's .NET metadata parser, built on pefile) reads the type and member reference
tables, which name every external API an assembly calls: Xamarin.Essentials.Contacts.GetAllAsync,
Android.Provider.ContactsContract, HttpClient.PostAsync. Assemblies come as plain files under
assemblies/, LZ4-compressed with an XALZ header (decompressed with the lz4 package), or packed in
assemblies/assemblies.blob (the XABA assembly store, whose 20-byte header and 24-byte entry table
are read here: no Python package reads that store format).

Method bodies (IL) are not followed: an app assembly that references a read and a network call is
an upload candidate (`sink_nearby`), not a proven flow.
"""

from __future__ import annotations

import posixpath
import struct
from collections.abc import Iterator
from typing import Any

from auditor.model import ChannelEvidence, Evidence, Origin
from auditor.records import record
from auditor.ruleset.ruleset import RuntimeApiEntry

XALZ = b"XALZ"
XABA = b"XABA"
STORE_HEADER = struct.Struct("<4sIIII")
STORE_ENTRY = struct.Struct("<6I")
LIBRARY_PREFIXES = ("System.", "Microsoft.", "Mono.", "Xamarin.", "Java.Interop", "mscorlib", "netstandard", "_Microsoft.")
"""Framework and library assemblies: Xamarin.Essentials.dll itself refers to ContactsContract to
implement Contacts.GetAllAsync, so only the app's own assemblies count as callers."""


class AssemblyError(ValueError):
    """An assembly or assembly store that cannot be read."""


@record
class Assembly:
    name: str
    data: bytes


@record
class DotnetResult:
    evidence: tuple[ChannelEvidence, ...]
    summary: str


def decompress(data: bytes, max_bytes: int) -> bytes:
    """The assembly inside an XALZ (LZ4 block) wrapper; other data is returned as is."""
    if not data.startswith(XALZ):
        return data
    if len(data) < 12:
        raise AssemblyError("XALZ header cut short")
    size = struct.unpack_from("<I", data, 8)[0]
    if size > max_bytes:
        raise AssemblyError(f"XALZ assembly unpacks to {size} bytes, over the limit")
    import lz4.block

    try:
        return bytes(lz4.block.decompress(data[12:], uncompressed_size=size))
    except lz4.block.LZ4BlockError as exc:
        raise AssemblyError(f"XALZ data does not decompress ({exc})") from exc


def store_names(manifest: bytes) -> list[str]:
    """Assembly names of a store, in its order, from assemblies/assemblies.manifest (a text table
    whose last column is the name); empty when there is none."""
    rows = [line.split() for line in manifest.decode("utf-8", "replace").splitlines()[1:]]
    return [row[-1] for row in rows if row]


def store_assemblies(name: str, data: bytes, max_bytes: int, names: list[str] | None = None) -> Iterator[Assembly]:
    """Assemblies of an XABA assembly store (assemblies.blob, format version 1); library assemblies
    named in `names` (from assemblies.manifest) are skipped without being decompressed or parsed."""
    if len(data) < STORE_HEADER.size or not data.startswith(XABA):
        raise AssemblyError(f"{name}: not an XABA assembly store")
    _magic, _version, local_count, _global_count, _store_id = STORE_HEADER.unpack_from(data, 0)
    if STORE_HEADER.size + local_count * STORE_ENTRY.size > len(data):
        raise AssemblyError(f"{name}: entry table runs past the end")
    for index in range(local_count):
        offset, size, *_rest = STORE_ENTRY.unpack_from(data, STORE_HEADER.size + index * STORE_ENTRY.size)
        label = names[index] if names and index < len(names) else f"{name}#{index}"
        if offset + size > len(data) or size == 0 or is_library(label):
            continue
        yield Assembly(label, decompress(data[offset:offset + size], max_bytes))


@record
class References:
    """What one assembly is and the external types and members it refers to."""

    assembly: str
    types: frozenset[str]
    members: frozenset[str]


def references(assembly: Assembly) -> References:
    """Type references as 'Namespace.Type' (nested: 'Namespace.Outer/Inner') and member
    references as 'Type::Member', with the assembly's own name."""
    import dnfile

    try:
        pe = dnfile.dnPE(data=assembly.data)  # type: ignore[no-untyped-call]
    except Exception as exc:  # pefile/dnfile raise many types on damaged input
        raise AssemblyError(f"{assembly.name}: not a .NET assembly ({type(exc).__name__})") from exc
    # no pe.close(): it runs gc.collect() (0.15 s an assembly); the bytes are ours and are simply dropped
    tables = pe.net.mdtables if pe.net is not None else None
    if tables is None:
        raise AssemblyError(f"{assembly.name}: no .NET metadata")
    own = str(tables.Assembly.rows[0].Name) if tables.Assembly and tables.Assembly.rows else posixpath.basename(assembly.name)
    type_rows = list(tables.TypeRef.rows) if tables.TypeRef else []
    names = [_type_name(row, type_rows) for row in type_rows]
    members = set()
    for row in tables.MemberRef.rows if tables.MemberRef else []:
        parent = row.Class
        if parent is not None and parent.table is not None and parent.table.name == "TypeRef" and 0 < parent.row_index <= len(names):
            members.add(f"{names[parent.row_index - 1]}::{row.Name}")
    return References(own, frozenset(names), frozenset(members))


def _type_name(row: Any, rows: list[Any], depth: int = 0) -> str:
    name = f"{row.TypeNamespace}.{row.TypeName}" if row.TypeNamespace else str(row.TypeName)
    scope = row.ResolutionScope
    if depth < 8 and scope is not None and scope.table is not None and scope.table.name == "TypeRef" \
            and 0 < scope.row_index <= len(rows):
        return f"{_type_name(rows[scope.row_index - 1], rows, depth + 1)}/{row.TypeName}"
    return name


def is_library(assembly_name: str) -> bool:
    """A framework or library assembly, by its name or its file's name (assemblies/Mono.Android.dll)."""
    return posixpath.basename(assembly_name).startswith(LIBRARY_PREFIXES)


def _matches(pattern: str, refs: References) -> bool:
    return pattern in refs.members if "::" in pattern else pattern in refs.types


def analyse(assemblies: list[References], unreadable: list[str], apis: tuple[RuntimeApiEntry, ...]) -> DotnetResult:
    """Reads (api) and read-plus-network assemblies (sink_nearby) among the app's own assemblies."""
    out: list[ChannelEvidence] = []
    own = [a for a in assemblies if not is_library(a.assembly)]
    for refs in own:
        sinks = [p for e in apis if e.role == "sink" for p in e.dotnet if _matches(p, refs)]
        for entry in apis:
            if entry.role == "sink" or entry.channel is None:
                continue
            hits = [p for p in entry.dotnet if _matches(p, refs)]
            if not hits:
                continue
            kind = "picker" if entry.role == "picker" else "api"
            out.append(ChannelEvidence(entry.channel, Evidence(
                kind, f"{hits[0]} ({entry.plugin})", refs.assembly, origin=Origin("app"), dex=refs.assembly,
                detail=".NET assembly member reference")))
            if sinks and entry.role == "source":
                out.append(ChannelEvidence(entry.channel, Evidence(
                    "sink_nearby", f"{entry.channel} read and {sinks[0]} in assembly {refs.assembly}", refs.assembly,
                    origin=Origin("app"), dex=refs.assembly,
                    detail="upload candidate, not proven: the assembly refers to both, and IL method bodies are not followed")))
    summary = (f"{len(own)} of the app's own .NET assemblies read (framework and library assemblies skipped), "
               "type and member references only; IL method bodies are not followed")
    if unreadable:
        summary += f"; unreadable: {', '.join(unreadable[:3])}"
    return DotnetResult(tuple(out), summary)
