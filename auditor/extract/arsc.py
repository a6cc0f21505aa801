"""Resolve one resource id in resources.arsc without parsing the whole table.

The app label is usually a reference such as @7F0B001F. androguard's ARSCParser decodes every
entry of every type and configuration first, which takes seconds and hundreds of MB on large
tables (framework-res.apk: 45 MB). This reader walks the chunk headers to the one package and
type that hold the id, reads the entry in the default configuration (or the first that has it),
and decodes the single string it points to.

Format: frameworks/base/libs/androidfw/include/androidfw/ResourceTypes.h
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any

from auditor.extract.occurrences import Occurrences, case_key

RES_STRING_POOL = 0x0001
RES_TABLE = 0x0002
RES_TABLE_PACKAGE = 0x0200
RES_TABLE_TYPE = 0x0201
TYPE_REFERENCE = 0x01
TYPE_STRING = 0x03
UTF8_FLAG = 0x100
FLAG_SPARSE = 0x01
FLAG_OFFSET16 = 0x02
NO_ENTRY = 0xFFFFFFFF
MAX_REFERENCE_HOPS = 4


def _chunk(data: bytes, pos: int) -> tuple[int, int, int]:
    """(type, header size, total size) of the chunk at `pos`."""
    kind, header, size = struct.unpack_from("<HHI", data, pos)
    if size < 8 or pos + size > len(data):
        raise ValueError("chunk runs past the end of the table")
    return kind, header, size


def _pool_string(data: bytes, pool: int, index: int) -> str | None:
    _kind, header, _size = _chunk(data, pool)
    count, _styles, flags, strings_start, _styles_start = struct.unpack_from("<IIIII", data, pool + 8)
    if index >= count:
        return None
    (offset,) = struct.unpack_from("<I", data, pool + header + 4 * index)
    pos = pool + strings_start + offset
    if flags & UTF8_FLAG:
        pos += 2 if data[pos] & 0x80 else 1  # UTF-16 length, skipped
        length = data[pos]
        if length & 0x80:
            length = ((length & 0x7F) << 8) | data[pos + 1]
            pos += 1
        return data[pos + 1:pos + 1 + length].decode("utf-8", "replace")
    (length,) = struct.unpack_from("<H", data, pos)
    if length & 0x8000:
        length = ((length & 0x7FFF) << 16) | struct.unpack_from("<H", data, pos + 2)[0]
        pos += 2
    return data[pos + 2:pos + 2 + 2 * length].decode("utf-16-le", "replace")


def _entry_offset(data: bytes, chunk: int, header: int, flags: int, count: int, entry_id: int) -> int | None:
    offsets = chunk + header
    if flags & FLAG_SPARSE:
        for i in range(count):
            idx, off16 = struct.unpack_from("<HH", data, offsets + 4 * i)
            if idx == entry_id:
                return int(off16) * 4
        return None
    if entry_id >= count:
        return None
    if flags & FLAG_OFFSET16:
        (off16,) = struct.unpack_from("<H", data, offsets + 2 * entry_id)
        return None if off16 == 0xFFFF else int(off16) * 4
    (off,) = struct.unpack_from("<I", data, offsets + 4 * entry_id)
    return None if off == NO_ENTRY else int(off)


def _value(data: bytes, package: int, type_id: int, entry_id: int) -> tuple[int, int] | None:
    """(data type, data) of the entry in the default configuration, else the first that has it."""
    _kind, header, size = _chunk(data, package)
    pos, end = package + header, package + size
    found: tuple[int, int] | None = None
    while pos + 8 <= end:
        kind, chunk_header, chunk_size = _chunk(data, pos)
        if kind == RES_TABLE_TYPE and data[pos + 8] == type_id:
            flags = data[pos + 9]
            count, entries_start, config_size = struct.unpack_from("<III", data, pos + 12)
            offset = _entry_offset(data, pos, chunk_header, flags, count, entry_id)
            if offset is not None:
                entry = pos + entries_start + offset
                _entry_size, entry_flags = struct.unpack_from("<HH", data, entry)
                if not entry_flags & 0x0001:  # not a complex (bag) entry
                    value_type, value = data[entry + 8 + 3], struct.unpack_from("<I", data, entry + 8 + 4)[0]
                    is_default = not any(data[pos + 20 + 4:pos + 20 + config_size])
                    if is_default:
                        return value_type, value
                    found = found or (value_type, value)
        pos += chunk_size
    return found


def resolve_string(table: bytes, resource_id: int) -> str | None:
    """The string a resource id names (following references), or None if it cannot be found."""
    try:
        return _resolve(table, resource_id)
    except (ValueError, struct.error, IndexError):
        return None


def _resolve(table: bytes, resource_id: int) -> str | None:
    kind, header, _size = _chunk(table, 0)
    if kind != RES_TABLE:
        return None
    pool = header
    packages: dict[int, int] = {}
    pos = header
    while pos + 8 <= len(table):
        kind, _h, size = _chunk(table, pos)
        if kind == RES_STRING_POOL:
            pool = pos
        elif kind == RES_TABLE_PACKAGE:
            packages[struct.unpack_from("<I", table, pos + 8)[0]] = pos
        pos += size
    for _ in range(MAX_REFERENCE_HOPS):
        package = packages.get(resource_id >> 24)
        if package is None:
            return None
        value = _value(table, package, (resource_id >> 16) & 0xFF, resource_id & 0xFFFF)
        if value is None:
            return None
        value_type, data = value
        if value_type == TYPE_STRING:
            return _pool_string(table, pool, data)
        if value_type != TYPE_REFERENCE:
            return None
        resource_id = data
    return None


class StringPool:
    """The global string pool of resources.arsc (every string value of every resource), for searching.

    Only the pool header is read. A search runs over the pool's string data as one text (lowered
    once for terms matched in any case: only ASCII letters change, so positions stay put), and
    only the strings holding a hit are cut out: each ends with a NUL and starts after its length
    prefix. UTF-16 pools are decoded as a whole rather than searched with NUL-laden needles, which
    byte search handles badly. The needles announced at construction are found together, in one
    pass over each text (auditor/extract/occurrences.py), rather than in one pass per needle.
    """

    def __init__(self, table: bytes, needles: Iterable[tuple[str, bool]] = ()) -> None:
        self.utf8 = True
        self._raw = b""
        self._text: bytes | str = b""
        self._lowered: bytes | str | None = None
        self._needles = tuple(needles)
        self._found: dict[bool, Occurrences[Any]] = {}
        try:
            self._read_header(table)
        except (ValueError, struct.error):
            self._raw = b""

    def _read_header(self, table: bytes) -> None:
        kind, header, _size = _chunk(table, 0)
        if kind != RES_TABLE:
            return
        kind, _pool_header, pool_size = _chunk(table, header)
        if kind != RES_STRING_POOL:
            return
        _count, _styles, flags, strings_start, styles_start = struct.unpack_from("<IIIII", table, header + 8)
        end = header + (styles_start if styles_start else pool_size)
        self.utf8 = bool(flags & UTF8_FLAG)
        self._raw = table[header + strings_start:min(end, header + pool_size)]

    def _haystack(self, lowered: bool) -> bytes | str:
        if not self._text:
            self._text = self._raw if self.utf8 else self._raw.decode("utf-16-le", "replace")
        if not lowered:
            return self._text
        if self._lowered is None:
            raw = self._raw.lower()
            self._lowered = raw if self.utf8 else raw.decode("utf-16-le", "replace")
        return self._lowered

    def _key(self, needle: str, exact: bool) -> tuple[bool, bytes | str]:
        """Which text to search (the lowered twin or not) and for what, as that text spells it."""
        lowered, key = case_key(needle, exact)
        return lowered, key.encode("utf-8") if self.utf8 else key

    def _occurrences(self, lowered: bool) -> Occurrences[Any]:
        """Every needle announced at construction found in one pass over that text, on first use."""
        if lowered not in self._found:
            keys = [key for low, key in (self._key(n, e) for n, e in self._needles) if low == lowered]
            self._found[lowered] = Occurrences(self._haystack(lowered), keys)
        return self._found[lowered]

    def containing(self, needle: str, exact: bool = False, limit: int = 64) -> list[str]:
        """Strings that contain `needle` (ASCII letters in any case unless `exact`), at most `limit` of them."""
        if not self._raw:
            return []
        lowered, key = self._key(needle, exact)
        found = self._occurrences(lowered)
        return _cut(self._text, lambda start: found.find(key, start), self.utf8, limit)


def _cut(text: bytes | str, find: Callable[[int], int], utf8: bool, limit: int) -> list[str]:
    """The strings of a pool's text that hold the needle `find` finds (in the text, or its lowered twin)."""
    found: list[str] = []
    if utf8:
        assert isinstance(text, bytes)
        nul = b"\0"
        pos = find(0)
        while pos >= 0 and len(found) < limit:
            start = text.rfind(nul, 0, pos) + 1
            for _ in range(2):  # UTF-16 length, then UTF-8 length, each 1 or 2 bytes
                start += 2 if start < pos and text[start] & 0x80 else 1
            stop = text.find(nul, pos)
            stop = len(text) if stop < 0 else stop
            found.append(text[min(start, pos):stop].decode("utf-8", "replace"))
            pos = find(stop)
        return found
    assert isinstance(text, str)
    pos = find(0)
    while pos >= 0 and len(found) < limit:
        start = text.rfind("\0", 0, pos) + 1
        start += 2 if start < pos and ord(text[start]) & 0x8000 else 1
        stop = text.find("\0", pos)
        stop = len(text) if stop < 0 else stop
        found.append(text[min(start, pos):stop])
        pos = find(stop)
    return found
