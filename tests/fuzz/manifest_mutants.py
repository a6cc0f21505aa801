"""Mutations of a binary AndroidManifest.xml aimed at where parsers disagree with the platform.

Each operation edits one structure the platform reads in its own way: node and chunk header
sizes (a start-element header of 20 bytes, honestly widened or merely claimed), chunk sizes, the
android namespace string (misspelt, same or other length), string-pool flags (UTF-8 flag flipped,
or the pool honestly re-encoded as UTF-8), string lengths and offsets, attribute value types, data
and raw indexes, the resource map (ids changed, swapped, truncated, removed), attribute order
and layout, element names, stray or missing end tags, misplaced <uses-permission> elements,
unknown chunks, the XML header, and truncation. `mutate_manifest(base, seed)` is a pure function
of its inputs, so a seed names the same mutant on every machine (the golden files depend on it).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

ANDROID_NS = "http://schemas.android.com/apk/res/android"
START_TAG, END_TAG = 0x0102, 0x0103
INTERESTING_16 = (0, 4, 8, 12, 16, 17, 20, 24, 28, 0x7FFF, 0x8000, 0xFFFF)
INTERESTING_32 = (0, 1, 4, 8, 16, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)
VALUE_TYPES = (0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x10, 0x11, 0x12, 0x1C, 0x1F, 0x20, 0xFF)


def _u16(data: bytes, pos: int) -> int:
    return int(struct.unpack_from("<H", data, pos)[0])


def _u32(data: bytes, pos: int) -> int:
    return int(struct.unpack_from("<I", data, pos)[0])


def _put16(data: bytes, pos: int, value: int) -> bytes:
    return data[:pos] + struct.pack("<H", value & 0xFFFF) + data[pos + 2:]


def _put32(data: bytes, pos: int, value: int) -> bytes:
    return data[:pos] + struct.pack("<I", value & 0xFFFFFFFF) + data[pos + 4:]


def chunks(data: bytes) -> list[tuple[int, int, int, int]]:
    """(offset, type, header size, size) of the chunks inside the XML chunk, walked by size."""
    out = []
    pos, end = _u16(data, 2), min(len(data), _u32(data, 4))
    while pos + 8 <= end and len(out) < 100_000:
        kind, header, size = struct.unpack_from("<HHI", data, pos)
        if size < 8:
            break
        out.append((pos, kind, header, size))
        pos += size
    return out


def _nodes(data: bytes, kinds: tuple[int, ...] = (START_TAG,)) -> list[tuple[int, int, int, int]]:
    return [c for c in chunks(data) if c[1] in kinds]


def _pool(data: bytes) -> tuple[int, int, int, int, int, int] | None:
    """(offset, header, count, flags, strings_start, size) of the first string pool."""
    for pos, kind, header, size in chunks(data):
        if kind == 0x0001:
            count, _styles, flags, start = struct.unpack_from("<IIII", data, pos + 8)
            return pos, header, count, flags, start, size
    return None


def _grow(data: bytes, pos: int, extra: bytes, owners: list[int]) -> bytes:
    """Insert bytes at `pos` and add their length to the size fields at `owners` (and the XML's)."""
    out = data[:pos] + extra + data[pos:]
    for owner in [0, *owners]:
        out = _put32(out, owner + 4, _u32(out, owner + 4) + len(extra))
    return out


def pool_strings(data: bytes) -> list[str]:
    """The pool's strings as the base manifest (well formed) holds them."""
    from auditor.extract.axml import Document

    doc = Document(data)
    return [doc.strings.native(i) or "" for i in range(doc.strings.count)]


def encode_pool(strings: list[str], utf8: bool) -> bytes:
    """A string pool chunk as aapt writes it (no styles)."""
    body, offsets = bytearray(), []
    for text in strings:
        offsets.append(len(body))
        units = text.encode("utf-16-le", "surrogatepass")
        if utf8:
            raw = text.encode("utf-8", "surrogatepass")
            for length in (len(units) // 2, len(raw)):
                body += bytes([0x80 | (length >> 8), length & 0xFF]) if length > 0x7F else bytes([length])
            body += raw + b"\0"
        else:
            length = len(units) // 2
            body += struct.pack("<HH", 0x8000 | (length >> 16), length & 0xFFFF) if length > 0x7FFF else struct.pack("<H", length)
            body += units + b"\0\0"
    while len(body) % 4:
        body += b"\0"
    start = 28 + 4 * len(strings)
    header = struct.pack("<HHIIIIII", 0x0001, 28, start + len(body), len(strings), 0, 0x100 if utf8 else 0, start, 0)
    return header + struct.pack(f"<{len(strings)}I", *offsets) + bytes(body)


def replace_pool(data: bytes, strings: list[str], utf8: bool) -> bytes:
    found = _pool(data)
    if found is None:
        return data
    pos, _header, _count, _flags, _start, size = found
    if _u32(data, pos + 12):  # styles: leave such pools alone
        return data
    new = encode_pool(strings, utf8)
    out = data[:pos] + new + data[pos + size:]
    return _put32(out, 4, _u32(data, 4) + len(new) - size)


# -- operations ---------------------------------------------------------------------------------

def widen_headers(data: bytes, extra: int = 4, nodes: list[tuple[int, int, int, int]] | None = None) -> bytes:
    """Every start-element header (or those of `nodes`) made `extra` bytes longer, honestly: the
    padding is inserted and every size agrees (16 -> 20 is the trick that hid permissions)."""
    for pos, _kind, header, _size in reversed(_nodes(data) if nodes is None else nodes):
        data = _grow(data, pos + header, bytes(extra), [pos])
        data = _put16(data, pos + 2, header + extra)
    return data


def rename_namespace(data: bytes, new: str, old: str = ANDROID_NS) -> bytes:
    """The pool string `old` (the android namespace URI) replaced by `new`, the pool rebuilt."""
    strings = pool_strings(data)
    strings[strings.index(old)] = new
    found = _pool(data)
    return replace_pool(data, strings, bool(found and found[3] & 0x100))


def op_widen_header(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """An element (or every node) with a longer header, honestly: the sizes and bytes agree."""
    extra = rng.choice((4, 8, 20))
    every = rng.random() < 0.5
    targets = _nodes(data, (START_TAG,) if every else (0x0100, 0x0101, START_TAG, END_TAG, 0x0104))
    if not targets:
        return data, "widen: no node"
    data = widen_headers(data, extra, targets if every else [rng.choice(targets)])
    return data, f"widen {'every element' if every else 'one node'} header by {extra}"


def op_header_field(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A header size field changed without moving anything."""
    pos, kind, header, _size = rng.choice(chunks(data))
    value = rng.choice((*INTERESTING_16, header + 4, header - 4))
    return _put16(data, pos + 2, value), f"chunk {kind:#x} at {pos}: headerSize {header} -> {value & 0xFFFF}"


def op_chunk_size(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    pos, kind, _header, size = rng.choice([(0, 3, 8, _u32(data, 4)), *chunks(data)])
    value = rng.choice((*INTERESTING_32, size + 4, size - 4, size + 1, size * 2, len(data) - pos, len(data) - pos + 4))
    return _put32(data, pos + 4, value), f"chunk {kind:#x} at {pos}: size {size} -> {value & 0xFFFFFFFF}"


def op_namespace(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """The android namespace URI misspelt, in the pool (so every android: attribute points to it)."""
    if ANDROID_NS not in pool_strings(data):
        return data, "namespace: none"
    variant = rng.choice((ANDROID_NS[:-1] + "x", ANDROID_NS.upper(), ANDROID_NS + "/", "", "android",
                          ANDROID_NS.replace("http", "https"), ANDROID_NS + "\0"))
    return rename_namespace(data, variant), f"namespace -> {variant!r}"


def op_pool_utf8(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """The pool re-encoded honestly as UTF-8 (what aapt2 writes), or only its flag flipped."""
    found = _pool(data)
    if found is None:
        return data, "utf8: no pool"
    if rng.random() < 0.5:
        return _put32(data, found[0] + 16, found[3] ^ 0x100), "pool UTF-8 flag flipped"
    return replace_pool(data, pool_strings(data), True), "pool re-encoded as UTF-8"


def _string_entry(rng: random.Random, data: bytes) -> tuple[int, int, int] | None:
    """(index, position of its offset entry, position of the string) of a random pool string."""
    found = _pool(data)
    if found is None or not found[2]:
        return None
    pos, header, count, _flags, start, _size = found
    index = rng.randrange(count)
    entry = pos + header + 4 * index
    return index, entry, pos + start + _u32(data, entry)


def op_pool_length(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    chosen = _string_entry(rng, data)
    if chosen is None:
        return data, "length: no pool"
    index, _entry, at = chosen
    flags = _pool(data)[3]  # type: ignore[index]
    if at + 2 > len(data):
        return data, "length: out of range"
    if flags & 0x100:
        at += rng.choice((0, 1))  # the UTF-16 length byte or the UTF-8 one (short forms)
        value = rng.choice((0, 1, 0x7F, 0x80, 0xFF, data[at] + 1, max(data[at] - 1, 0)))
        return data[:at] + bytes([value]) + data[at + 1:], f"string #{index} UTF-8 length byte -> {value}"
    value = rng.choice((0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF, _u16(data, at) + 1, max(_u16(data, at) - 1, 0)))
    return _put16(data, at, value), f"string #{index} length -> {value}"


def op_pool_offset(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    chosen = _string_entry(rng, data)
    if chosen is None:
        return data, "offset: no pool"
    index, entry, _at = chosen
    pos, header, count, _flags, _start, size = _pool(data)  # type: ignore[misc]
    current = _u32(data, entry)
    other = _u32(data, pos + header + 4 * rng.randrange(count))
    value = rng.choice((current + 1, current + 2, current - 2, 0, other, size, 0xFFFFFFFF, current + 4))
    return _put32(data, entry, value), f"string #{index} offset {current} -> {value & 0xFFFFFFFF}"


def op_pool_header(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    found = _pool(data)
    if found is None:
        return data, "pool header: no pool"
    field = rng.choice(((8, "stringCount"), (12, "styleCount"), (20, "stringsStart"), (24, "stylesStart")))
    value = rng.choice((*INTERESTING_32, _u32(data, found[0] + field[0]) + 1, _u32(data, found[0] + field[0]) - 1))
    return _put32(data, found[0] + field[0], value), f"pool {field[1]} -> {value & 0xFFFFFFFF}"


def _attribute_at(rng: random.Random, data: bytes) -> int | None:
    elements = [(pos, header) for pos, _k, header, _s in _nodes(data) if _u16(data, pos + header + 12)]
    if not elements:
        return None
    pos, header = rng.choice(elements)
    ext = pos + header
    start, width, count = struct.unpack_from("<HHH", data, ext + 8)
    at = ext + start + width * rng.randrange(count)
    return at if at + 20 <= len(data) else None


def op_attribute_value(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """An attribute's value type, data or raw string index changed (raw and typed then disagree)."""
    at = _attribute_at(rng, data)
    if at is None:
        return data, "value: no attribute"
    what = rng.choice(("type", "data", "raw", "string-data"))
    pool = _pool(data)
    count = pool[2] if pool else 1
    if what == "type":
        value = rng.choice(VALUE_TYPES)
        return data[:at + 15] + bytes([value]) + data[at + 16:], f"attribute type -> {value:#x}"
    if what == "raw":
        value = rng.choice((0xFFFFFFFF, rng.randrange(count), count, 0x7FFFFFFF))
        return _put32(data, at + 8, value), f"attribute raw index -> {value}"
    if what == "string-data":
        value = rng.randrange(count)
        out = data[:at + 15] + bytes([3]) + data[at + 16:]
        return _put32(out, at + 16, value), f"attribute typed string -> #{value}"
    value = rng.choice((*INTERESTING_32, rng.randrange(count), count))
    return _put32(data, at + 16, value), f"attribute data -> {value & 0xFFFFFFFF:#x}"


def _string_index(rng: random.Random, data: bytes) -> int:
    """A string index worth writing: none (-1), a real one, or far past the pool."""
    pool = _pool(data)
    return int(rng.choice((0xFFFFFFFF, rng.randrange(pool[2]) if pool and pool[2] else 0, 0x7FFFFFFF)))


def op_attribute_ns(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = _attribute_at(rng, data)
    if at is None:
        return data, "ns: no attribute"
    value = _string_index(rng, data)
    return _put32(data, at, value), f"attribute namespace index -> {value}"


def op_attribute_name(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = _attribute_at(rng, data)
    if at is None:
        return data, "name: no attribute"
    value = _string_index(rng, data)
    return _put32(data, at + 4, value), f"attribute name index -> {value}"


def op_resource_map(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    maps = [c for c in chunks(data) if c[1] == 0x0180]
    if not maps:
        return data, "resmap: none"
    pos, _kind, header, size = maps[0]
    count = (size - header) // 4
    what = rng.choice(("change", "swap", "truncate", "remove", "zero"))
    if what == "remove" or count == 0:
        out = data[:pos] + data[pos + size:]
        return _put32(out, 4, _u32(data, 4) - size), "resource map removed"
    index = rng.randrange(count)
    at = pos + header + 4 * index
    if what == "change":
        value = rng.choice((0x01010003, 0x01010271, 0x0101020C, _u32(data, at) + 1, 0x7F010000, 0))
        return _put32(data, at, value), f"resource id #{index} -> {value:#x}"
    if what == "zero":
        return _put32(data, at, 0), f"resource id #{index} -> 0"
    if what == "swap":
        other = pos + header + 4 * rng.randrange(count)
        a, b = _u32(data, at), _u32(data, other)
        return _put32(_put32(data, at, b), other, a), f"resource ids #{index} and #{(other - pos - header) // 4} swapped"
    keep = rng.randrange(count)
    out = data[:pos + header + 4 * keep] + data[pos + size:]
    out = _put32(out, pos + 4, header + 4 * keep)
    return _put32(out, 4, _u32(data, 4) - (count - keep) * 4), f"resource map truncated to {keep} ids"


def op_attribute_order(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Two attributes of an element swapped: ids no longer sorted, as the platform's merge assumes."""
    elements = [(pos, header) for pos, _k, header, _s in _nodes(data)
                if _u16(data, pos + header + 12) >= 2 and _u16(data, pos + header + 10) == 20]
    if not elements:
        return data, "order: no element"
    pos, header = rng.choice(elements)
    ext = pos + header
    start, _width, count = struct.unpack_from("<HHH", data, ext + 8)
    i, j = sorted(rng.sample(range(count), 2))
    a, b = ext + start + 20 * i, ext + start + 20 * j
    out = data[:a] + data[b:b + 20] + data[a + 20:b] + data[a:a + 20] + data[b + 20:]
    return out, f"attributes {i} and {j} of element at {pos} swapped"


def op_attribute_layout(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    nodes = _nodes(data)
    if not nodes:
        return data, "layout: none"
    pos, _kind, header, _size = rng.choice(nodes)
    field = rng.choice(((8, "attributeStart"), (10, "attributeSize"), (12, "attributeCount")))
    value = rng.choice((0, 1, 2, 8, 16, 19, 20, 21, 24, 40, 0xFFFF))
    return _put16(data, pos + header + field[0], value), f"element at {pos}: {field[1]} -> {value}"


def op_element_name(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    nodes = _nodes(data, (START_TAG, END_TAG))
    if not nodes:
        return data, "element name: none"
    pos, _kind, header, _size = rng.choice(nodes)
    value = _string_index(rng, data)
    return _put32(data, pos + header + 4, value), f"element name at {pos} -> {value}"


def op_end_tags(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    ends = _nodes(data, (END_TAG,))
    if not ends:
        return data, "end: none"
    pos, _kind, _header, size = rng.choice(ends)
    if rng.random() < 0.5:
        return _put32(data[:pos] + data[pos + size:], 4, _u32(data, 4) - size), f"end tag at {pos} removed"
    target = rng.choice(_nodes(data, (START_TAG, END_TAG)))[0]
    return _grow(data, target, data[pos:pos + size], []), f"end tag copied before {target}"


def op_move_permission(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """A <uses-permission> (start and end nodes) copied inside another element, or after </manifest>."""
    from auditor.extract.axml import Document

    doc = Document(data)
    starts = [n for n in doc.events() if n.code == START_TAG and (doc.name(n) or "").startswith("uses-permission")]
    if not starts:
        return data, "move: none"
    node = rng.choice(starts)
    size = _u32(data, node.offset + 4)
    end_at = node.offset + size
    end_size = _u32(data, end_at + 4)
    copy = data[node.offset:end_at + end_size]
    others = [n.offset + _u32(data, n.offset + 4) for n in doc.events() if n.code == START_TAG]
    where = rng.choice(("inside", "after"))
    target = rng.choice(others) if where == "inside" else _u32(data, 4)
    return _grow(data, target, copy, []), f"uses-permission copied {where} (at {target})"


def op_unknown_chunk(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    kind = rng.choice((0x0000, 0x0002, 0x0105, 0x017F, 0x0181, 0x0200, 0xFFFF))
    header = rng.choice((8, 16))
    size = header + rng.choice((0, 4, 8))
    blob = struct.pack("<HHI", kind, header, size) + bytes(size - 8)
    target = rng.choice([c[0] for c in chunks(data)] + [_u32(data, 4)])
    return _grow(data, target, blob, []), f"unknown chunk {kind:#x} ({header}/{size}) inserted at {target}"


def op_xml_header(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    what = rng.choice(("type", "header", "size", "trailer"))
    if what == "type":
        value = rng.choice((0x0000, 0x0001, 0x0002, 0x0008, 0xFFFF))
        return _put16(data, 0, value), f"XML type -> {value:#x}"
    if what == "header":
        value = rng.choice((0, 4, 12, 16, 28))
        return _put16(data, 2, value), f"XML header size -> {value}"
    if what == "size":
        value = rng.choice((len(data) + 4, len(data) - 4, len(data) // 2, 0xFFFFFFFF, 8))
        return _put32(data, 4, value), f"XML size -> {value}"
    return data + bytes(rng.choice((4, 16, 100))), "bytes appended after the XML"


def op_truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    cut = rng.randrange(8, len(data))
    out = data[:cut]
    if rng.random() < 0.5:
        out = _put32(out, 4, cut)
        return out, f"truncated to {cut} bytes (size fixed)"
    return out, f"truncated to {cut} bytes"


def attribute_flood(data: bytes, elements: int, per_element: int, width: int = 20, tag: str = "uses-permission") -> bytes:
    """`elements` copies of the first <tag> element (a leaf with attributes), inserted after it,
    each claiming `per_element` attributes of `width` bytes (0: one record counted per_element
    times, which the platform walks as per_element identical attributes)."""
    from auditor.extract.axml import Document

    doc = Document(data)
    node = next(n for n in doc.events() if n.code == START_TAG and doc.name(n) == tag and doc.layout(n)[2])
    header, size = struct.unpack_from("<HI", data, node.offset + 2)
    record = data[node.ext + 20:node.ext + 40]
    ext = bytearray(data[node.ext:node.ext + 20])
    struct.pack_into("<HH", ext, 10, width, per_element)
    start = bytearray(data[node.offset:node.offset + header]) + ext + (record * per_element if width else record)
    struct.pack_into("<I", start, 4, len(start))
    end_at = node.offset + size
    end = data[end_at:end_at + _u32(data, end_at + 4)]
    at = end_at + len(end)
    return _grow(data, at, (bytes(start) + end) * elements, [])


def op_attribute_flood(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Work bounded by what the file holds: thousands of elements claiming 65535 zero-width
    attributes each, or a few with 65535 real ones (issue 14: 10^6 attributes took 300 s)."""
    if rng.random() < 0.5:
        count = rng.choice((100, 2000))
        return attribute_flood(data, count, 65535, 0), f"attribute flood: {count} elements x 65535 zero-width"
    count = rng.choice((1, 4))
    return attribute_flood(data, count, 65535), f"attribute flood: {count} elements x 65535 attributes"


OPERATIONS: dict[str, Callable[[random.Random, bytes], tuple[bytes, str]]] = {
    "widen_header": op_widen_header, "header_field": op_header_field, "chunk_size": op_chunk_size,
    "namespace": op_namespace, "pool_utf8": op_pool_utf8, "pool_length": op_pool_length,
    "pool_offset": op_pool_offset, "pool_header": op_pool_header, "attribute_value": op_attribute_value,
    "attribute_ns": op_attribute_ns, "attribute_name": op_attribute_name, "resource_map": op_resource_map,
    "attribute_order": op_attribute_order, "attribute_layout": op_attribute_layout,
    "element_name": op_element_name, "end_tags": op_end_tags, "move_permission": op_move_permission,
    "unknown_chunk": op_unknown_chunk, "xml_header": op_xml_header, "truncate": op_truncate,
}
WEIGHTS = {"widen_header": 4, "namespace": 3, "pool_utf8": 3, "attribute_value": 4, "resource_map": 3,
           "attribute_order": 2, "move_permission": 2, "truncate": 1, "xml_header": 1}


def mutate_manifest(base: bytes, seed: int) -> tuple[bytes, str]:
    """One to three operations drawn from `random.Random(seed)`; returns (bytes, what was done)."""
    rng = random.Random(f"manifest:{seed}")
    names = list(OPERATIONS)
    weights = [WEIGHTS.get(name, 1) for name in names]
    data, done = base, []
    for name in rng.choices(names, weights, k=rng.choice((1, 1, 2, 3))):
        try:
            data, what = OPERATIONS[name](rng, data)
        except Exception as exc:  # a previous operation broke what this one walks: keep going
            what = f"{name} skipped ({type(exc).__name__})"
        done.append(what)
    return data, "; ".join(done)
