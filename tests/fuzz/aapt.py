"""Our binary-XML reader seen through Debian's aapt (Android 10), for differential testing.

`aapt dump xmltree` and `aapt dump permissions` are built on the platform's own parser
(libandroidfw). This module renders *our* reading (auditor/extract/axml.py) in exactly aapt's
output format, with aapt's own rules where they differ from the package parser's (aapt prints
raw strings, finds android:name by a linear resource-id search, cuts strings at NUL), and runs
the real aapt on the same bytes. Any difference in the text is a disagreement between our reader
and libandroidfw. A separate comparison (`platform_differences`) lists where aapt's *semantics*
differ from the package parser's, which is expected and explained, not a reader bug.

Sources: frameworks/base/tools/aapt/XMLNode.cpp printXMLBlock(), Command.cpp doDump()
("permissions"), AaptXml.cpp, libandroidfw ResTable::normalizeForOutput().
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from auditor.extract.axml import (
    END_NAMESPACE,
    END_TAG,
    START_NAMESPACE,
    START_TAG,
    TEXT,
    TYPE_ATTRIBUTE,
    TYPE_FIRST_INT,
    TYPE_LAST_INT,
    TYPE_NULL,
    TYPE_REFERENCE,
    TYPE_STRING,
    AxmlError,
    Document,
    Node,
)

NAME_ATTR, MAX_SDK_ATTR, REQUIRED_ATTR = 0x01010003, 0x01010271, 0x0101028E
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Dump:
    """One dump's outcome: stdout bytes and status "ok", "error" (aapt exits 1) or "crash" (aapt
    dereferences a NULL string and dies on a signal; its buffered output is then lost)."""

    out: bytes
    status: str


class _Crash(Exception):
    """aapt would dereference a NULL string here (it crashes); nothing to compare after this point."""


def have_aapt() -> bool:
    return shutil.which("aapt") is not None


def _string8(text: str | None) -> bytes:
    """String8(const char16_t*): cut at the first NUL, UTF-16 to UTF-8; libutils' utf16_to_utf8
    writes nothing for a lone surrogate (utf32_codepoint_utf8_length gives it 0 bytes)."""
    if text is None:
        raise _Crash("NULL string")
    return _LONE_SURROGATE.sub("", text.split("\0", 1)[0]).encode("utf-8")


def _normalize(raw: bytes) -> bytes:
    """ResTable::normalizeForOutput()."""
    return raw.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b'"', b'\\"')


def _native(doc: Document, index: int) -> str | None:
    return doc.strings.native(index) if index >= 0 else None


def _build_namespace(namespaces: list[tuple[bytes, bytes]], ns: str | None) -> bytes:
    if ns is None:
        return b""
    text = _string8(ns)
    for prefix, uri in namespaces:
        if uri == text:
            text = prefix
            break
    return text + b":"


def _u32(value: int) -> int:
    return value & 0xFFFFFFFF


def _attribute_line(doc: Document, attr_ns: int, attr_name: int, raw: int, kind: int, data: int, res_id: int,
                    namespaces: list[tuple[bytes, bytes]]) -> bytes:
    ns = _build_namespace(namespaces, _native(doc, attr_ns))
    name = _string8(_native(doc, attr_name))
    line = ns + name + (b"(0x%08x)" % res_id if res_id else b"")
    raw_text = _native(doc, raw)
    if kind == TYPE_NULL:
        line += b"=(null)"
    elif kind == TYPE_REFERENCE:
        line += b"=@0x%08x" % _u32(data)
    elif kind == TYPE_ATTRIBUTE:
        line += b"=?0x%08x" % _u32(data)
    elif kind == TYPE_STRING:
        line += b'="' + _normalize(_string8(raw_text)) + b'"'
    else:
        line += b"=(type 0x%x)0x%x" % (kind, _u32(data))
    if raw_text is not None:
        line += b' (Raw: "' + _normalize(_string8(raw_text)) + b'")'
    return line


def _all_attributes(doc: Document, node: Node) -> list[tuple[int, int, int, int, int, int]]:
    """Every attribute as aapt indexes it (attributeSize 0 repeats one record count times)."""
    _start, width, count = doc.layout(node)
    attrs = doc.attributes(node)
    records = list(zip(attrs.ns, attrs.name, attrs.raw, attrs.type, attrs.data, attrs.res, strict=True))
    return records * count if width == 0 and records else records


def _dump(data: bytes, printer: Callable[[Document, list[bytes]], str]) -> Dump:
    """Run one of aapt's printers over our reading: "error" where aapt refuses the tree, "crash"
    where it would dereference a NULL string."""
    try:
        doc = Document(data)
    except AxmlError:
        return Dump(b"", "error")
    out: list[bytes] = []
    try:
        status = printer(doc, out)
    except _Crash:
        return Dump(b"", "crash")
    return Dump(b"".join(out), status)


def xmltree(data: bytes) -> Dump:
    """What `aapt dump xmltree APK AndroidManifest.xml` prints for this manifest, from our reader."""
    return _dump(data, _print_block)


def _print_block(doc: Document, out: list[bytes]) -> str:
    namespaces: list[tuple[bytes, bytes]] = []
    depth = 0
    for node in doc.events():
        prefix = b"  " * depth
        first, second = doc.ext_indexes(node)
        if node.code == START_TAG:
            element_ns = _build_namespace(namespaces, _native(doc, first))
            comment = _native(doc, node.comment)
            if comment is not None:
                out.append(prefix + b" <!-- " + _string8(comment) + b" -->\n")
            name = _normalize(_string8(_native(doc, second)))
            out.append(prefix + b"E: " + element_ns + name + b" (line=%d)\n" % _signed(node.line))
            depth += 1
            for attr in _all_attributes(doc, node):
                out.append(b"  " * depth + b"A: " + _attribute_line(doc, *attr, namespaces) + b"\n")
        elif node.code == END_TAG:
            depth -= 1
            if depth < 0:
                out.append(b"***BAD DEPTH in XMLBlock: %d\n" % depth)
                return "ok"
        elif node.code == START_NAMESPACE:
            ns_prefix = _native(doc, first)
            entry = (_string8(ns_prefix) if ns_prefix is not None else b"<DEF>", _string8(_native(doc, second)))
            namespaces.append(entry)
            out.append(prefix + b"N: " + entry[0] + b"=" + entry[1] + b"\n")
            depth += 1
        elif node.code == END_NAMESPACE:
            depth -= 1
            if depth < 0:
                out.append(b"***BAD DEPTH in XMLBlock: %d\n" % depth)
                return "ok"
            if not namespaces:
                raise _Crash("END_NAMESPACE with no namespace open")
            expected_prefix, expected_uri = namespaces[-1]
            ns_prefix = _native(doc, first)
            found = _string8(ns_prefix) if ns_prefix is not None else b"<DEF>"
            inner = b"  " * depth
            if found != expected_prefix:
                out.append(inner + b"*** BAD END NS PREFIX: found=" + found + b", expected=" + expected_prefix + b"\n")
            uri = _string8(_native(doc, second))
            if uri != expected_uri:
                out.append(inner + b" *** BAD END NS URI: found=" + uri + b", expected=" + expected_uri + b"\n")
            namespaces.pop()
        elif node.code == TEXT:
            out.append(prefix + b'C: "' + _normalize(_string8(_native(doc, first))) + b'"\n')
    return "ok"


def _signed(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


def permissions(data: bytes) -> Dump:
    """What `aapt dump permissions APK` prints for this manifest, from our reader (aapt's rules:
    elements at depth 1 and 2 by name, android:name found by a linear resource-id search and read
    from the raw string, maxSdkVersion only from an integer value)."""
    return _dump(data, _permission_dump)


def _permission_dump(doc: Document, out: list[bytes]) -> str:
    depth = 0
    for node in doc.events():
        if node.code == END_TAG:
            depth -= 1
            continue
        if node.code != START_TAG:
            continue
        depth += 1
        name = _native(doc, doc.ext_indexes(node)[1])
        if name is None:
            return "error"
        tag = _string8(name)
        if depth == 1:
            if tag != b"manifest":
                return "error"
            out.append(b"package: " + _normalize(_string_attr(doc, node, None) or b"") + b"\n")
        elif depth == 2 and tag in (b"permission", b"uses-permission", b"uses-permission-sdk-23", b"uses-permission-sdk-m"):
            line = _permission_line(doc, node, tag)
            if line is None:
                return "error"
            out.append(line)
    return "ok"


def _find(doc: Document, node: Node, res_id: int) -> tuple[int, int, int] | None:
    """AaptXml::indexOfAttribute(): the first attribute with this resource id -> (raw, type, data)."""
    attrs = doc.attributes(node)
    if res_id not in attrs.res:
        return None
    attr = attrs[attrs.res.index(res_id)]
    return attr.raw, attr.type, attr.data


def _string_attr(doc: Document, node: Node, res_id: int | None) -> bytes | None:
    """AaptXml::getAttribute(): the raw string of a TYPE_STRING value ('' if absent, None on error)."""
    if res_id is None:
        attr = doc.index_of(node, None, "package")
        found = (attr.raw, attr.type, attr.data) if attr is not None else None
    else:
        found = _find(doc, node, res_id)
    if found is None:
        return b""
    raw, kind, _data = found
    if kind != TYPE_STRING:
        return None
    text = _native(doc, raw)
    return _string8(text) if text is not None else b""


def _int_attr(doc: Document, node: Node, res_id: int, default: int) -> int:
    found = _find(doc, node, res_id)
    if found is None or not TYPE_FIRST_INT <= found[1] <= TYPE_LAST_INT:
        return default
    return _signed(found[2])


def _permission_line(doc: Document, node: Node, tag: bytes) -> bytes | None:
    name = _string_attr(doc, node, NAME_ATTR)
    if not name:
        return None
    shown = _normalize(name)
    if tag == b"permission":
        return b"permission: " + shown + b"\n"
    max_sdk = _int_attr(doc, node, MAX_SDK_ATTR, -1)
    suffix = b" maxSdkVersion='%d'" % max_sdk if max_sdk != -1 else b""
    if tag == b"uses-permission":
        line = b"uses-permission: name='" + shown + b"'" + suffix + b"\n"
        if _int_attr(doc, node, REQUIRED_ATTR, 1) == 0:
            line += b"optional-permission: name='" + shown + b"'" + suffix + b"\n"
        return line
    return b"uses-permission-sdk-23: name='" + shown + b"'" + suffix + b"\n"


def apk_with_manifest(manifest: bytes) -> bytes:
    """A zip holding only AndroidManifest.xml (aapt needs no more to dump it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("AndroidManifest.xml", manifest)
    return buffer.getvalue()


def run_aapt(manifest: bytes, workdir: Path | None = None) -> tuple[Dump, Dump]:
    """The real aapt's (xmltree, permissions) dumps of a manifest."""
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        path = Path(folder) / "m.apk"
        path.write_bytes(apk_with_manifest(manifest))
        return _aapt(["dump", "xmltree", str(path), "AndroidManifest.xml"]), _aapt(["dump", "permissions", str(path)])


def _aapt(args: list[str]) -> Dump:
    try:
        done = subprocess.run(["aapt", *args], capture_output=True, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        return Dump(b"", "timeout")
    status = "ok" if done.returncode == 0 else "crash" if done.returncode < 0 else "error"
    return Dump(b"" if status == "crash" else done.stdout, status)


def compare(ours: Dump, theirs: Dump) -> str | None:
    """None when the dumps agree, else a one-line description of the first difference."""
    if ours.status != theirs.status:
        return f"outcome differs: ours {ours.status}, aapt {theirs.status}"
    if ours.out != theirs.out:
        a, b = ours.out.splitlines(), theirs.out.splitlines()
        for index, (mine, real) in enumerate(zip(a, b, strict=False)):
            if mine != real:
                return f"line {index + 1}: ours {mine[:120]!r} aapt {real[:120]!r}"
        return f"ours {len(a)} lines, aapt {len(b)} lines"
    return None
