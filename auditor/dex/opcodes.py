"""Instruction widths of the Dalvik bytecode, in 16-bit code units.

Source: https://source.android.com/docs/core/runtime/dalvik-bytecode (instruction formats).
Only widths are needed: the reader steps over every instruction and looks inside the few that
carry a method, field, type or string index.
"""

from __future__ import annotations

import struct


def _widths() -> bytes:
    units = [1] * 256
    spans = {
        2: [0x02, 0x05, 0x08, 0x13, 0x15, 0x16, 0x19, 0x1A, 0x1C, 0x1F, 0x20, 0x22, 0x23, 0x29,
            0xFE, 0xFF],
        3: [0x03, 0x06, 0x09, 0x14, 0x17, 0x1B, 0x24, 0x25, 0x26, 0x2A, 0x2B, 0x2C, 0xFC, 0xFD],
        4: [0xFA, 0xFB],
        5: [0x18],
    }
    for width, ops in spans.items():
        for op in ops:
            units[op] = width
    ranges = [(0x2D, 0x31, 2), (0x32, 0x3D, 2), (0x44, 0x6D, 2), (0x6E, 0x72, 3), (0x74, 0x78, 3),
              (0x90, 0xAF, 2), (0xD0, 0xE2, 2)]
    for low, high, width in ranges:
        for op in range(low, high + 1):
            units[op] = width
    return bytes(units)


INSN_UNITS: bytes = _widths()
"""INSN_UNITS[opcode] is the instruction's width in code units."""


def payload_units(data: bytes, pos: int) -> int:
    """Width of a switch or array payload pseudo-instruction starting at `pos` (ident 0x0100-0x0300).

    An unknown ident is treated as a one-unit nop, which keeps a walk over tampered code moving.
    """
    ident = data[pos + 1]
    try:
        if ident == 0x01:
            (size,) = struct.unpack_from("<H", data, pos + 2)
            return 4 + 2 * int(size)
        if ident == 0x02:
            (size,) = struct.unpack_from("<H", data, pos + 2)
            return 2 + 4 * int(size)
        if ident == 0x03:
            width, size = struct.unpack_from("<HI", data, pos + 2)
            return 4 + (int(width) * int(size) + 1) // 2
    except struct.error:
        return 1
    return 1
