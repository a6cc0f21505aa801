"""Full decoding of one method's Dalvik instructions: registers, indices, literals and branches.

The lean reader (reader.py) only needs the index that an instruction names. The data-flow engine
needs every operand: which register an instruction writes, which ones it reads, where a branch goes,
and which handlers catch what a try block throws. Decoding follows the instruction formats of
https://source.android.com/docs/core/runtime/instruction-formats and the opcode table of
https://source.android.com/docs/core/runtime/dalvik-bytecode; every read is bounds-checked so that
tampered code ends the walk instead of raising.
"""

from __future__ import annotations

import struct

from auditor.dex.opcodes import INSN_UNITS, payload_units
from auditor.dex.reader import DexFormatError
from auditor.dex.reader import _uleb as _uleb
from auditor.records import record

# Formats by opcode. Names follow the platform's format ids (e.g. "22c": 2 units, 2 registers, index).
_FORMATS: dict[int, str] = {}


def _set(fmt: str, *ops: int) -> None:
    for op in ops:
        _FORMATS[op] = fmt


_set("10x", 0x00, 0x0E, *range(0x3E, 0x44), 0x73, 0x79, 0x7A, *range(0xE3, 0xFA))
_set("12x", 0x01, 0x04, 0x07, 0x21, *range(0x7B, 0x90), *range(0xB0, 0xD0))
_set("22x", 0x02, 0x05, 0x08)
_set("32x", 0x03, 0x06, 0x09)
_set("11x", 0x0A, 0x0B, 0x0C, 0x0D, 0x0F, 0x10, 0x11, 0x1D, 0x1E, 0x27)
_set("11n", 0x12)
_set("21s", 0x13, 0x16)
_set("31i", 0x14, 0x17)
_set("21h", 0x15, 0x19)
_set("51l", 0x18)
_set("21c", 0x1A, 0x1C, 0x1F, 0x22, *range(0x60, 0x6E), 0xFE, 0xFF)
_set("31c", 0x1B)
_set("22c", 0x20, 0x23, *range(0x52, 0x60))
_set("35c", 0x24, *range(0x6E, 0x73), 0xFC)
_set("3rc", 0x25, *range(0x74, 0x79), 0xFD)
_set("31t", 0x26, 0x2B, 0x2C)
_set("10t", 0x28)
_set("20t", 0x29)
_set("30t", 0x2A)
_set("23x", *range(0x2D, 0x32), *range(0x44, 0x52), *range(0x90, 0xB0))
_set("22t", *range(0x32, 0x38))
_set("21t", *range(0x38, 0x3E))
_set("22s", *range(0xD0, 0xD8))
_set("22b", *range(0xD8, 0xE3))
_set("45cc", 0xFA)
_set("4rcc", 0xFB)

RETURNS = frozenset({0x0E, 0x0F, 0x10, 0x11})
GOTOS = frozenset({0x28, 0x29, 0x2A})
THROW = 0x27
SWITCHES = frozenset({0x2B, 0x2C})


@record(slots=True)
class Instruction:
    """One decoded instruction.

    `pc` is the offset in code units from the method's first instruction. `regs` lists the
    register operands in format order (vA, vB, vC... or the argument list of an invoke). `index`
    is the method, field, type or string index the instruction names, or its literal. `targets`
    are branch destinations (pc), without the fall-through.
    """

    pc: int
    op: int
    regs: tuple[int, ...]
    index: int
    targets: tuple[int, ...] = ()

    @property
    def falls_through(self) -> bool:
        return self.op not in GOTOS and self.op not in RETURNS and self.op != THROW


@record(slots=True)
class TryBlock:
    """Instructions [start, end) in pc units, and the pcs of the handlers that catch from them."""

    start: int
    end: int
    handlers: tuple[int, ...]


@record
class MethodBody:
    registers: int
    ins: int
    insns: tuple[Instruction, ...]
    tries: tuple[TryBlock, ...]


def _s8(value: int) -> int:
    return value - 0x100 if value & 0x80 else value


def _s16(value: int) -> int:
    return value - 0x10000 if value & 0x8000 else value


def _s32(value: int) -> int:
    return value - 0x1_0000_0000 if value & 0x8000_0000 else value


