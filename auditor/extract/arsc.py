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
