"""Method annotations of a class, read from its annotations_directory_item.

Retrofit turns an interface method into an HTTP request from its annotations (@POST("v1/contacts")),
so the sink and its path live in annotations, not in code. Only what that needs is decoded: the
annotation's type and its string or string-array elements. Layout:
https://source.android.com/docs/core/runtime/dex-format#annotations-directory
"""

from __future__ import annotations

import struct

from auditor.dex.reader import DexFile, DexFormatError
from auditor.dex.reader import _uleb as _uleb
from auditor.records import record

VALUE_STRING = 0x17
VALUE_ARRAY = 0x1C
VALUE_ANNOTATION = 0x1D
VALUE_NULL = 0x1E
VALUE_BOOLEAN = 0x1F
MAX_ITEMS = 4096
"""Bound on any count read from the file (annotations, elements), so a forged size cannot stall a scan."""


@record
class Annotation:
    type: str
    strings: tuple[str, ...]
    """Every string element value, in order (e.g. the path of @POST("v1/contacts"))."""


class _ValueReader:
    def __init__(self, dex: DexFile) -> None:
        self.dex = dex
        self.data = dex.data

    def annotation(self, pos: int, strings: list[str], depth: int = 0) -> tuple[str, int]:
        type_idx, pos = _uleb(self.data, pos)
        size, pos = _uleb(self.data, pos)
        for _ in range(min(size, MAX_ITEMS)):
            _name, pos = _uleb(self.data, pos)
            pos = self.value(pos, strings, depth + 1)
        return self.dex.type_name(type_idx), pos

    def value(self, pos: int, strings: list[str], depth: int) -> int:
        head = self.data[pos]
        pos += 1
        kind, arg = head & 0x1F, head >> 5
        if kind == VALUE_ARRAY and depth < 8:
            size, pos = _uleb(self.data, pos)
            for _ in range(min(size, MAX_ITEMS)):
                pos = self.value(pos, strings, depth + 1)
            return pos
        if kind == VALUE_ANNOTATION and depth < 8:
            return self.annotation(pos, [], depth)[1]
        if kind in (VALUE_NULL, VALUE_BOOLEAN):
            return pos
        if kind == VALUE_STRING:
            raw = self.data[pos:pos + arg + 1]
            strings.append(self.dex.string(int.from_bytes(raw, "little")))
        return pos + arg + 1


def method_annotations(dex: DexFile, annotations_off: int) -> dict[int, tuple[Annotation, ...]]:
    """Annotations of each annotated method (by method id) of one class's directory item."""
    data = dex.data
    if not annotations_off or annotations_off + 16 > len(data):
        return {}
    reader = _ValueReader(dex)
    out: dict[int, tuple[Annotation, ...]] = {}
    try:
        _class_off, fields_size, methods_size, _params = struct.unpack_from("<4I", data, annotations_off)
        pos = annotations_off + 16 + 8 * min(fields_size, MAX_ITEMS)
        for i in range(min(methods_size, MAX_ITEMS)):
            method_idx, set_off = struct.unpack_from("<II", data, pos + 8 * i)
            out[method_idx] = _annotation_set(reader, set_off)
    except (IndexError, struct.error, DexFormatError):
        return out
    return out


def _annotation_set(reader: _ValueReader, set_off: int) -> tuple[Annotation, ...]:
    data = reader.data
    (size,) = struct.unpack_from("<I", data, set_off)
    found = []
    for i in range(min(size, MAX_ITEMS)):
        (item_off,) = struct.unpack_from("<I", data, set_off + 4 + 4 * i)
        strings: list[str] = []
        type_name, _ = reader.annotation(item_off + 1, strings)  # skip the visibility byte
        found.append(Annotation(type_name, tuple(strings)))
    return tuple(found)