def _decode_one(data: bytes, pos: int, pc: int, op: int, base: int) -> Instruction:
    fmt = _FORMATS.get(op, "10x")
    b1 = data[pos + 1]
    u16 = struct.unpack_from("<H", data, pos + 2)[0] if fmt not in ("10x", "12x", "11x", "11n", "10t") else 0
    if fmt == "10x":
        return Instruction(pc, op, (), 0)
    if fmt == "12x":
        return Instruction(pc, op, (b1 & 0xF, b1 >> 4), 0)
    if fmt == "11n":
        return Instruction(pc, op, (b1 & 0xF,), (b1 >> 4) - 16 if b1 & 0x80 else b1 >> 4)
    if fmt == "11x":
        return Instruction(pc, op, (b1,), 0)
    if fmt == "10t":
        return Instruction(pc, op, (), 0, (pc + _s8(b1),))
    if fmt == "20t":
        return Instruction(pc, op, (), 0, (pc + _s16(u16),))
    if fmt == "22x":
        return Instruction(pc, op, (b1, u16), 0)
    if fmt == "32x":
        return Instruction(pc, op, struct.unpack_from("<HH", data, pos + 2), 0)
    if fmt in ("21s", "21h", "21c"):
        return Instruction(pc, op, (b1,), u16)
    if fmt == "21t":
        return Instruction(pc, op, (b1,), 0, (pc + _s16(u16),))
    if fmt == "23x":
        return Instruction(pc, op, (b1, data[pos + 2], data[pos + 3]), 0)
    if fmt == "22b":
        return Instruction(pc, op, (b1, data[pos + 2]), _s8(data[pos + 3]))
    if fmt in ("22s", "22c"):
        return Instruction(pc, op, (b1 & 0xF, b1 >> 4), u16)
    if fmt == "22t":
        return Instruction(pc, op, (b1 & 0xF, b1 >> 4), 0, (pc + _s16(u16),))
    if fmt == "30t":
        return Instruction(pc, op, (), 0, (pc + _s32(struct.unpack_from("<I", data, pos + 2)[0]),))
    if fmt in ("31i", "31c"):
        return Instruction(pc, op, (b1,), struct.unpack_from("<I", data, pos + 2)[0])
    if fmt == "31t":
        offset = _s32(struct.unpack_from("<I", data, pos + 2)[0])
        targets = _switch_targets(data, base, pc, pc + offset) if op in SWITCHES else ()
        return Instruction(pc, op, (b1,), pc + offset, targets)
    if fmt in ("35c", "45cc"):
        count, g = b1 >> 4, b1 & 0xF
        packed = struct.unpack_from("<H", data, pos + 4)[0]
        regs = (packed & 0xF, (packed >> 4) & 0xF, (packed >> 8) & 0xF, packed >> 12, g)
        return Instruction(pc, op, regs[:min(count, 5)], u16)
    if fmt in ("3rc", "4rcc"):
        first = struct.unpack_from("<H", data, pos + 4)[0]
        return Instruction(pc, op, tuple(range(first, first + b1)), u16)
    if fmt == "51l":
        return Instruction(pc, op, (b1,), 0)
    return Instruction(pc, op, (), 0)


def _switch_targets(data: bytes, base: int, pc: int, payload_pc: int) -> tuple[int, ...]:
    """Destinations of a packed or sparse switch, read from its payload (bounds-checked)."""
    pos = base + 2 * payload_pc
    if pos < base or pos + 4 > len(data):
        return ()
    ident, size = struct.unpack_from("<HH", data, pos)
    if ident == 0x0100:
        first = pos + 8
    elif ident == 0x0200:
        first = pos + 4 + 4 * size
    else:
        return ()
    if first + 4 * size > len(data):
        return ()
    return tuple(pc + _s32(v) for v in struct.unpack_from(f"<{size}I", data, first))


def decode_body(data: bytes, start: int, end: int) -> MethodBody:
    """Every instruction of the method whose instructions occupy data[start:end].

    `start` is the first instruction's byte offset (the code_item begins 16 bytes earlier and
    holds the register count, the incoming-argument count and the try table).
    """
    code_off = start - 16
    registers, ins, _outs, tries_size = struct.unpack_from("<HHHH", data, code_off)
    end = min(end, len(data))
    out: list[Instruction] = []
    pos = start
    while pos + 2 <= end:
        op = data[pos]
        if op == 0 and data[pos + 1]:
            units = payload_units(data, pos)
        else:
            units = INSN_UNITS[op]
            if pos + 2 * units > end:
                break
            out.append(_decode_one(data, pos, (pos - start) // 2, op, start))
        pos += 2 * max(units, 1)
    return MethodBody(registers, ins, tuple(out), _tries(data, start, end, tries_size))


def _sleb(data: bytes, pos: int) -> tuple[int, int]:
    start = pos
    value, pos = _uleb(data, pos)
    bits = 7 * (pos - start)
    return (value - (1 << bits) if value & (1 << (bits - 1)) else value), pos


def _tries(data: bytes, start: int, end: int, count: int) -> tuple[TryBlock, ...]:
    """The try table and its handlers; a damaged table gives no handlers rather than an error."""
    if not count:
        return ()
    table = end + 2 if (end - start) % 4 else end
    handlers_base = table + 8 * count
    blocks = []
    try:
        for i in range(min(count, 65535)):
            try_start, insn_count, handler_off = struct.unpack_from("<IHH", data, table + 8 * i)
            pos = handlers_base + handler_off
            size, pos = _sleb(data, pos)
            targets = []
            for _ in range(min(abs(size), 256)):
                _type, pos = _uleb(data, pos)
                addr, pos = _uleb(data, pos)
                targets.append(addr)
            if size <= 0:
                addr, pos = _uleb(data, pos)
                targets.append(addr)
            blocks.append(TryBlock(try_start, try_start + insn_count, tuple(targets)))
    except (IndexError, struct.error, DexFormatError):
        return tuple(blocks)
    return tuple(blocks)
