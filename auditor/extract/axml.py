"""Android binary XML (AXML) read exactly as the platform reads it.

The manifest decides which permissions an app gets, so it must be read the way the device reads
it, not the way a convenient parser does. This module follows libandroidfw (ResXMLTree,
ResXMLParser, ResStringPool in frameworks/base/libs/androidfw/ResourceTypes.cpp, Android 10,
which is also what Debian's aapt is built on) and the Java side of the framework that the package
parser sees (XmlBlock.Parser, StringBlock, TypedArray):

- chunk and node headers are honoured as declared (a start-element header of 20 bytes simply
  moves the attribute extension), and every chunk is validated with the platform's rules;
- strings come from the pool with the platform's bounds checks: UTF-16 entries are offsets in
  16-bit units, UTF-8 strings go through `string8At` + JNI's NewStringUTF on the Java side (cut at
  the first NUL) and through `stringAt` (which checks the UTF-16 length) in native code and aapt;
- attributes are found the platform's ways: by resource id through the resource map with
  AssetManager's sorted merge (`retrieve`), or by namespace and name strings (`index_of`);
- typed string values are read from the typed data index, as TypedArray does, not the raw value.

Every offset is bounds-checked against the bytes held, every walk is bounded by them, and the work
per document is capped (`MAX_ATTRIBUTES`, `MAX_STRING_UNITS`): a document over the caps raises
AxmlLimit instead of running for minutes. Where the platform's reading differs from what a naive
reader (or androguard) would see, a one-line note is added to `Document.tricks`.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Iterator

from auditor.records import record

RES_STRING_POOL = 0x0001
RES_XML = 0x0003
RES_XML_FIRST = 0x0100
START_NAMESPACE = 0x0100
END_NAMESPACE = 0x0101
START_TAG = 0x0102
END_TAG = 0x0103
TEXT = 0x0104
RES_XML_LAST = 0x017F
RES_XML_RESOURCE_MAP = 0x0180

TYPE_NULL = 0x00
TYPE_REFERENCE = 0x01
TYPE_ATTRIBUTE = 0x02
TYPE_STRING = 0x03
TYPE_FLOAT = 0x04
TYPE_INT_HEX = 0x11
TYPE_INT_BOOLEAN = 0x12
TYPE_FIRST_INT = 0x10
TYPE_FIRST_COLOR = 0x1C
TYPE_LAST_INT = 0x1F

UTF8_FLAG = 0x100
POOL_HEADER = 28
NODE_HEADER = 16
ATTR_EXT = 20
ATTRIBUTE = 20
MIN_EXT = {START_NAMESPACE: 8, END_NAMESPACE: 8, START_TAG: ATTR_EXT, END_TAG: 8, TEXT: 12}
"""sizeof the extension that follows each node kind's header (ResXMLTree_*Ext)."""

MAX_ATTRIBUTES = 2_000_000
"""Attribute records decoded per document; 10^6 attributes take about 0.3 s."""
MAX_STRING_UNITS = 32_000_000
"""Characters decoded from the string pool per document (overlapping strings could make it quadratic)."""
ANDROID_NS = "http://schemas.android.com/apk/res/android"


class AxmlError(ValueError):
    """The platform refuses this document; the message is one line."""


class AxmlLimit(AxmlError):
    """Reading the document would take more work than its size justifies."""


@record(slots=True)
class Attribute:
    """One ResXMLTree_attribute: string indexes as stored (-1 for none) and the typed value."""

    ns: int
    name: int
    raw: int
    type: int
    data: int
    res_id: int


@record(slots=True)
class Attributes:
    """The attributes of one element as columns, in document order (a million Attribute objects
    would take seconds to build)."""

    ns: tuple[int, ...]
    name: tuple[int, ...]
    raw: tuple[int, ...]
    type: tuple[int, ...]
    data: tuple[int, ...]
    res: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.name)

    def __getitem__(self, index: int) -> Attribute:
        return Attribute(self.ns[index], self.name[index], self.raw[index], self.type[index], self.data[index],
                         self.res[index])

    def __iter__(self) -> Iterator[Attribute]:
        return (self[index] for index in range(len(self)))


