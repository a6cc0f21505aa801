"""A lean, lazy reader of the dex format.

The audit needs a few dozen method, field and string indices and the call edges around them, not
a whole-program model. So this reader parses only the id tables up front (cheap, fixed-size
records), finds instruction sites by searching the bytecode for the encoded indices, and decodes
the instructions of only the methods that hold a hit or lie on a path being explored. That keeps a
scan within a small factor of merely unzipping the dex (see bench/), where a full androguard
analysis costs a hundred times more.

Every offset read from the file is bounds-checked: a broken header raises DexFormatError, which
the caller turns into "not assessable" rather than a crash.
"""

from __future__ import annotations

import bisect
import re
import struct
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from auditor.dex.opcodes import INSN_UNITS, payload_units

HEADER_SIZE = 0x70
NO_INDEX = 0xFFFFFFFF

INVOKE_OPS = bytes(list(range(0x6E, 0x73)) + list(range(0x74, 0x79)))
FIELD_OPS = bytes(range(0x52, 0x6E))
TYPE_OPS = bytes([0x1C, 0x1F, 0x20, 0x22])  # const-class, check-cast, instance-of, new-instance
NEW_INSTANCE = 0x22
CONST_STRING = 0x1A
CONST_STRING_JUMBO = 0x1B


class DexFormatError(Exception):
    """The bytes are not a dex file this reader can trust."""


@dataclass(frozen=True)
class Insn:
    """One decoded reference-carrying instruction: its opcode, the index it names, its offset."""

    op: int
    index: int
    offset: int


@dataclass(frozen=True)
class MethodCode:
    """Where a defined method's instructions live: [start, end) byte offsets in the dex."""

    method_idx: int
    start: int
    end: int


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    """Decode one unsigned LEB128 value; returns (value, next position).

    Raises DexFormatError when the value runs off the end of the file (a tampered offset).
    """
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise DexFormatError("LEB128 value runs past the end of the file")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80 or shift >= 28:
            return result, pos
        shift += 7