@record(slots=True)
class Node:
    """One node as ResXMLParser visits it; `ext` is where its extension starts (node + headerSize)."""

    code: int
    offset: int
    line: int
    comment: int
    ext: int


def _s32(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


class _Budget:
    def __init__(self) -> None:
        self.attributes = MAX_ATTRIBUTES
        self.units = MAX_STRING_UNITS

    def spend_attributes(self, count: int) -> None:
        self.attributes -= count
        if self.attributes < 0:
            raise AxmlLimit(f"binary XML has more than {MAX_ATTRIBUTES} attributes to read")

    def spend_units(self, count: int) -> None:
        self.units -= count
        if self.units < 0:
            raise AxmlLimit(f"binary XML strings exceed {MAX_STRING_UNITS} characters to decode")


def _chunk_error(data: bytes, pos: int, min_header: int, end: int) -> str | None:
    """libandroidfw validate_chunk(): why the chunk at `pos` is invalid, or None."""
    if pos + 8 > len(data):
        return f"chunk header at {pos} runs past the end"
    header, size = struct.unpack_from("<HI", data, pos + 2)
    if header < min_header:
        return f"chunk at {pos} has header size {header}, below {min_header}"
    if header > size:
        return f"chunk at {pos} has size {size}, smaller than its header {header}"
    if (header | size) & 3:
        return f"chunk at {pos} has size {size} or header {header} not a multiple of 4"
    if size > end - pos:
        return f"chunk at {pos} of size {size} runs past the end"
    return None


class StringPool:
    """ResStringPool over one chunk; `error` is set when the platform rejects the pool."""

    def __init__(self, data: bytes, pos: int, size: int, budget: _Budget) -> None:
        self.data, self.pos, self.budget = data, pos, budget
        self.count = 0
        self.utf8 = False
        self.chars = 0
        self.strings = 0
        self.entries = pos + int.from_bytes(data[pos + 2:pos + 4], "little")
        self._java: dict[int, str | None] = {}
        self._native: dict[int, tuple[str | None, int]] = {}
        self.error = self._set_to(size)

    def _set_to(self, size: int) -> str | None:
        if size < POOL_HEADER:
            return "string pool smaller than its header"
        if _chunk_error(self.data, self.pos, POOL_HEADER, self.pos + size):
            return "string pool chunk is malformed"
        header, total, count, styles, flags, strings_start, styles_start = struct.unpack_from(
            "<HIIIIII", self.data, self.pos + 2)
        self.utf8 = bool(flags & UTF8_FLAG)
        char = 1 if self.utf8 else 2
        if count:
            if header + 4 * count > size:
                return "string pool entries run past the pool"
            if strings_start >= total - 2:
                return "string pool strings start past its end"
            if styles == 0:
                self.chars = (total - strings_start) // char
            else:
                if styles_start >= total - 2 or styles_start <= strings_start:
                    return "string pool styles overlap its strings"
                self.chars = (styles_start - strings_start) // char
            if self.chars == 0:
                return "string pool has strings but no room for them"
            self.strings = self.pos + strings_start
            if self._unit(self.chars - 1) != 0:
                return "string pool's last string is not terminated"
        if styles:
            if header + 4 * count > size or styles_start >= total:
                return "string pool styles run past the pool"
            last = self.pos + styles_start + 4 * ((total - styles_start) // 4 - 3)
            if last < self.pos or self.data[last:last + 12] != b"\xff" * 12:
                return "string pool's last style is not terminated"
        self.count = count
        return None

    def _unit(self, index: int) -> int:
        """Code unit `index` of the strings area (byte or 16-bit), 0 outside the data held."""
        if self.utf8:
            at = self.strings + index
            return self.data[at] if at < len(self.data) else 0
        at = self.strings + 2 * index
        return int.from_bytes(self.data[at:at + 2], "little") if at + 2 <= len(self.data) else 0

    def _entry(self, idx: int) -> int | None:
        if self.error is not None or not 0 <= idx < self.count:
            return None
        (offset,) = struct.unpack_from("<I", self.data, self.entries + 4 * idx)
        return int(offset)

    def _length8(self, at: int) -> tuple[int, int]:
        length = self._unit(at)
        if length & 0x80:
            return ((length & 0x7F) << 8) | self._unit(at + 1), at + 2
        return length, at + 1

    def _decode_at8(self, start: int, enc_len: int) -> int | None:
        """stringDecodeAt(): the real byte length of a UTF-8 string whose length aapt truncated."""
        i, end = 0, enc_len
        while start + end < self.chars:
            if self._unit(start + end) == 0:
                return end
            i += 1
            end = (i << 15) | enc_len
        return None

    def _string8(self, idx: int) -> tuple[bytes | None, int]:
        """string8At(): the UTF-8 bytes and their length (set even when None is returned, as in C)."""
        offset = self._entry(idx)
        if offset is None or not self.utf8 or offset >= self.chars - 1:
            return None, 0
        _u16, at = self._length8(offset)
        enc_len, at = self._length8(at)
        if at + enc_len >= self.chars:
            return None, enc_len
        length = self._decode_at8(at, enc_len)
        if length is None:
            return None, enc_len
        self.budget.spend_units(length)
        return self.data[self.strings + at:self.strings + at + length], length

    def native(self, idx: int) -> str | None:
        """stringAt(): the string as native code (aapt, attribute lookups by name) sees it."""
        return self.native_sized(idx)[0]

    def native_sized(self, idx: int) -> tuple[str | None, int]:
        """stringAt() and the length it leaves in *u16len: set as soon as the length prefix is
        read, even when the string is then rejected (indexOfAttribute compares it)."""
        if idx not in self._native:
            self._native[idx] = self._native_at(idx)
        return self._native[idx]

    def _native_at(self, idx: int) -> tuple[str | None, int]:
        offset = self._entry(idx)
        if offset is None:
            return None, 0
        if not self.utf8:
            return self._utf16_at(offset // 2)
        if offset >= self.chars - 1:
            return None, 0
        u16_len, at = self._length8(offset)
        enc_len, at = self._length8(at)
        if at + enc_len >= self.chars:
            return None, u16_len
        length = self._decode_at8(at, enc_len)
        if length is None:
            return None, u16_len
        self.budget.spend_units(length)
        raw = self.data[self.strings + at:self.strings + at + length]
        units = _utf8_to_utf16(raw)
        if units is None or len(units) & 0x7FFF != u16_len:
            return None, u16_len
        return _from_units(units), len(units)

    def _utf16_at(self, off: int) -> tuple[str | None, int]:
        if off >= self.chars - 1:
            return None, 0
        length = self._unit(off)
        at = off + 1
        if length & 0x8000:
            length = ((length & 0x7FFF) << 16) | self._unit(at)
            at += 1
        if at + length >= self.chars or self._unit(at + length) != 0:
            return None, length
        self.budget.spend_units(length)
        start = self.strings + 2 * at
        return self.data[start:start + 2 * length].decode("utf-16-le", "surrogatepass"), length

    def java(self, idx: int) -> str | None:
        """StringBlock.get(): the string as the framework's Java code (the package parser) sees it."""
        if idx not in self._java:
            raw = self._string8(idx)[0] if self.utf8 else None
            self._java[idx] = _new_string_utf(raw) if raw is not None else self.native(idx)
        return self._java[idx]

    def bytes8(self, idx: int) -> tuple[bytes | None, int]:
        """string8At() for native name comparisons in UTF-8 pools."""
        return self._string8(idx)


def _utf8_codepoint_len(byte: int) -> int:
    return ((0xE5000000 >> ((byte >> 3) & 0x1E)) & 3) + 1


def _utf8_to_utf16(raw: bytes) -> list[int] | None:
    """libutils utf8_to_utf16_length + utf8_to_utf16: lenient, no continuation-byte checks."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        encoded = text.encode("utf-16-le", "surrogatepass")
        return list(struct.unpack(f"<{len(encoded) // 2}H", encoded))
    units: list[int] = []
    pos, end = 0, len(raw)
    while pos < end:
        size = _utf8_codepoint_len(raw[pos])
        if pos + size - 1 >= end:
            return None
        lead = raw[pos]
        code = lead if size == 1 else lead & (0x1F, 0x0F, 0x07)[size - 2]
        for byte in raw[pos + 1:pos + size]:
            code = (code << 6) | (byte & 0x3F)
        if code <= 0xFFFF:
            units.append(code)
        else:
            code -= 0x10000
            units += [((code >> 10) + 0xD800) & 0xFFFF, ((code & 0x3FF) + 0xDC00) & 0xFFFF]
        pos += size
    return units


def _new_string_utf(raw: bytes) -> str:
    """JNI NewStringUTF as ART does it: cut at the first NUL, then lenient modified UTF-8."""
    raw = raw.split(b"\0", 1)[0]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    units: list[int] = []
    padded, pos = raw + b"\0\0\0", 0
    while pos < len(raw):
        one = padded[pos]
        if not one & 0x80:
            units.append(one)
            pos += 1
        elif not one & 0x20:
            units.append(((one & 0x1F) << 6) | (padded[pos + 1] & 0x3F))
            pos += 2
        elif not one & 0x10:
            units.append(((one & 0x0F) << 12) | ((padded[pos + 1] & 0x3F) << 6) | (padded[pos + 2] & 0x3F))
            pos += 3
        else:
            code = (((one & 0x0F) << 18) | ((padded[pos + 1] & 0x3F) << 12) | ((padded[pos + 2] & 0x3F) << 6)
                    | (padded[pos + 3] & 0x3F))
            units += [((code >> 10) + 0xD7C0) & 0xFFFF, ((code & 0x3FF) + 0xDC00) & 0xFFFF]
            pos += 4
    return _from_units(units)


def _from_units(units: list[int]) -> str:
    return struct.pack(f"<{len(units)}H", *units).decode("utf-16-le", "surrogatepass")


Columns = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def _columns(data: bytes, base: int, width: int, count: int) -> Columns:
    """(ns, name, raw, type, data) of `count` attribute records of `width` bytes from `base`.

    The usual layout is cut into columns by memoryview slicing, without one Python object per
    record (a million live tuples also make the garbage collector run in circles); other widths
    are read one record at a time, zero-padded past the end of the data as C would read on."""
    if width == ATTRIBUTE and base + ATTRIBUTE * count <= len(data):
        view = memoryview(data)[base:base + ATTRIBUTE * count]
        signed, unsigned = view.cast("i"), view.cast("I")
        return (tuple(signed[0::5]), tuple(signed[1::5]), tuple(signed[2::5]), tuple(view[15::20]),
                tuple(unsigned[4::5]))
    padded = data[base:base + width * count + ATTRIBUTE] + bytes(ATTRIBUTE)
    cols: list[list[int]] = [[], [], [], [], []]
    for index in range(count):
        ns, name, raw, _size, _res0, kind, value = struct.unpack_from("<iiiHBBI", padded, width * index)
        for column, item in zip(cols, (ns, name, raw, kind, value), strict=True):
            column.append(item)
    return tuple(cols[0]), tuple(cols[1]), tuple(cols[2]), tuple(cols[3]), tuple(cols[4])


def _resource_ids(res_ids: tuple[int, ...], names: tuple[int, ...]) -> tuple[int, ...]:
    """getAttributeNameResID() of every attribute: the resource map entry at its name index, else 0."""
    if not names or not res_ids:
        return (0,) * len(names)
    if min(names) >= 0 and max(names) < len(res_ids):
        return tuple(map(res_ids.__getitem__, names))
    count = len(res_ids)
    return tuple(res_ids[n] if 0 <= n < count else 0 for n in names)


def coerce_to_string(kind: int, data: int) -> str | None:
    """TypedValue.coerceToString() for the value types a manifest uses (floats approximately)."""
    signed = _s32(data)
    if kind == TYPE_REFERENCE:
        return f"@{signed}"
    if kind == TYPE_ATTRIBUTE:
        return f"?{signed}"
    if kind == TYPE_FLOAT:
        return repr(struct.unpack("<f", struct.pack("<I", data))[0])
    if kind == TYPE_INT_HEX:
        return f"0x{data:x}"
    if kind == TYPE_INT_BOOLEAN:
        return "true" if data else "false"
    if TYPE_FIRST_COLOR <= kind <= TYPE_LAST_INT:
        return f"#{data:x}"
    if TYPE_FIRST_INT <= kind <= TYPE_LAST_INT:
        return str(signed)
    return None


class Document:
    """One binary XML document: ResXMLTree::setTo() on construction, then `events()` as ResXMLParser.

    Raises AxmlError when the platform would refuse the document outright. A node that turns out
    to be corrupt later (BAD_DOCUMENT) ends `events()` and sets `corrupt`: the platform throws
    "Corrupt XML binary file" only when its parser gets that far.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.budget = _Budget()
        self.tricks: list[str] = []
        self.res_ids: tuple[int, ...] = ()
        self.corrupt: str | None = None
        self._attrs: tuple[int, Attributes] = (-1, Attributes((), (), (), (), (), ()))
        self._found: dict[tuple[int, str | None, str], Attribute | None] = {}
        self.end = 0
        self.root = self._set_to()

    def trick(self, text: str) -> None:
        """Note a way this document is read differently by the platform and by a naive parser."""
        if text not in self.tricks:
            self.tricks.append(text)

    def _set_to(self) -> Node:
        data = self.data
        if len(data) < 8:
            raise AxmlError("binary XML is shorter than its header")
        kind, header, size = struct.unpack_from("<HHI", data, 0)
        if header > size or size > len(data):
            raise AxmlError(f"binary XML header says {size} bytes (header {header}), the file has {len(data)}")
        if kind != RES_XML:
            self.trick(f"binary XML chunk type {kind:#06x} instead of 0x0003 (the platform does not check it)")
        if header != 8:
            self.trick(f"binary XML header size {header} instead of 8 (the platform honours it)")
        if size != len(data):
            self.trick(f"binary XML declares {size} bytes but has {len(data)} (the platform ignores the rest)")
        self.end = size
        pool: StringPool | None = None
        pos = last = header
        while pos < size - 8 and pos < size - int.from_bytes(data[pos + 4:pos + 8], "little"):
            error = _chunk_error(data, pos, 8, size)
            if error:
                raise AxmlError(f"binary XML {error}")
            ckind, cheader, csize = struct.unpack_from("<HHI", data, pos)
            if ckind == RES_STRING_POOL:
                if pool is not None:
                    self.trick("binary XML has several string pools (the platform uses the last before the first node)")
                pool = StringPool(data, pos, csize, self.budget)
                if cheader != POOL_HEADER:
                    self.trick(f"string pool header size {cheader} instead of {POOL_HEADER} (the platform honours it)")
            elif ckind == RES_XML_RESOURCE_MAP:
                if self.res_ids:
                    self.trick("binary XML has several resource maps (the platform uses the last)")
                self.res_ids = struct.unpack_from(f"<{(csize - cheader) // 4}I", data, pos + cheader)
                if cheader != 8:
                    self.trick(f"resource map header size {cheader} instead of 8 (the platform honours it)")
            elif RES_XML_FIRST <= ckind <= RES_XML_LAST:
                if self._node_error(pos):
                    raise AxmlError(f"binary XML first node is malformed ({self._node_error(pos)})")
                if last == pos:
                    self.trick("binary XML starts with a node before any string pool (the platform skips that node)")
                root = self._next_node(last)
                if root is None:
                    raise AxmlError(f"binary XML first node is corrupt ({self.corrupt or 'no node'})")
                return self._finish(pool, root)
            else:
                self.trick(f"binary XML chunk of unknown type {ckind:#06x} skipped")
            last = pos
            pos += csize
        raise AxmlError("binary XML has no element node")

    def _finish(self, pool: StringPool | None, root: Node) -> Node:
        if pool is None:
            raise AxmlError("binary XML has no string pool")
        if pool.error:
            raise AxmlError(f"binary XML {pool.error}")
        self.strings = pool
        return root

    def _node_error(self, pos: int) -> str | None:
        """ResXMLTree::validateNode()."""
        error = _chunk_error(self.data, pos, NODE_HEADER, self.end)
        if error or struct.unpack_from("<H", self.data, pos)[0] != START_TAG:
            return error
        header, size = struct.unpack_from("<HI", self.data, pos + 2)
        if size < header + ATTR_EXT:
            return f"element at {pos} too small for its attribute header"
        start, width, count = struct.unpack_from("<HHH", self.data, pos + header + 8)
        if start + width * count > size - header:
            return f"element at {pos} declares {count} attributes of {width} bytes past its end"
        return None

    def _next_node(self, cur: int) -> Node | None:
        """ResXMLParser::nextNode() from the node at `cur`: the next known node, or None at the end."""
        end = self.end
        data = self.data
        while True:
            nxt = cur + int.from_bytes(data[cur + 4:cur + 8], "little")
            if nxt >= end:
                return None
            error = self._node_error(nxt)
            if error:
                self.corrupt = f"binary XML is corrupt: {error}"
                return None
            code, header, size, line, comment = struct.unpack_from("<HHIIi", data, nxt)
            cur = nxt
            if code not in MIN_EXT:
                self.trick(f"binary XML node of unknown type {code:#06x} skipped")
                continue
            if size - header < MIN_EXT[code]:
                self.corrupt = f"binary XML is corrupt: node at {nxt} too small for its kind"
                return None
            if header != NODE_HEADER:
                self.trick(f"a node header of {header} bytes instead of 16 (the platform honours the field)")
            return Node(code, nxt, line, comment, nxt + header)

    def events(self) -> Iterator[Node]:
        """Every node ResXMLParser.next() returns, in order (namespaces and text included)."""
        node: Node | None = self.root
        while node is not None:
            yield node
            node = self._next_node(node.offset)

    # -- names and attributes ------------------------------------------------------------------

    def ext_indexes(self, node: Node) -> tuple[int, int]:
        """The first two words of a node's extension: (ns, name) of an element, (prefix, uri) of a
        namespace, (data, -) of text; -1 for none."""
        first, second = struct.unpack_from("<ii", self.data, node.ext)
        return first, second

    def name(self, node: Node) -> str | None:
        """An element's name as the framework's Java code sees it (XmlBlock.Parser.getName)."""
        index = self.ext_indexes(node)[1]
        name = self.strings.java(index) if index >= 0 else None
        if name is None:
            self.trick(f"an element name (string #{index}) cannot be read (the platform refuses to install the app)")
        return name

    def layout(self, node: Node) -> tuple[int, int, int]:
        """(attributeStart, attributeSize, attributeCount) of a start-element node."""
        start, width, count = struct.unpack_from("<HHH", self.data, node.ext + 8)
        return start, width, count

    def attributes(self, node: Node) -> Attributes:
        """The attributes of a start-element node as the parser indexes them.

        Identical records (attributeSize 0) are returned once: every lookup the platform makes
        gives the same answer for one copy as for 65535.
        """
        if self._attrs[0] == node.offset:
            return self._attrs[1]
        start, width, count = self.layout(node)
        if start != ATTR_EXT or width != ATTRIBUTE:
            self.trick(f"attribute layout start {start} size {width} instead of 20/20 (the platform honours it)")
        if width == 0:
            count = min(count, 1)
        self.budget.spend_attributes(count)
        columns = _columns(self.data, node.ext + start, width, count)
        out = Attributes(*columns, _resource_ids(self.res_ids, columns[1]))
        self._attrs = (node.offset, out)
        ns, name, raw, kind, value = columns
        if name and (min(name) < 0 or max(name) >= self.strings.count or min(ns) < -1 or max(ns) >= self.strings.count):
            self.trick("an attribute whose name or namespace index points outside the string pool")
        if TYPE_STRING in kind and any(map(operator.ne, raw, value)) and any(
                t == TYPE_STRING and r != d and r >= 0 for t, r, d in zip(kind, raw, value, strict=True)):
            self._compare_raw(out)
        return out

    def unreadable_strings(self) -> int:
        """How many pool strings native code cannot read (tools that read them all fail; the
        platform reads only the ones it needs). 0 if counting them would exceed the budget."""
        try:
            return sum(1 for index in range(self.strings.count) if self.strings.native(index) is None)
        except AxmlLimit:
            return 0

    def _compare_raw(self, attrs: Attributes) -> None:
        for attr in attrs:
            if attr.type == TYPE_STRING and attr.raw >= 0 and attr.raw != attr.data \
                    and self.strings.java(attr.raw) != self.typed_string(attr):
                self.trick("an attribute's raw string differs from its typed string (the platform reads the typed one)")
                return

    def value(self, attr: Attribute) -> str | None:
        """XmlBlock.Parser.getAttributeValue(i): the raw string if there is one, else the typed value
        coerced to a string. None where the platform would throw."""
        if attr.raw >= 0:
            return self.strings.java(attr.raw)
        return coerce_to_string(attr.type, attr.data)

    def typed_string(self, attr: Attribute) -> str | None:
        """What TypedArray returns for a TYPE_STRING value: the pool string at the *typed* index."""
        return self.strings.java(attr.data) if attr.type == TYPE_STRING and attr.data < (1 << 31) else None

    def index_of(self, node: Node, ns: str | None, name: str) -> Attribute | None:
        """ResXMLParser::indexOfAttribute(ns, name): the first attribute with these strings.

        Answers are remembered per element, so that a second reading of the document (the by-name
        comparison) does not decode large elements twice."""
        key = (node.offset, ns, name)
        if key not in self._found:
            self._found[key] = self._index_of(node, ns, name)
        return self._found[key]

    def _index_of(self, node: Node, ns: str | None, name: str) -> Attribute | None:
        attrs, pool = self.attributes(node), self.strings
        if pool.utf8:
            return next((attr for attr in attrs if self._matches8(attr, ns, name)), None)
        named = {index for index in set(attrs.name) if pool.native(index) == name}
        for position, index in enumerate(attrs.name):
            if index in named:
                attr_ns = attrs.ns[position]
                current, length = pool.native_sized(attr_ns) if attr_ns >= 0 else (None, 0)
                if current == ns and (ns is not None or length == 0):
                    return attrs[position]
        return None

    def _matches8(self, attr: Attribute, ns: str | None, name: str) -> bool:
        pool = self.strings
        current, current_len = pool.bytes8(attr.name) if attr.name >= 0 else (None, 0)
        current_ns, ns_len = pool.bytes8(attr.ns) if attr.ns >= 0 else (None, 0)
        wanted = name.encode("utf-8")
        if current is None or current_len != len(name) or ns_len != len(ns or "") or current[:len(wanted)] != wanted:
            return False
        if ns is None:
            return current_ns is None
        return current_ns is not None and current_ns[:len(ns)] == ns.encode("utf-8")


def retrieve(attrs: Attributes, wanted: tuple[int, ...]) -> dict[int, Attribute]:
    """AssetManager's RetrieveAttributes(): the XML attributes walked once, in order, against the
    sorted resource ids of a styleable. Attributes out of id order can be passed over, exactly as on
    the device; ids the styleable has but the caller does not ask for do not change the outcome."""
    return {ident: attrs[index] for ident, index in merge(attrs.res, wanted).items()}


def merge(res: tuple[int, ...], wanted: tuple[int, ...]) -> dict[int, int]:
    """The merge itself over the attributes' resource ids: {wanted id: attribute position}.

    The skip ("while id > res[ix]: ix++") is the first position from ix whose id is >= the
    wanted one, found with C-level scans rather than a Python loop per attribute."""
    found: dict[int, int] = {}
    index, count = 0, len(res)
    for ident in sorted(set(wanted)):
        if index >= count:
            break
        if ident > res[index]:
            rest = res[index:]
            index = index + list(map(ident.__le__, rest)).index(True) if ident <= max(rest) else count
        if index < count and res[index] == ident:
            found[ident] = index
            index += 1
    return found