class DexFile:
    """Random access to one dex file's tables and bytecode."""

    def __init__(self, data: bytes, name: str = "classes.dex") -> None:
        self.data = data
        self.name = name
        if len(data) < HEADER_SIZE or not data.startswith(b"dex\n"):
            raise DexFormatError(f"{name}: no dex magic")
        (
            self._string_ids_size, self._string_ids_off,
            self._type_ids_size, self._type_ids_off,
            self._proto_ids_size, self._proto_ids_off,
            self._field_ids_size, self._field_ids_off,
            self._method_ids_size, self._method_ids_off,
            self._class_defs_size, self._class_defs_off,
        ) = struct.unpack_from("<12I", data, 0x38)
        self._check_table("string_ids", self._string_ids_off, self._string_ids_size, 4)
        self._check_table("type_ids", self._type_ids_off, self._type_ids_size, 4)
        self._check_table("proto_ids", self._proto_ids_off, self._proto_ids_size, 12)
        self._check_table("field_ids", self._field_ids_off, self._field_ids_size, 8)
        self._check_table("method_ids", self._method_ids_off, self._method_ids_size, 8)
        self._check_table("class_defs", self._class_defs_off, self._class_defs_size, 32)
        self.string_offsets = self._u32_table(self._string_ids_off, self._string_ids_size)
        self.type_string = self._u32_table(self._type_ids_off, self._type_ids_size)
        self._strings: dict[int, str] = {}
        self._code_index: tuple[list[int], list[MethodCode]] | None = None
        self._class_methods: dict[int, list[MethodCode]] | None = None
        self._decoded: dict[int, list[Insn]] = {}
        self._method_keys: list[int] | None = None
        self._field_keys: list[int] | None = None
        self._code_end = 0

    @property
    def checksum_ok(self) -> bool:
        """Whether the header's Adler-32 matches the file, as ART checks before it loads a dex."""
        (stored,) = struct.unpack_from("<I", self.data, 8)
        return bool(zlib.adler32(memoryview(self.data)[12:]) == stored)

    # -- tables -------------------------------------------------------------------------------

    def _check_table(self, what: str, off: int, size: int, width: int) -> None:
        if size and (off < HEADER_SIZE or off + size * width > len(self.data)):
            raise DexFormatError(f"{self.name}: {what} table lies outside the file")

    def _u32_table(self, off: int, size: int) -> array[int]:
        table = array("I")
        table.frombytes(self.data[off:off + 4 * size])
        if struct.pack("=I", 1) != struct.pack("<I", 1):
            table.byteswap()
        return table

    @property
    def class_count(self) -> int:
        return int(self._class_defs_size)

    def string(self, idx: int) -> str:
        """The string at `idx`, decoded from MUTF-8 (lossy on malformed bytes, never raising)."""
        cached = self._strings.get(idx)
        if cached is not None:
            return cached
        if not 0 <= idx < len(self.string_offsets):
            return ""
        off = self.string_offsets[idx]
        if off >= len(self.data):
            return ""
        try:
            _, start = _uleb(self.data, off)
        except DexFormatError:
            return ""
        end = self.data.find(b"\0", start)
        raw = self.data[start:end if end >= 0 else len(self.data)]
        text = raw.replace(b"\xc0\x80", b"\0").decode("utf-8", "replace")
        self._strings[idx] = text
        return text

    def type_name(self, type_idx: int) -> str:
        if not 0 <= type_idx < len(self.type_string):
            return "?"
        return self.string(self.type_string[type_idx])

    def field_ref(self, idx: int) -> tuple[str, str, str]:
        """(class descriptor, field name, field type) of a field id."""
        if not 0 <= idx < self._field_ids_size:
            return ("?", "?", "?")
        class_idx, type_idx, name_idx = struct.unpack_from("<HHI", self.data, self._field_ids_off + 8 * idx)
        return self.type_name(class_idx), self.string(name_idx), self.type_name(type_idx)

    def method_ref(self, idx: int) -> tuple[str, str, str]:
        """(class descriptor, method name, proto descriptor such as "(Ljava/lang/String;)V")."""
        if not 0 <= idx < self._method_ids_size:
            return ("?", "?", "()?")
        class_idx, proto_idx, name_idx = struct.unpack_from("<HHI", self.data, self._method_ids_off + 8 * idx)
        return self.type_name(class_idx), self.string(name_idx), self.proto(proto_idx)

    def method_signature(self, idx: int) -> str:
        cls, name, proto = self.method_ref(idx)
        return f"{cls}->{name}{proto}"

    def proto(self, idx: int) -> str:
        if not 0 <= idx < self._proto_ids_size:
            return "()?"
        _, return_idx, params_off = struct.unpack_from("<III", self.data, self._proto_ids_off + 12 * idx)
        params = "".join(self.type_name(t) for t in self._type_list(params_off))
        return f"({params}){self.type_name(return_idx)}"

    def _type_list(self, off: int) -> list[int]:
        if not off or off + 4 > len(self.data):
            return []
        (size,) = struct.unpack_from("<I", self.data, off)
        if off + 4 + 2 * size > len(self.data):
            return []
        return list(struct.unpack_from(f"<{size}H", self.data, off + 4))

    def find_string(self, text: str) -> int | None:
        """Index of the string equal to `text`, by binary search (the format sorts the table)."""
        lo, hi = 0, len(self.string_offsets)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.string(mid) < text:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(self.string_offsets) and self.string(lo) == text else None

    def find_type(self, descriptor: str) -> int | None:
        """Type index of a class descriptor such as 'Ljava/lang/Runnable;', if the dex names it."""
        string_idx = self.find_string(descriptor)
        if string_idx is None:
            return None
        i = bisect.bisect_left(self.type_string, string_idx)
        return i if i < len(self.type_string) and self.type_string[i] == string_idx else None

    def method_ids_named(self, class_idx: int, name_idx: int) -> list[int]:
        """Method ids of one class and name (any proto): the table is sorted by class, then name."""
        if self._method_keys is None:
            raw = self.data[self._method_ids_off:self._method_ids_off + 8 * self._method_ids_size]
            self._method_keys = [(c << 32) | n for c, _p, n in struct.iter_unpack("<HHI", raw)]
        key = (class_idx << 32) | name_idx
        i = bisect.bisect_left(self._method_keys, key)
        out = []
        while i < len(self._method_keys) and self._method_keys[i] == key:
            out.append(i)
            i += 1
        return out

    def iter_field_ids_of(self, class_idx: int, name_idx: int) -> list[int]:
        """Field ids of one class and name: the table is sorted by class, then name."""
        if self._field_keys is None:
            raw = self.data[self._field_ids_off:self._field_ids_off + 8 * self._field_ids_size]
            self._field_keys = [(c << 32) | n for c, _t, n in struct.iter_unpack("<HHI", raw)]
        key = (class_idx << 32) | name_idx
        i = bisect.bisect_left(self._field_keys, key)
        out = []
        while i < len(self._field_keys) and self._field_keys[i] == key:
            out.append(i)
            i += 1
        return out

    def class_defs(self) -> list[tuple[int, int, int, list[int]]]:
        """(class type idx, superclass type idx, class_data_off, interface type idxs) per class."""
        out = []
        base = self._class_defs_off
        for i in range(self._class_defs_size):
            cls, _flags, sup, ifaces_off, _src, _ann, data_off, _static = struct.unpack_from("<8I", self.data, base + 32 * i)
            out.append((cls, sup, data_off, self._type_list(ifaces_off)))
        return out

    # -- code ---------------------------------------------------------------------------------

    def _parse_class_data(self, data_off: int) -> list[MethodCode]:
        """Methods with code in one class_data_item (direct and virtual)."""
        data = self.data
        if not data_off or data_off >= len(data):
            return []
        static_n, pos = _uleb(data, data_off)
        inst_n, pos = _uleb(data, pos)
        direct_n, pos = _uleb(data, pos)
        virtual_n, pos = _uleb(data, pos)
        for _ in range(2 * (static_n + inst_n)):
            while data[pos] & 0x80:  # skip one uleb128
                pos += 1
            pos += 1
        out: list[MethodCode] = []
        size = len(data)
        for count in (direct_n, virtual_n):
            idx = 0
            for _ in range(count):
                diff = data[pos]
                if diff < 0x80:
                    pos += 1
                else:
                    diff, pos = _uleb(data, pos)
                while data[pos] & 0x80:  # access flags, not needed
                    pos += 1
                pos += 1
                code_off, pos = _uleb(data, pos)
                idx += diff
                if code_off and code_off + 16 <= size:
                    insns = struct.unpack_from("<I", data, code_off + 12)[0]
                    start = code_off + 16
                    out.append(MethodCode(idx, start, min(size, start + 2 * insns)))
        return out

    def class_methods(self) -> dict[int, list[MethodCode]]:
        """Defined methods with code, by the type idx of their class."""
        if self._class_methods is None:
            result: dict[int, list[MethodCode]] = {}
            for cls, _sup, data_off, _ifaces in self.class_defs():
                try:
                    result[cls] = self._parse_class_data(data_off)
                except (IndexError, struct.error):
                    result[cls] = []
            self._class_methods = result
        return self._class_methods

    def _code_ranges(self) -> tuple[list[int], list[MethodCode]]:
        if self._code_index is None:
            codes = sorted((m for ms in self.class_methods().values() for m in ms), key=lambda m: m.start)
            self._code_index = ([m.start for m in codes], codes)
            self._code_end = max((m.end for m in codes), default=0)
        return self._code_index

    def method_at(self, offset: int) -> MethodCode | None:
        """The defined method whose instructions contain byte `offset`, if any."""
        starts, codes = self._code_ranges()
        i = bisect.bisect_right(starts, offset) - 1
        if i >= 0 and codes[i].start <= offset < codes[i].end:
            return codes[i]
        return None

    def decode(self, code: MethodCode) -> list[Insn]:
        """Reference-carrying instructions of one method, walked instruction by instruction.

        Walking (rather than pattern matching) is what tells real instructions from operand bytes
        and switch/array payloads that merely look like one.
        """
        cached = self._decoded.get(code.start)
        if cached is not None:
            return cached
        data = self.data
        out: list[Insn] = []
        for pos, op in self._walk(code):
            if op in _REF_OPS and pos + 4 <= code.end:
                out.append(Insn(op, data[pos + 2] | (data[pos + 3] << 8), pos))
            elif op == CONST_STRING_JUMBO and pos + 6 <= code.end:
                out.append(Insn(op, struct.unpack_from("<I", data, pos + 2)[0], pos))
        self._decoded[code.start] = out
        return out

    def opcodes(self, code: MethodCode) -> set[int]:
        """Every opcode one method uses (payload pseudo-instructions excluded)."""
        return {op for _pos, op in self._walk(code)}

    def _walk(self, code: MethodCode) -> Iterator[tuple[int, int]]:
        """(offset, opcode) of each real instruction of a method, stepping over switch/array payloads."""
        data = self.data
        pos, end = code.start, code.end
        while pos + 2 <= end:
            op = data[pos]
            if op == 0 and data[pos + 1]:
                units = payload_units(data, pos)
            else:
                units = INSN_UNITS[op]
                yield pos, op
            pos += 2 * max(units, 1)

    def proto_ids_matching(self, returns: str, params: set[tuple[str, ...]]) -> set[int]:
        """Proto ids with this return type and one of these parameter lists (type descriptors)."""
        found = set()
        for idx in range(self._proto_ids_size):
            _shorty, return_idx, params_off = struct.unpack_from("<III", self.data, self._proto_ids_off + 12 * idx)
            if self.type_name(return_idx) == returns and tuple(map(self.type_name, self._type_list(params_off))) in params:
                found.add(idx)
        return found

    def method_ids_with_proto(self, protos: set[int]) -> list[int]:
        raw = self.data[self._method_ids_off:self._method_ids_off + 8 * self._method_ids_size]
        return [i for i, (_c, proto, _n) in enumerate(struct.iter_unpack("<HHI", raw)) if proto in protos]

    def find_sites(self, ops: bytes, indices: set[int]) -> list[tuple[MethodCode, Insn]]:
        """Instructions with one of `ops` naming one of `indices`, confirmed by decoding."""
        return self.find_sites_many([(ops, indices)])[0]

    def find_sites_many(self, groups: list[tuple[bytes, set[int]]]) -> list[list[tuple[MethodCode, Insn]]]:
        """For each (ops, indices) group, the instructions that match it, in one pass over the file.

        A byte search finds candidates for all groups at once; only methods holding a candidate
        are decoded, and only confirmed instructions are returned.
        """
        hits: list[list[tuple[MethodCode, Insn]]] = [[] for _ in groups]
        live = [(ops, indices) for ops, indices in groups if indices]
        if not live:
            return hits
        for code in self._candidate_methods(live):
            for insn in self.decode(code):
                for group, (ops, indices) in enumerate(groups):
                    if insn.op in ops and insn.index in indices:
                        hits[group].append((code, insn))
        return hits

    def _candidate_methods(self, groups: list[tuple[bytes, set[int]]]) -> list[MethodCode]:
        """Methods holding a byte pattern of one of the groups, searched only where code lies."""
        starts, codes = self._code_ranges()
        if not codes:
            return []
        pattern = _site_pattern(groups)
        seen: dict[int, MethodCode] = {}
        for match in pattern.finditer(self.data, starts[0], self._code_end):
            offset = match.start()
            if offset & 1:
                continue
            code = self.method_at(offset)
            if code is not None:
                seen.setdefault(code.start, code)
        return list(seen.values())

    def find_string_ids(self, needle: bytes) -> set[int]:
        """Indices of strings that contain `needle`, found by a byte search of the string data."""
        found: set[int] = set()
        order = self._strings_by_offset()
        offsets = [self.string_offsets[i] for i in order]
        pos = self.data.find(needle)
        while pos >= 0:
            i = bisect.bisect_right(offsets, pos) - 1
            if i >= 0:
                idx = order[i]
                if needle.decode("utf-8", "replace") in self.string(idx):
                    found.add(idx)
            pos = self.data.find(needle, pos + 1)
        return found

    def _strings_by_offset(self) -> list[int]:
        cached = getattr(self, "_by_offset", None)
        if cached is None:
            cached = sorted(range(len(self.string_offsets)), key=self.string_offsets.__getitem__)
            self._by_offset = cached
        return cached


_REF_OPS = frozenset(INVOKE_OPS + FIELD_OPS + TYPE_OPS + bytes([CONST_STRING]))


def _site_pattern(groups: list[tuple[bytes, set[int]]]) -> re.Pattern[bytes]:
    """A lookahead regex matching <op><any byte><16-bit index> at every position (overlaps too).

    Measured on a 9 MB dex, one lookahead pass beats searching for each index with bytes.find
    (0.18 s against 0.66 s for 40 indices), so all groups share one pass.
    """
    branches = []
    for ops, indices in groups:
        op_class = b"[" + b"".join(re.escape(bytes([o])) for o in sorted(ops)) + b"]"
        alternatives = b"|".join(re.escape(struct.pack("<H", i & 0xFFFF)) for i in sorted(indices))
        branches.append(op_class + b".(?:" + alternatives + b")")
    return re.compile(b"(?=" + b"|".join(branches) + b")", re.DOTALL)
