"""Deterministic mutations of APK and bundle bytes, for the fuzz harness and the CI sample.

Every mutant is a pure function of (source bytes, source name, seed): `mutate()` draws a plan of
operations from `random.Random(f"{name}:{seed}")`, and each operation gets its own generator
seeded from (name, seed, position in the plan), so dropping one operation of a plan (which is how
the harness minimises a crash) leaves the others' choices unchanged.

Operations come in three families:

* raw: bit flips, overwritten byte runs, truncation, inserted/deleted/duplicated spans, prefixes
  and trailers, and targeted tampering of zip records found by a tolerant scan (local header
  method/sizes/name length, central-directory offsets/CRCs/sizes, end-record counts/offsets,
  fake zip64 end records, the APK Signing Block's length fields);
* entry: the archive is read with zipfile and written back by `build_zip()` (our own writer, so
  that names with NUL bytes, duplicate names and lying sizes are possible) after duplicating,
  colliding ("AndroidManifest.xml/x"), renaming ("..", NUL, non-UTF-8), dropping or
  recompressing entries, or after mutating an inner file in a format-aware way: classes.dex
  header offsets/sizes, class_defs, code_item insns_size and instructions, string and method
  ids; AndroidManifest.xml and resources.arsc chunk headers; inner APKs of bundles (recursively);
* generative: bundles nested in bundles (an .apks in an .xapk in an .apks...), a self-similar
  bundle whose entries overlap so that each level contains the next, and small zip bombs (a
  high-ratio deflate entry named classes.dex, with honest or lying sizes).
"""

from __future__ import annotations

import bz2
import functools
import io
import json
import random
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from .axml import hostile_manifest
from .manifest_mutants import mutate_manifest, op_attribute_flood

STORED = 0
DEFLATED = 8

INTERESTING_16 = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF)
INTERESTING_32 = (0, 1, 2, 4, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
                  0xFFFFFFFE, 0xFFFFFFFF)
METHODS = (0, 1, 6, 8, 9, 12, 14, 93, 95, 98, 99, 21, 30208, 0xFFFF)
"""Zip compression methods worth trying: stored, deflate, deflate64, bzip2, lzma, zstd, AES,
and the odd values malware uses (21, 30208)."""

LFH_FIELDS: dict[str, tuple[int, int]] = {
    "version": (4, 2), "flags": (6, 2), "method": (8, 2), "time": (10, 2), "crc": (14, 4),
    "csize": (18, 4), "usize": (22, 4), "name_len": (26, 2), "extra_len": (28, 2),
}
CDR_FIELDS: dict[str, tuple[int, int]] = {
    "made_by": (4, 2), "flags": (8, 2), "method": (10, 2), "crc": (16, 4), "csize": (20, 4),
    "usize": (24, 4), "name_len": (28, 2), "extra_len": (30, 2), "comment_len": (32, 2),
    "disk": (34, 2), "local_offset": (42, 4),
}
EOCD_FIELDS: dict[str, tuple[int, int]] = {
    "disk": (4, 2), "cd_disk": (6, 2), "count_disk": (8, 2), "count": (10, 2), "cd_size": (12, 4),
    "cd_offset": (16, 4), "comment_len": (20, 2),
}
DEX_HEADER_FIELDS: dict[str, int] = {
    "file_size": 0x20, "header_size": 0x24, "endian_tag": 0x28, "link_size": 0x2C, "link_off": 0x30,
    "map_off": 0x34, "string_ids_size": 0x38, "string_ids_off": 0x3C, "type_ids_size": 0x40,
    "type_ids_off": 0x44, "proto_ids_size": 0x48, "proto_ids_off": 0x4C, "field_ids_size": 0x50,
    "field_ids_off": 0x54, "method_ids_size": 0x58, "method_ids_off": 0x5C, "class_defs_size": 0x60,
    "class_defs_off": 0x64, "data_size": 0x68, "data_off": 0x6C,
}
DEX_TABLES: dict[str, tuple[int, int]] = {
    # name: (offset of the size field in the header, record width)
    "string_ids": (0x38, 4), "type_ids": (0x40, 4), "proto_ids": (0x48, 12), "field_ids": (0x50, 8),
    "method_ids": (0x58, 8), "class_defs": (0x60, 32),
}
CLASS_DEF_FIELDS = ("class_idx", "access_flags", "superclass_idx", "interfaces_off", "source_file_idx",
                    "annotations_off", "class_data_off", "static_values_off")
LAYOUT_MARKERS = ("toc.pb", "manifest.json", "meta.sai_v1.json", "meta.sai_v2.json", "info.json")


# -- mutants ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """One generated input: its bytes, where it came from and what was done to it."""

    data: bytes
    source: str
    seed: int
    plan: tuple[tuple[int, str], ...]
    """(position, operation name) pairs; the position seeds the operation's own generator."""
    notes: tuple[str, ...] = ()
    """One line per operation saying what it did (offsets, fields, values)."""
    suffix: str = ".apk"

    def describe(self) -> str:
        return "; ".join(self.notes) or "(no change)"


@dataclass(frozen=True)
class Context:
    """What operations may use besides the input: the source name and pristine APKs to nest."""

    source: str
    pool: tuple[bytes, ...] = ()
    depth: int = 0
    """Nesting of `inner_apk` mutations (an APK mutated inside a bundle inside ...)."""


Operation = Callable[[random.Random, bytes, Context], tuple[bytes, str]]


# -- small helpers ------------------------------------------------------------------------------


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80 or shift >= 28:
            return result, pos
        shift += 7


def _put(data: bytes, pos: int, width: int, value: int) -> bytes:
    """`data` with the little-endian field of `width` bytes at `pos` set to `value` (masked)."""
    if pos < 0 or pos + width > len(data):
        return data
    value &= (1 << (8 * width)) - 1
    return data[:pos] + value.to_bytes(width, "little") + data[pos + width:]


def _get(data: bytes, pos: int, width: int) -> int:
    if pos < 0 or pos + width > len(data):
        return 0
    return int.from_bytes(data[pos:pos + width], "little")


def interesting(rng: random.Random, current: int, width: int, related: Sequence[int] = ()) -> int:
    """A value likely to break a parser: a boundary, a small change, a related size, or noise."""
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(INTERESTING_16 if width == 2 else INTERESTING_32)
    if roll < 0.6:
        return max(0, current + rng.choice((-4, -2, -1, 1, 2, 4, 8, 16, 256, -256)))
    if roll < 0.8 and related:
        return max(0, rng.choice(related) + rng.choice((-1, 0, 0, 1)))
    return rng.getrandbits(8 * width)


def _u32_values(rng: random.Random, size: int, current: int) -> int:
    return interesting(rng, current, 4, (size, size // 2, size - 1, size - 4, size + 1, 0x70))


# -- a raw zip writer (zipfile refuses NUL names and lies) ---------------------------------------


@dataclass
class RawEntry:
    """An entry for `build_zip`; unset sizes/CRC are computed, set ones are written as given."""

    name: bytes
    data: bytes
    method: int = DEFLATED
    payload: bytes | None = None
    """Compressed bytes to write instead of compressing `data`."""
    flags: int = 0
    crc: int | None = None
    csize: int | None = None
    usize: int | None = None
    extra: bytes = b""
    comment: bytes = b""
    local_name: bytes | None = None
    zip64: tuple[int, int, int] | None = None
    """Write the sizes and offset as 0xFFFFFFFF with a zip64 extra block holding these
    (usize, csize, offset) values; -1 stands for the true value."""
    descriptor: str | None = None
    """"sig32", "nosig32" or "sig64": zero CRC/sizes in the local header and a data descriptor."""


def _compress(data: bytes, method: int) -> bytes:
    if method == STORED:
        return data
    if method == 12:
        return bz2.compress(data)
    if method in (DEFLATED, 9) or method % 2:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush()
    return data


def build_zip(entries: Sequence[RawEntry], comment: bytes = b"", prefix: bytes = b"") -> bytes:
    """Write a zip with exactly these entries (duplicates, odd names, zip64 fields and all)."""
    out = bytearray(prefix)
    central = bytearray()
    for entry in entries:
        payload = entry.payload if entry.payload is not None else _compress(entry.data, entry.method)
        crc = zlib.crc32(entry.data) if entry.crc is None else entry.crc
        csize = len(payload) if entry.csize is None else entry.csize
        usize = len(entry.data) if entry.usize is None else entry.usize
        offset = len(out)
        local_name = entry.name if entry.local_name is None else entry.local_name
        flags = entry.flags | (8 if entry.descriptor else 0)
        local_extra = central_extra = entry.extra
        local_sizes = (crc, csize, usize)
        central_fields = (csize, usize, offset)
        if entry.zip64 is not None:
            values = [true if given == -1 else given for given, true in zip(entry.zip64, (usize, csize, offset), strict=True)]
            local_extra = struct.pack("<HHQQ", 1, 16, values[0], values[1]) + entry.extra
            central_extra = struct.pack("<HHQQQ", 1, 24, *values) + entry.extra
            local_sizes = (crc, 0xFFFFFFFF, 0xFFFFFFFF)
            central_fields = (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        if entry.descriptor:
            local_sizes = (0, 0, 0)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags & 0xFFFF, entry.method & 0xFFFF, 0, 0x21,
                           local_sizes[0] & 0xFFFFFFFF, local_sizes[1] & 0xFFFFFFFF, local_sizes[2] & 0xFFFFFFFF,
                           len(local_name) & 0xFFFF, len(local_extra) & 0xFFFF)
        out += local_name + local_extra + payload
        if entry.descriptor == "sig64":
            out += struct.pack("<IIQQ", 0x08074B50, crc & 0xFFFFFFFF, csize, usize)
        elif entry.descriptor:
            head = struct.pack("<I", 0x08074B50) if entry.descriptor == "sig32" else b""
            out += head + struct.pack("<III", crc & 0xFFFFFFFF, csize & 0xFFFFFFFF, usize & 0xFFFFFFFF)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x314, 20, flags & 0xFFFF, entry.method & 0xFFFF, 0,
                               0x21, crc & 0xFFFFFFFF, central_fields[0] & 0xFFFFFFFF, central_fields[1] & 0xFFFFFFFF,
                               len(entry.name) & 0xFFFF, len(central_extra) & 0xFFFF, len(entry.comment) & 0xFFFF,
                               0, 0, 0, central_fields[2] & 0xFFFFFFFF)
        central += entry.name + central_extra + entry.comment
    cd_offset = len(out)
    out += central
    count = min(len(entries), 0xFFFF)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), cd_offset, len(comment) & 0xFFFF)
    return bytes(out + comment)


def read_entries(data: bytes) -> list[RawEntry] | None:
    """The entries of a well-formed zip, or None when zipfile cannot read all of them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            out = []
            for info in archive.infolist():
                info.flag_bits &= ~0x41  # read "encrypted" entries as plain, as Android does
                raw_name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
                method = info.compress_type if info.compress_type in (STORED, DEFLATED) else DEFLATED
                out.append(RawEntry(raw_name, archive.read(info), method))
            return out
    except Exception:  # zipfile raises many kinds of exception on mutated input
        return None


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04" and read_entries(data) is not None


# -- zip structure scan -------------------------------------------------------------------------


@dataclass
class ZipLayout:
    """Where the records of a (possibly damaged) zip are, found tolerantly."""

    eocd: int | None
    central: list[int] = field(default_factory=list)
    local: list[int] = field(default_factory=list)


def zip_layout(data: bytes) -> ZipLayout:
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    layout = ZipLayout(eocd if eocd >= 0 and eocd + 22 <= len(data) else None)
    if layout.eocd is not None:
        count = _get(data, layout.eocd + 10, 2)
        pos = _get(data, layout.eocd + 16, 4)
        for _ in range(count):
            if data[pos:pos + 4] != b"PK\x01\x02" or pos + 46 > len(data):
                break
            layout.central.append(pos)
            layout.local.append(_get(data, pos + 42, 4))
            pos += 46 + _get(data, pos + 28, 2) + _get(data, pos + 30, 2) + _get(data, pos + 32, 2)
    if not layout.central:
        layout.central = _find_all(data, b"PK\x01\x02")
    layout.local = [p for p in layout.local if data[p:p + 4] == b"PK\x03\x04"] or _find_all(data, b"PK\x03\x04")
    return layout


def _find_all(data: bytes, needle: bytes, limit: int = 4096) -> list[int]:
    found: list[int] = []
    pos = data.find(needle)
    while pos >= 0 and len(found) < limit:
        found.append(pos)
        pos = data.find(needle, pos + 1)
    return found


# -- raw operations -----------------------------------------------------------------------------


def op_bit_flip(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    if not data:
        return data, "bit_flip skipped (empty)"
    out = bytearray(data)
    spots = []
    for _ in range(rng.choice((1, 1, 2, 4, 8, 16))):
        pos = rng.randrange(len(out))
        out[pos] ^= 1 << rng.randrange(8)
        spots.append(pos)
    return bytes(out), f"bit_flip at {spots[:8]}"


def op_byte_run(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    if not data:
        return data, "byte_run skipped (empty)"
    pos = rng.randrange(len(data))
    length = rng.choice((1, 2, 4, 8, 16, 64, 256))
    fill = rng.choice(("zero", "ff", "random", "repeat"))
    if fill == "zero":
        run = bytes(length)
    elif fill == "ff":
        run = b"\xff" * length
    elif fill == "random":
        run = rng.randbytes(length)
    else:
        run = bytes([rng.randrange(256)]) * length
    out = data[:pos] + run + data[pos + length:]
    return out[:len(data)], f"byte_run {fill} x{length} at {pos}"


def op_interesting_int(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    width = rng.choice((2, 4))
    if len(data) < width:
        return data, "interesting_int skipped (short)"
    pos = rng.randrange(len(data) - width + 1) & ~(width - 1 if rng.random() < 0.5 else 0)
    value = interesting(rng, _get(data, pos, width), width, (len(data),))
    return _put(data, pos, width, value), f"u{8 * width} at {pos} = {value:#x}"


def op_truncate(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    if len(data) < 2:
        return data, "truncate skipped (short)"
    roll = rng.random()
    if roll < 0.3:
        cut = len(data) - rng.randrange(1, min(len(data), 64))
    elif roll < 0.4:
        layout = zip_layout(data)
        cut = (layout.eocd or len(data)) + rng.randrange(0, 22)
    else:
        cut = rng.randrange(1, len(data))
    return data[:cut], f"truncate to {cut} of {len(data)}"


def op_splice(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Insert, delete or duplicate a span (shifts every offset after it)."""
    if len(data) < 8:
        return data, "splice skipped (short)"
    pos = rng.randrange(len(data))
    length = rng.choice((1, 4, 30, 46, 100, 1000))
    kind = rng.choice(("insert", "delete", "duplicate"))
    if kind == "insert":
        return data[:pos] + rng.randbytes(length) + data[pos:], f"insert {length} random bytes at {pos}"
    if kind == "delete":
        return data[:pos] + data[pos + length:], f"delete {length} bytes at {pos}"
    return data[:pos + length] + data[pos:], f"duplicate {length} bytes at {pos}"


def op_prefix(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Prepend data (Janus-style dex, an executable, another zip, junk) and maybe fix offsets."""
    kind = rng.choice(("dex", "mz", "zip", "junk", "lfh"))
    if kind == "dex":
        head = b"dex\n035\x00" + rng.randbytes(rng.choice((8, 104, 1000)))
    elif kind == "mz":
        head = b"MZ" + bytes(62)
    elif kind == "zip":
        head = rng.choice(ctx.pool) if ctx.pool else b"PK\x03\x04"
    elif kind == "lfh":
        head = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, 0, 0, 0, rng.choice((0, 4, 100)))
        head += bytes(_get(head, 28, 2))
    else:
        head = rng.randbytes(rng.choice((1, 3, 64, 4096)))
    out = head + data
    fixed = rng.random() < 0.5
    if fixed:
        layout = zip_layout(data)
        for pos in layout.central:
            out = _put(out, len(head) + pos + 42, 4, _get(data, pos + 42, 4) + len(head))
        if layout.eocd is not None:
            out = _put(out, len(head) + layout.eocd + 16, 4, _get(data, layout.eocd + 16, 4) + len(head))
    return out, f"prefix {kind} ({len(head)} bytes, offsets {'fixed' if fixed else 'kept'})"


def op_trailer(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Append junk, a second end record, or a comment whose declared length lies."""
    kind = rng.choice(("junk", "eocd", "comment"))
    if kind == "junk":
        tail = rng.randbytes(rng.choice((1, 21, 22, 100, 70000)))
        return data + tail, f"trailer junk {len(tail)}"
    if kind == "eocd":
        record = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, rng.choice((0, 1, 0xFFFF)), rng.choice((0, 1, 0xFFFF)),
                             rng.getrandbits(32), rng.getrandbits(32), rng.choice((0, 5, 0xFFFF)))
        return data + record, "trailer second end record"
    layout = zip_layout(data)
    if layout.eocd is None:
        return data, "trailer comment skipped (no end record)"
    declared = rng.choice((0, 1, 10, 0xFFFF))
    actual = rng.choice((0, 10, 100))
    out = _put(data, layout.eocd + 20, 2, declared) + rng.randbytes(actual)
    return out, f"end-record comment declares {declared}, {actual} follow"


def _tamper_record(rng: random.Random, data: bytes, starts: list[int], fields: dict[str, tuple[int, int]],
                   what: str) -> tuple[bytes, str]:
    if not starts:
        return data, f"{what} skipped (no record)"
    start = rng.choice(starts)
    name = rng.choice(list(fields))
    offset, width = fields[name]
    current = _get(data, start + offset, width)
    if name == "method":
        value = rng.choice(METHODS)
    elif name == "flags":
        value = current ^ rng.choice((0x1, 0x8, 0x800, 0x1 | 0x8, 0x40, 0xFFFF))
    else:
        value = interesting(rng, current, width, (len(data), start, len(data) - start))
    return _put(data, start + offset, width, value), f"{what}@{start}.{name} {current:#x} -> {value:#x}"


def op_local_header(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    return _tamper_record(rng, data, zip_layout(data).local, LFH_FIELDS, "local")


def op_central_record(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    return _tamper_record(rng, data, zip_layout(data).central, CDR_FIELDS, "central")


def op_end_record(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    layout = zip_layout(data)
    return _tamper_record(rng, data, [] if layout.eocd is None else [layout.eocd], EOCD_FIELDS, "eocd")


def op_method_both(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Give one entry the same odd method in both headers (so only the data tells)."""
    layout = zip_layout(data)
    if not layout.central:
        return data, "method_both skipped (no record)"
    index = rng.randrange(len(layout.central))
    method = rng.choice(METHODS)
    out = _put(data, layout.central[index] + 10, 2, method)
    if index < len(layout.local):
        out = _put(out, layout.local[index] + 8, 2, method)
    if rng.random() < 0.3:
        out = _put(out, layout.central[index] + 8, 2, _get(out, layout.central[index] + 8, 2) | 1)
    return out, f"entry {index} method {method} in both headers"


def op_zip64(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Saturate end-record fields and insert a zip64 end record and locator with chosen values."""
    layout = zip_layout(data)
    if layout.eocd is None:
        return data, "zip64 skipped (no end record)"
    eocd = layout.eocd
    count = _get(data, eocd + 10, 2)
    size = _get(data, eocd + 12, 4)
    offset = _get(data, eocd + 16, 4)
    values = [count, size, offset]
    which = rng.randrange(3)
    values[which] = interesting(rng, values[which], 8, (len(data), eocd))
    record_at = eocd
    record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, values[0], values[0], values[1], values[2])
    locator_target = rng.choice((record_at, record_at, 0, rng.getrandbits(64)))
    locator = struct.pack("<IIQI", 0x07064B50, 0, locator_target, 1)
    end = data[eocd:]
    end = _put(end, 10, 2, 0xFFFF) if rng.random() < 0.7 else end
    end = _put(end, 16, 4, 0xFFFFFFFF) if rng.random() < 0.5 else end
    out = data[:eocd] + record + locator + end
    if rng.random() < 0.4 and layout.central:
        # also saturate one central record's sizes/offset without (or with a short) zip64 extra
        pos = rng.choice(layout.central)
        out = _put(out, pos + rng.choice((20, 24, 42)), 4, 0xFFFFFFFF)
    return out, f"zip64 end record (field {which} = {values[which]:#x}, locator -> {locator_target:#x})"


def op_signing_block(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Tamper the APK Signing Block's u64 sizes, pair lengths or contents."""
    magic = data.rfind(b"APK Sig Block 42")
    if magic < 24:
        return data, "signing_block skipped (none)"
    size_at = magic - 8
    size = _get(data, size_at, 8)
    start = magic + 16 - size - 8
    choice = rng.choice(("tail_size", "head_size", "pair", "bytes"))
    if choice == "tail_size":
        return _put(data, size_at, 8, interesting(rng, size, 8, (len(data), size * 2))), "signing block tail size"
    if choice == "head_size" and start >= 0:
        return _put(data, start, 8, interesting(rng, size, 8, (len(data),))), "signing block head size"
    if choice == "pair" and start >= 0:
        pos = start + 8
        return _put(data, pos, 8, interesting(rng, _get(data, pos, 8), 8, (size,))), "signing block first pair length"
    lo = max(0, start)
    pos = rng.randrange(lo, magic) if magic > lo else lo
    return _put(data, pos & ~3, 4, interesting(rng, _get(data, pos & ~3, 4), 4, (size,))), f"signing block u32 at {pos & ~3}"


# -- dex mutations ------------------------------------------------------------------------------


NO_INDEX_32 = 0xFFFFFFFF


def dex_class_data(dex: bytes) -> tuple[list[int], list[int]]:
    """(class_data offsets, code_item offsets) of a dex, parsed leniently and independently of
    the auditor's own reader (so a bug there cannot hide targets here)."""
    class_data: list[int] = []
    seen: set[int] = set()
    codes: list[int] = []
    try:
        size, off = struct.unpack_from("<II", dex, 0x60)
        for i in range(min(size, 4096)):
            data_off = struct.unpack_from("<I", dex, off + 32 * i + 24)[0]
            if not data_off or data_off in seen:
                continue  # classes sharing one item: walk it once
            seen.add(data_off)
            class_data.append(data_off)
            pos = data_off
            counts = []
            for _ in range(4):
                value, pos = _uleb(dex, pos)
                counts.append(value)
            for _ in range(2 * (counts[0] + counts[1])):
                _, pos = _uleb(dex, pos)
            for _ in range(min(counts[2] + counts[3], len(dex) - pos)):
                _, pos = _uleb(dex, pos)
                _, pos = _uleb(dex, pos)
                code_off, pos = _uleb(dex, pos)
                if code_off:
                    codes.append(code_off)
    except (struct.error, IndexError):
        pass
    return class_data, codes


def _dex_header(rng: random.Random, dex: bytes) -> tuple[bytes, str]:
    name = rng.choice(list(DEX_HEADER_FIELDS))
    pos = DEX_HEADER_FIELDS[name]
    current = _get(dex, pos, 4)
    related = [len(dex), len(dex) - 1, 0x70, *(_get(dex, p, 4) for p in DEX_HEADER_FIELDS.values())]
    for table, (size_at, width) in DEX_TABLES.items():
        if name == f"{table}_size":
            # the largest size that still fits, and one more
            off = _get(dex, size_at + 4, 4)
            related += [max(0, (len(dex) - off) // width), max(0, (len(dex) - off) // width) + 1]
        if name == f"{table}_off":
            count = _get(dex, size_at, 4)
            related += [max(0, len(dex) - count * width), max(0, len(dex) - count * width) + 1]
    value = interesting(rng, current, 4, related)
    return _put(dex, pos, 4, value), f"dex header {name} {current:#x} -> {value:#x}"


def _dex_table_entry(rng: random.Random, dex: bytes) -> tuple[bytes, str]:
    table = rng.choice(list(DEX_TABLES))
    size_at, width = DEX_TABLES[table]
    size, off = _get(dex, size_at, 4), _get(dex, size_at + 4, 4)
    if not size or off + size * width > len(dex):
        return dex, f"dex {table} entry skipped"
    index = rng.randrange(min(size, 1 << 16))
    if table == "class_defs":
        field_index = rng.randrange(8)
        label = CLASS_DEF_FIELDS[field_index]
        pos, fwidth = off + 32 * index + 4 * field_index, 4
    elif table in ("method_ids", "field_ids"):
        pos, fwidth, label = rng.choice(((off + 8 * index, 2, "class_idx"), (off + 8 * index + 2, 2, "proto/type_idx"),
                                         (off + 8 * index + 4, 4, "name_idx")))
    elif table == "proto_ids":
        part = rng.randrange(3)
        pos, fwidth, label = off + 12 * index + 4 * part, 4, ("shorty_idx", "return_type_idx", "parameters_off")[part]
    else:
        pos, fwidth, label = off + 4 * index, 4, "value"
    current = _get(dex, pos, fwidth)
    value = interesting(rng, current, fwidth, (len(dex), len(dex) - 1, len(dex) - 2, size, off))
    return _put(dex, pos, fwidth, value), f"dex {table}[{index}].{label} {current:#x} -> {value:#x}"


def _dex_code_item(rng: random.Random, dex: bytes) -> tuple[bytes, str]:
    _, codes = dex_class_data(dex)
    codes = [c for c in codes if c + 16 <= len(dex)]
    if not codes:
        return dex, "dex code_item skipped (none)"
    code = rng.choice(codes)
    insns = _get(dex, code + 12, 4)
    kind = rng.choice(("insns_size", "insns_size", "header", "opcode", "payload", "index"))
    if kind == "insns_size":
        value = interesting(rng, insns, 4, (len(dex), (len(dex) - code) // 2, (len(dex) - code - 16) // 2 + 1))
        return _put(dex, code + 12, 4, value), f"dex code_item@{code}.insns_size {insns} -> {value:#x}"
    if kind == "header":
        pos, width = rng.choice(((code, 2), (code + 2, 2), (code + 4, 2), (code + 6, 2), (code + 8, 4)))
        value = interesting(rng, _get(dex, pos, width), width, (len(dex),))
        return _put(dex, pos, width, value), f"dex code_item@{code} header u{8 * width}@{pos - code} -> {value:#x}"
    start = code + 16
    end = min(len(dex), start + 2 * insns)
    if end - start < 2:
        return dex, "dex code_item skipped (no instructions)"
    pos = start + 2 * rng.randrange((end - start) // 2)
    if kind == "opcode":
        op = rng.choice((0x00, 0x1A, 0x1B, 0x22, 0x6E, 0x71, 0x72, 0x74, 0x2B, 0x2C, 0x26, 0xFA, 0xFF, rng.randrange(256)))
        return _put(dex, pos, 1, op), f"dex insn@{pos} opcode -> {op:#x}"
    if kind == "payload":
        ident = rng.choice((0x01, 0x02, 0x03, 0x04, 0xFF))
        unit = bytes([0, ident]) + struct.pack("<HI", rng.choice((0, 1, 0xFFFF)), rng.choice((0, 1, 0xFFFFFFFF)))
        return dex[:pos] + unit[:max(2, min(8, len(dex) - pos))] + dex[pos + min(8, len(dex) - pos):], \
            f"dex insn@{pos} payload ident {ident}"
    value = rng.choice((0, 0xFFFF, 0x8000, rng.getrandbits(16)))
    return _put(dex, pos + 2, 2, value), f"dex insn@{pos} index -> {value:#x}"


def _dex_strings(rng: random.Random, dex: bytes) -> tuple[bytes, str]:
    """String ids pointing at the end of the file, at runaway LEB128 data, or out of order."""
    size, off = _get(dex, 0x38, 4), _get(dex, 0x3C, 4)
    if not size or off + 4 * size > len(dex):
        return dex, "dex strings skipped"
    index = rng.randrange(size)
    kind = rng.choice(("end", "runaway", "swap", "no_nul"))
    if kind == "end":
        value = rng.choice((len(dex) - 1, len(dex) - 2, len(dex), 0xFFFFFFFF))
        return _put(dex, off + 4 * index, 4, value), f"dex string_ids[{index}] -> {value:#x}"
    if kind == "runaway":
        tail = rng.choice((1, 2, 3, 5))
        out = dex[:-tail] + b"\xff" * tail
        return _put(out, off + 4 * index, 4, len(out) - tail), f"dex string_ids[{index}] -> runaway uleb ({tail} bytes)"
    if kind == "swap":
        other = rng.randrange(size)
        a, b = _get(dex, off + 4 * index, 4), _get(dex, off + 4 * other, 4)
        out = _put(_put(dex, off + 4 * index, 4, b), off + 4 * other, 4, a)
        return out, f"dex string_ids swap {index} and {other}"
    target = _get(dex, off + 4 * index, 4)
    nul = dex.find(b"\0", target + 1)
    if nul < 0:
        return dex, "dex strings no_nul skipped"
    return _put(dex, nul, 1, 0x41), f"dex string_ids[{index}] loses its NUL at {nul}"


def _dex_class_data(rng: random.Random, dex: bytes) -> tuple[bytes, str]:
    class_data, _ = dex_class_data(dex)
    if not class_data:
        return dex, "dex class_data skipped (none)"
    pos = rng.choice(class_data)
    if pos >= len(dex):
        return dex, "dex class_data skipped (outside)"
    huge = rng.choice((b"\xff\xff\xff\xff\x0f", b"\x80\x80\x80\x80\x80", b"\x7f", b"\xff\x7f"))
    at = pos + rng.randrange(0, 12)
    out = dex[:at] + huge + dex[at + len(huge):]
    return out[:len(dex)], f"dex class_data@{pos} uleb {huge.hex()} at +{at - pos}"


def _uleb_bytes(value: int) -> bytes:
    """Unsigned LEB128: 7-bit groups, low first, the high bit set on all but the last."""
    groups = [(value >> shift) & 0x7F for shift in range(0, max(value.bit_length(), 1), 7)]
    return bytes(g | 0x80 for g in groups[:-1]) + bytes(groups[-1:])


def _with_class_defs(dex: bytes, appended: bytes, class_defs: list[bytes]) -> bytes:
    """`dex` plus `appended` data and a new class_defs table (pointed to by the header) at its end."""
    out = bytearray(dex) + appended
    out += b"\0" * (-len(out) % 4)
    table_at = len(out)
    out += b"".join(class_defs)
    out[0x60:0x68] = struct.pack("<II", len(class_defs), table_at)
    out[0x20:0x24] = struct.pack("<I", len(out))
    return bytes(out)


def string_table_dex(strings: list[bytes]) -> bytes:
    """A dex of a header and a string table only: each string's bytes as given (length included), each
    but the last followed by its NUL."""
    table_at = 0x70
    data_at = table_at + 4 * len(strings)
    offsets, blob = [], bytearray()
    for k, raw in enumerate(strings):
        offsets.append(data_at + len(blob))
        blob += raw + (b"" if k == len(strings) - 1 else b"\0")
    header = bytearray(b"dex\n035\0" + bytes(0x70 - 8))
    struct.pack_into("<II", header, 0x38, len(strings), table_at)
    return bytes(header) + struct.pack(f"<{len(offsets)}I", *offsets) + bytes(blob)


def dex_shared_methods(dex: bytes, classes: int, entries: int) -> bytes:
    """Many classes share one class_data item that claims 2^32-1 direct methods; `entries` real
    method entries follow it (3 bytes each), so a reader that walks the claim for every class
    does classes x entries steps (issue 14: a 1 MB APK held a worker for 300 s)."""
    item_at = len(dex) + (-len(dex) % 4)
    item = _uleb_bytes(0) + _uleb_bytes(0) + _uleb_bytes(0xFFFFFFFF) + _uleb_bytes(0) + b"\x00\x01\x00" * entries
    class_def = struct.pack("<8I", 0, 1, NO_INDEX_32, 0, NO_INDEX_32, 0, item_at, 0)
    return _with_class_defs(dex + b"\0" * (item_at - len(dex)), item, [class_def] * classes)


def dex_shared_interfaces(dex: bytes, classes: int, interfaces: int) -> bytes:
    """`classes` new classes (distinct names) that all implement one list of `interfaces` types, so
    a class index that copies the list per class grows as classes x interfaces (issue 14: a 520 KB
    APK reached the 2 GiB memory cap in 14 s)."""
    count = max(classes, interfaces)
    strings_at = len(dex)
    strings = bytearray()
    offsets = []
    for i in range(count):
        text = f"Lhostile/C{i};".encode()
        offsets.append(strings_at + len(strings))
        strings += _uleb_bytes(len(text)) + text + b"\0"
    old_strings, old_types = _get(dex, 0x38, 4), _get(dex, 0x40, 4)
    string_ids_off, type_ids_off = _get(dex, 0x3C, 4), _get(dex, 0x44, 4)
    appended = bytearray(strings)
    appended += b"\0" * (-(strings_at + len(appended)) % 4)
    new_string_ids = strings_at + len(appended)
    appended += dex[string_ids_off:string_ids_off + 4 * old_strings] + b"".join(struct.pack("<I", o) for o in offsets)
    new_type_ids = strings_at + len(appended)
    appended += dex[type_ids_off:type_ids_off + 4 * old_types]
    appended += b"".join(struct.pack("<I", old_strings + i) for i in range(count))
    list_at = strings_at + len(appended)
    appended += struct.pack("<I", interfaces) + b"".join(struct.pack("<H", (old_types + i) & 0xFFFF)
                                                          for i in range(interfaces))
    appended += b"\0" * (-(strings_at + len(appended)) % 4)
    class_defs = [struct.pack("<8I", old_types + i, 1, NO_INDEX_32, list_at, NO_INDEX_32, 0, 0, 0) for i in range(classes)]
    out = bytearray(_with_class_defs(dex, bytes(appended), class_defs))
    out[0x38:0x48] = struct.pack("<IIII", old_strings + count, new_string_ids, old_types + count, new_type_ids)
    return bytes(out)


def _dex_shared(rng: random.Random, dex: bytes) -> tuple[bytes, str]:
    """The shapes of issue 14 defect 3, at fuzzing size (a reader must stay linear in the file)."""
    if rng.random() < 0.5:
        classes, entries = rng.choice((64, 512, 2048)), rng.choice((1000, 20000))
        return dex_shared_methods(dex, classes, entries), f"dex {classes} classes share a class_data item of {entries}+ methods"
    classes, interfaces = rng.choice((64, 512, 2048)), rng.choice((300, 2000))
    return dex_shared_interfaces(dex, classes, interfaces), f"dex {classes} classes share {interfaces} interfaces"


def mutate_dex(rng: random.Random, dex: bytes) -> tuple[bytes, str]:
    """One format-aware mutation of a dex file."""
    if len(dex) < 0x70:
        return op_bit_flip(rng, dex, Context(""))
    kind = rng.choice(("header", "header", "table", "table", "code", "code", "strings", "class_data", "flip", "truncate",
                       "shared"))
    if kind == "shared":
        return _dex_shared(rng, dex)
    if kind == "header":
        return _dex_header(rng, dex)
    if kind == "table":
        return _dex_table_entry(rng, dex)
    if kind == "code":
        return _dex_code_item(rng, dex)
    if kind == "strings":
        return _dex_strings(rng, dex)
    if kind == "class_data":
        return _dex_class_data(rng, dex)
    if kind == "truncate":
        cut = rng.randrange(0x70, len(dex)) if len(dex) > 0x70 else len(dex)
        return dex[:cut], f"dex truncated to {cut}"
    out, note = op_bit_flip(rng, dex, Context(""))
    return out, "dex " + note


# -- binary XML / resource table mutations ------------------------------------------------------


def res_chunks(data: bytes) -> list[int]:
    """Offsets of the chunk headers of an AXML or ARSC file (containers are entered)."""
    found: list[int] = []
    stack = [(0, len(data))]
    while stack and len(found) < 4096:
        pos, end = stack.pop()
        while pos + 8 <= end and len(found) < 4096:
            kind, header, size = struct.unpack_from("<HHI", data, pos)
            if size < 8 or header < 8 or pos + size > end:
                break
            found.append(pos)
            if kind in (0x0002, 0x0003, 0x0200) and header < size:
                stack.append((pos + header, pos + size))
            pos += size
    return sorted(found)


def mutate_res(rng: random.Random, data: bytes, what: str) -> tuple[bytes, str]:
    """Tamper a chunk header or one aligned word inside a chunk of AXML/ARSC data."""
    chunks = res_chunks(data)
    if not chunks or rng.random() < 0.2:
        out, note = op_bit_flip(rng, data, Context(""))
        return out, f"{what} {note}"
    pos = rng.choice(chunks)
    kind, header, size = struct.unpack_from("<HHI", data, pos)
    roll = rng.random()
    if roll < 0.4:
        offset, width = rng.choice(((0, 2), (2, 2), (4, 4)))
        value = interesting(rng, _get(data, pos + offset, width), width, (len(data) - pos, size, header))
        return _put(data, pos + offset, width, value), f"{what} chunk@{pos} type {kind:#x} header field +{offset} -> {value:#x}"
    span = max(1, min(size, len(data) - pos) // 4)
    word = pos + 4 * rng.randrange(2, max(3, span))
    value = interesting(rng, _get(data, word, 4), 4, (len(data), size, 0x7F000000, 0x01000008, 0x03000008))
    return _put(data, word, 4, value), f"{what} chunk@{pos} type {kind:#x} word +{word - pos} -> {value:#x}"


# -- entry operations ---------------------------------------------------------------------------


def _with_entries(data: bytes, action: Callable[[list[RawEntry]], str]) -> tuple[bytes, str]:
    entries = read_entries(data)
    if entries is None:
        return data, "skipped (zipfile cannot read the input)"
    note = action(entries)
    return build_zip(entries), note


def _pick(rng: random.Random, entries: list[RawEntry], prefer: Callable[[bytes], bool]) -> RawEntry | None:
    preferred = [e for e in entries if prefer(e.name)]
    pool = preferred or entries
    return rng.choice(pool) if pool else None


def op_mutate_dex(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    def action(entries: list[RawEntry]) -> str:
        entry = _pick(rng, entries, lambda n: n.endswith(b".dex"))
        if entry is None or not entry.name.endswith(b".dex"):
            inner = _pick(rng, entries, lambda n: n.endswith(b".apk"))
            if inner is not None and inner.name.endswith(b".apk"):
                new, note = op_mutate_dex(rng, inner.data, ctx)
                inner.data = new
                return f"in {inner.name.decode('cp437')}: {note}"
            return "no dex entry"
        notes = []
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            entry.data, note = mutate_dex(rng, entry.data)
            notes.append(note)
        return f"{entry.name.decode('cp437')}: " + ", ".join(notes)

    return _with_entries(data, action)


def op_mutate_res(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    wanted = rng.choice((b"AndroidManifest.xml", b"resources.arsc"))

    def action(entries: list[RawEntry]) -> str:
        entry = next((e for e in entries if e.name == wanted), None)
        if entry is None:
            inner = _pick(rng, entries, lambda n: n.endswith(b".apk"))
            if inner is not None and inner.name.endswith(b".apk"):
                new, note = op_mutate_res(rng, inner.data, ctx)
                inner.data = new
                return f"in {inner.name.decode('cp437')}: {note}"
            return f"no {wanted.decode()}"
        notes = []
        for _ in range(rng.choice((1, 1, 2, 4))):
            entry.data, note = mutate_res(rng, entry.data, wanted.decode())
            notes.append(note)
        return ", ".join(notes)

    return _with_entries(data, action)


def op_flip_entry(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Bit flips or truncation inside any entry (signature files, toc.pb, manifest.json...)."""
    def action(entries: list[RawEntry]) -> str:
        if not entries:
            return "no entries"
        entry = rng.choice(entries)
        if rng.random() < 0.3 and entry.data:
            entry.data = entry.data[:rng.randrange(len(entry.data))]
            return f"{entry.name.decode('cp437')} truncated to {len(entry.data)}"
        entry.data, note = op_bit_flip(rng, entry.data, ctx)
        return f"{entry.name.decode('cp437')}: {note}"

    return _with_entries(data, action)


def op_duplicate(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Duplicate an entry (first or last), possibly with different content."""
    def action(entries: list[RawEntry]) -> str:
        entry = _pick(rng, entries, lambda n: n in (b"AndroidManifest.xml", b"classes.dex") or n.endswith(b".apk"))
        if entry is None:
            return "no entries"
        copy = replace(entry)
        if rng.random() < 0.5 and copy.data:
            if copy.name.endswith(b".dex"):
                copy.data, _ = mutate_dex(rng, copy.data)
            else:
                copy.data, _ = op_bit_flip(rng, copy.data, ctx)
        where = rng.choice(("first", "last", "next"))
        index = entries.index(entry)
        entries.insert(0 if where == "first" else len(entries) if where == "last" else index + 1, copy)
        return f"duplicate {entry.name.decode('cp437')} ({where})"

    return _with_entries(data, action)


EVIL_NAMES: tuple[bytes, ...] = (
    b"AndroidManifest.xml/x", b"AndroidManifest.xml/", b"classes.dex/", b"classes.dex/classes.dex",
    b"AndroidManifest.xml\x00.png", b"classes.dex\x00", b"\x00", b"", b"../../AndroidManifest.xml",
    b"/AndroidManifest.xml", b"C:\\classes.dex", b"assets/../classes.dex", b"..\\..\\x.dex",
    b"classes\xff.dex", b"Androi\xc3dManifest.xml", b"assets/" + b"a" * 4000 + b".dex", b"classes2.dex",
    b"classes0.dex", b"classes99999999999999999999.dex", b"classes-1.dex", b"res/raw/x.dex", b"assets/x.jar",
    b"splits/base-master.apk", b"base.apk", b"universal.apk", b"toc.pb", b"manifest.json", b"x/y/z.apk",
)


def op_evil_name(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Add or rename an entry to a hostile name (NUL, '..', absolute, non-UTF-8, colliding)."""
    def action(entries: list[RawEntry]) -> str:
        name = rng.choice(EVIL_NAMES)
        if entries and rng.random() < 0.4:
            entry = rng.choice(entries)
            old = entry.name
            entry.name = name
            if rng.random() < 0.3:
                entry.local_name = old
            return f"rename {old.decode('cp437')!r} to {name.decode('cp437')!r}"
        donor = rng.choice(entries) if entries else RawEntry(b"", b"")
        content = donor.data if rng.random() < 0.6 else rng.randbytes(rng.choice((0, 1, 100)))
        if name.endswith(b".dex") and rng.random() < 0.5:
            dex = next((e.data for e in entries if e.name == b"classes.dex"), b"")
            content = mutate_dex(rng, dex)[0] if dex else content
        entries.insert(rng.randrange(len(entries) + 1), RawEntry(name, content, rng.choice((STORED, DEFLATED))))
        return f"add {name.decode('cp437')!r}"

    return _with_entries(data, action)


def op_drop(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    def action(entries: list[RawEntry]) -> str:
        if not entries:
            return "no entries"
        entry = _pick(rng, entries, lambda n: n in (b"AndroidManifest.xml", b"classes.dex", b"toc.pb", b"manifest.json")
                      or n.endswith(b".apk"))
        assert entry is not None
        entries.remove(entry)
        return f"drop {entry.name.decode('cp437')}"

    return _with_entries(data, action)


def op_recompress(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Store, deflate, bzip2 or mislabel entries; or set flags (encrypted, data descriptor)."""
    def action(entries: list[RawEntry]) -> str:
        if not entries:
            return "no entries"
        entry = rng.choice(entries)
        kind = rng.choice(("method", "mislabel", "flags", "extra", "lying_size"))
        if kind == "method":
            entry.method = rng.choice((STORED, DEFLATED, 12))
            return f"{entry.name.decode('cp437')} compressed with method {entry.method}"
        if kind == "mislabel":
            real = rng.choice((STORED, DEFLATED, 12))
            entry.payload = _compress(entry.data, real)
            entry.method = rng.choice(METHODS)
            return f"{entry.name.decode('cp437')} compressed with {real}, labelled {entry.method}"
        if kind == "flags":
            entry.flags = rng.choice((1, 8, 9, 0x800, 0x801, 0x40))
            return f"{entry.name.decode('cp437')} flags {entry.flags:#x}"
        if kind == "extra":
            body = rng.randbytes(rng.choice((0, 4, 8, 16, 24, 28)))
            entry.extra = struct.pack("<HH", rng.choice((1, 1, 0xCAFE, 0xD935, 0x7075)), rng.choice((len(body), 0xFFFF))) + body
            return f"{entry.name.decode('cp437')} extra field {entry.extra[:4].hex()}+{len(body)}"
        attr = rng.choice(("usize", "csize", "crc"))
        setattr(entry, attr, interesting(rng, len(entry.data), 4, (len(data),)))
        return f"{entry.name.decode('cp437')} declares {attr} {getattr(entry, attr):#x}"

    return _with_entries(data, action)


def op_many_entries(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    count = rng.choice((100, 1000, 5000))

    def action(entries: list[RawEntry]) -> str:
        prefix = rng.choice((b"assets/f", b"res/raw/r", b"classes", b"x/"))
        suffix = rng.choice((b".dex", b".png", b""))
        entries.extend(RawEntry(prefix + str(i).encode() + suffix, b"", STORED) for i in range(count))
        return f"{count} empty entries {prefix.decode()}N{suffix.decode()}"

    return _with_entries(data, action)


def op_hidden_dex(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Add a (mutated) dex under assets/ or res/raw/, where hidden dex files are looked for."""
    def action(entries: list[RawEntry]) -> str:
        dex = next((e.data for e in entries if e.name.endswith(b".dex")), b"dex\n035\x00" + bytes(0x68))
        for _ in range(rng.choice((0, 1, 2))):
            dex, _ = mutate_dex(rng, dex)
        name = rng.choice((b"assets/payload.dex", b"assets/a.jar", b"res/raw/b.bin", b"assets/c.dat", b"assets/d.odex"))
        entries.append(RawEntry(name, dex, rng.choice((STORED, DEFLATED))))
        return f"hidden dex {name.decode()}"

    return _with_entries(data, action)


def op_marker(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Add a bundle marker (toc.pb, manifest.json...) with junk or plausible content."""
    def action(entries: list[RawEntry]) -> str:
        name = rng.choice(LAYOUT_MARKERS)
        content = rng.choice((b"", b"{}", b"\x0a\x03abc", rng.randbytes(64), b'{"split_apks": [{"file": "../x.apk"}]}'))
        entries.insert(rng.randrange(len(entries) + 1), RawEntry(name.encode(), content))
        return f"marker {name}"

    return _with_entries(data, action)


def op_inner_apk(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Mutate one APK inside a bundle with a whole nested plan, then store it back."""
    if ctx.depth >= 2:
        return data, "inner_apk skipped (deep)"

    def action(entries: list[RawEntry]) -> str:
        entry = _pick(rng, entries, lambda n: n.endswith(b".apk"))
        if entry is None or not entry.name.endswith(b".apk"):
            return "no inner apk"
        inner_ctx = replace(ctx, depth=ctx.depth + 1)
        notes = []
        for index in range(rng.choice((1, 1, 2))):
            name = rng.choice(RAW_OPS + ENTRY_OPS)
            entry.data, note = OPERATIONS[name](random.Random(f"{rng.random()}:{index}"), entry.data, inner_ctx)
            notes.append(f"{name}: {note}")
        return f"in {entry.name.decode('cp437')}: " + "; ".join(notes)

    return _with_entries(data, action)


def op_zip64_entry(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Write some entries in zip64 form (saturated 32-bit fields + extra block), honest or lying."""
    def action(entries: list[RawEntry]) -> str:
        if not entries:
            return "no entries"
        chosen = rng.sample(entries, k=rng.choice((1, 1, len(entries))))
        for entry in chosen:
            values = [-1, -1, -1]
            if rng.random() < 0.5:
                which = rng.randrange(3)
                values[which] = rng.choice((0, 1, len(data), 1 << 32, (1 << 63) - 1, (1 << 64) - 1, rng.getrandbits(64)))
            entry.zip64 = (values[0], values[1], values[2])
            if rng.random() < 0.2:
                entry.extra = rng.choice((b"\x01\x00", b"\x01\x00\x08\x00", b"\x01\x00\xff\xff\x00"))
        return f"zip64 form for {len(chosen)} entries ({', '.join(str(e.zip64) for e in chosen[:3])})"

    return _with_entries(data, action)


def op_descriptor(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Stream entries with data descriptors, then maybe damage the central directory so that a
    reader must walk local headers and find the descriptors itself."""
    kind = rng.choice(("sig32", "nosig32", "sig64"))
    entries = read_entries(data)
    if entries is None:
        return data, "descriptor skipped (zipfile cannot read the input)"
    for entry in entries:
        if rng.random() < 0.7:
            entry.descriptor = kind
            if rng.random() < 0.1:
                entry.csize = rng.choice((0, 1, 0xFFFFFFFF))
    out = build_zip(entries)
    damage = rng.choice(("none", "cut_directory", "offset", "count", "no_end"))
    layout = zip_layout(out)
    if layout.eocd is not None and layout.central:
        if damage == "cut_directory":
            out = out[:layout.central[0]] + out[layout.eocd:]
        elif damage == "offset":
            out = _put(out, layout.eocd + 16, 4, rng.getrandbits(32))
        elif damage == "count":
            out = _put(out, layout.eocd + 10, 2, len(layout.central) + rng.choice((1, 5, 1000)))
        elif damage == "no_end":
            out = out[:layout.central[0]]
    return out, f"data descriptors ({kind}), directory damage {damage}"


def op_synth_manifest(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Replace AndroidManifest.xml (of the APK, or of one or all APKs of a bundle) with a
    well-formed binary manifest carrying hostile values (see axml.py)."""
    def action(entries: list[RawEntry]) -> str:
        manifest = next((e for e in entries if e.name == b"AndroidManifest.xml"), None)
        if manifest is not None:
            manifest.data, note = hostile_manifest(rng)
            return note
        apks = [e for e in entries if e.name.endswith(b".apk")]
        if not apks:
            entries.append(RawEntry(b"AndroidManifest.xml", hostile_manifest(rng)[0]))
            return "added a hostile manifest"
        chosen = apks if rng.random() < 0.3 else [rng.choice(apks)]
        notes = []
        for apk in chosen:
            inner = read_entries(apk.data)
            if inner is None:
                continue
            inner = [e for e in inner if e.name != b"AndroidManifest.xml"]
            text, note = hostile_manifest(rng)
            inner.insert(0, RawEntry(b"AndroidManifest.xml", text))
            apk.data = build_zip(inner)
            notes.append(f"{apk.name.decode('cp437')}: {note}")
        return "; ".join(notes)

    return _with_entries(data, action)


def op_platform_manifest(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Edit AndroidManifest.xml (of the APK or of one APK of a bundle) where parsers disagree
    with the platform (manifest_mutants.py), or flood it with attributes; the harness checks our
    reading of the result against aapt when aapt is installed."""
    def action(entries: list[RawEntry]) -> str:
        holder, where = entries, ""
        if not any(e.name == b"AndroidManifest.xml" for e in entries):
            apk = _pick(rng, entries, lambda n: n.endswith(b".apk"))
            inner = read_entries(apk.data) if apk is not None else None
            if apk is None or inner is None:
                return "no manifest"
            holder, where = inner, f"in {apk.name.decode('cp437')}: "
        manifest = next((e for e in holder if e.name == b"AndroidManifest.xml"), None)
        if manifest is None:
            return "no manifest"
        try:
            if rng.random() < 0.08:
                manifest.data, note = op_attribute_flood(rng, manifest.data)
            else:
                manifest.data, note = mutate_manifest(manifest.data, rng.getrandbits(32))
        except Exception as exc:  # the base manifest is itself unreadable: nothing to aim at
            return f"skipped ({type(exc).__name__})"
        if holder is not entries:
            apk.data = build_zip(holder)  # type: ignore[union-attr]
        return where + note

    return _with_entries(data, action)


# -- generative operations ----------------------------------------------------------------------


def _layout_entries(rng: random.Random, layout: str, inner: list[tuple[bytes, bytes]]) -> list[RawEntry]:
    """Entries of one bundle layout holding the given (name suggestion, apk bytes)."""
    if layout == "apks":
        marker = RawEntry(b"toc.pb", b"\x0a\x16com.cea.fixture.bundle")
        names = [b"splits/base-master.apk"] + [b"splits/s%d-master.apk" % i for i in range(1, len(inner))]
    elif layout == "xapk":
        marker = RawEntry(b"manifest.json", json.dumps({"xapk_version": 2, "package_name": "com.cea.fixture.bundle",
                                                        "split_apks": [{"file": "base.apk", "id": "base"}]}).encode())
        names = [b"base.apk"] + [b"s%d.apk" % i for i in range(1, len(inner))]
    elif layout == "sai":
        marker = RawEntry(b"meta.sai_v1.json", b'{"package": "com.cea.fixture.bundle", "split_apk": true}')
        names = [b"base.apk"] + [b"split_s%d.apk" % i for i in range(1, len(inner))]
    else:
        marker = RawEntry(b"info.json", b'{"apkm_version": 5, "pname": "com.cea.fixture.bundle"}')
        names = [b"base.apk"] + [b"split_s%d.apk" % i for i in range(1, len(inner))]
    entries = [RawEntry(name, data, STORED if rng.random() < 0.8 else DEFLATED)
               for name, (_, data) in zip(names, inner, strict=True)]
    entries.insert(rng.randrange(len(entries) + 1), marker)
    return entries


def op_nested_bundle(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Wrap the input in 1-6 bundle layers of random layouts (an .apks in an .xapk in ...),
    sometimes with sibling APKs or two copies of the previous layer."""
    depth = rng.choice((1, 2, 2, 3, 3, 4, 6))
    layers = []
    current = data
    for _ in range(depth):
        layout = rng.choice(("apks", "xapk", "sai", "apkm"))
        inner = [(b"", current)]
        if rng.random() < 0.3 and len(current) < 2_000_000:
            inner.append((b"", current))
        elif rng.random() < 0.3 and ctx.pool:
            inner.append((b"", rng.choice(ctx.pool)))
        current = build_zip(_layout_entries(rng, layout, inner))
        layers.append(f"{layout}x{len(inner)}")
    return current, "nested " + " > ".join(reversed(layers))


def op_self_similar(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """A bundle whose stored entry 'lN.apk' spans to the end of the file, so that its data is
    again a bundle holding 'lN+1.apk' ... (overlapping entries: every level contains the next).
    The tail is the input APK or nothing."""
    levels = rng.choice((2, 3, 8, 64, 400))
    tail = data if rng.random() < 0.6 else b""
    marker = rng.choice((b"toc.pb", b"manifest.json", b"meta.sai_v1.json", b"info.json"))
    names = [b"l%d.apk" % i for i in range(levels)]
    body_len = sum(30 + len(marker) + 30 + len(n) for n in names) + len(tail)
    central_len = 46 + len(marker) + 46 + len(names[0])
    total = body_len + central_len + 22
    out = bytearray()
    offsets = []
    for name in names:
        offsets.append(len(out))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, 0, 0, 0, len(marker), 0) + marker
        data_start = len(out) + 30 + len(name)
        size = total - data_start
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, 0, size, size, len(name), 0) + name
    out += tail
    cd_offset = len(out)
    first_apk = offsets[0] + 30 + len(marker)
    size0 = total - (first_apk + 30 + len(names[0]))
    for name, offset, size in ((marker, offsets[0], 0), (names[0], first_apk, size0)):
        out += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x314, 20, 0, 0, 0, 0x21, 0, size, size,
                           len(name), 0, 0, 0, 0, 0, offset) + name
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(out) - cd_offset, cd_offset, 0)
    return bytes(out), f"self-similar bundle of {levels} overlapping levels ({marker.decode()}, tail {len(tail)} bytes)"


@functools.lru_cache(maxsize=64)
def _bomb_stream(size_mib: int, stride: int, dex_head: bool) -> tuple[bytes, int, int]:
    """A raw deflate stream of `size_mib` MiB: zeros with a random byte every `stride` bytes
    (stride 0: all zeros; about 1000x, stride 150: 55x, 400: 115x, 2000: 390x). Returns
    (stream, crc, uncompressed size). Identical 1 MiB blocks separated by sync flushes compress
    to identical bytes once the window is primed, so the stream is built by repetition."""
    block = bytearray(1 << 20)
    if stride:
        noise = random.Random(stride)
        for pos in range(0, len(block), stride):
            block[pos] = noise.randrange(256)
    plain = bytes(block)
    if dex_head:
        block[:0x70] = b"dex\n035\x00" + bytes(0x68)
    first = bytes(block)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = packer.compress(first) + packer.flush(zlib.Z_SYNC_FLUSH)
    if size_mib == 1:
        stream = head + packer.flush()
    else:
        middle = packer.compress(plain) + packer.flush(zlib.Z_SYNC_FLUSH)
        again = packer.compress(plain) + packer.flush(zlib.Z_SYNC_FLUSH)
        if again != middle:  # the shortcut does not hold for this zlib: compress everything
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            stream = packer.compress(first) + b"".join(packer.compress(plain) for _ in range(size_mib - 1)) + packer.flush()
        else:
            tail = packer.compress(plain) + packer.flush()
            stream = head + middle * (size_mib - 2) + tail
    crc = zlib.crc32(first)
    for _ in range(size_mib - 1):
        crc = zlib.crc32(plain, crc)
    return stream, crc, size_mib << 20


def op_zip_bomb(rng: random.Random, data: bytes, ctx: Context) -> tuple[bytes, str]:
    """Replace or add classes.dex with a high-ratio deflate entry (honest or lying sizes),
    sometimes inside an inner APK of a bundle."""
    size_mib = rng.choice((2, 8, 32, 64))
    stride = rng.choice((0, 0, 150, 400, 2000))
    stream, crc, usize = _bomb_stream(size_mib, stride, rng.random() < 0.5)
    lie = rng.choice(("honest", "honest", "small_usize", "zero_sizes", "stored_label"))
    bomb = RawEntry(b"classes.dex", b"", DEFLATED, payload=stream, crc=crc, usize=usize)
    if lie == "small_usize":
        bomb.usize = rng.choice((728, 1 << 20))
    elif lie == "zero_sizes":
        bomb.usize = 0
        bomb.flags = 8
    elif lie == "stored_label":
        bomb.method = rng.choice((STORED, 30208))
    entries = read_entries(data)
    base = entries if entries is not None else [RawEntry(b"AndroidManifest.xml", b"")]
    apk_entries = [e for e in base if e.name.endswith(b".apk")]
    if apk_entries and rng.random() < 0.5:
        target = rng.choice(apk_entries)
        inner = read_entries(target.data) or []
        inner = [e for e in inner if e.name != b"classes.dex"] + [bomb]
        target.data = build_zip(inner)
        where = f"inside {target.name.decode('cp437')}"
    else:
        base = [e for e in base if e.name != b"classes.dex" or rng.random() < 0.3] + [bomb]
        where = "at top level"
    return build_zip(base), f"zip bomb classes.dex {size_mib} MiB stride {stride} ({lie}) {where}"


# -- plans --------------------------------------------------------------------------------------


OPERATIONS: dict[str, Operation] = {
    "bit_flip": op_bit_flip,
    "byte_run": op_byte_run,
    "interesting_int": op_interesting_int,
    "truncate": op_truncate,
    "splice": op_splice,
    "prefix": op_prefix,
    "trailer": op_trailer,
    "local_header": op_local_header,
    "central_record": op_central_record,
    "end_record": op_end_record,
    "method_both": op_method_both,
    "zip64": op_zip64,
    "signing_block": op_signing_block,
    "mutate_dex": op_mutate_dex,
    "mutate_res": op_mutate_res,
    "flip_entry": op_flip_entry,
    "duplicate": op_duplicate,
    "evil_name": op_evil_name,
    "drop": op_drop,
    "recompress": op_recompress,
    "zip64_entry": op_zip64_entry,
    "descriptor": op_descriptor,
    "synth_manifest": op_synth_manifest,
    "platform_manifest": op_platform_manifest,
    "many_entries": op_many_entries,
    "hidden_dex": op_hidden_dex,
    "marker": op_marker,
    "inner_apk": op_inner_apk,
    "nested_bundle": op_nested_bundle,
    "self_similar": op_self_similar,
    "zip_bomb": op_zip_bomb,
}
RAW_OPS: tuple[str, ...] = ("bit_flip", "bit_flip", "byte_run", "interesting_int", "truncate", "splice", "prefix",
                            "trailer", "local_header", "local_header", "central_record", "central_record",
                            "end_record", "end_record", "method_both", "zip64", "signing_block")
ENTRY_OPS: tuple[str, ...] = ("mutate_dex", "mutate_dex", "mutate_dex", "mutate_dex", "mutate_res", "mutate_res",
                              "flip_entry", "duplicate", "evil_name", "evil_name", "drop", "recompress", "recompress",
                              "many_entries", "hidden_dex", "marker", "inner_apk", "inner_apk", "zip64_entry",
                              "descriptor", "mutate_dex", "mutate_res", "synth_manifest", "synth_manifest",
                              "platform_manifest", "platform_manifest", "platform_manifest")
GENERATIVE_OPS: tuple[str, ...] = ("nested_bundle", "nested_bundle", "self_similar", "zip_bomb")


def choose_plan(rng: random.Random) -> list[str]:
    """Operation names, entry operations first (they need a readable zip), raw ones last."""
    roll = rng.random()
    if roll < 0.12:
        plan = [rng.choice(GENERATIVE_OPS)]
        if plan[0] == "nested_bundle" and rng.random() < 0.5:
            plan.insert(0, rng.choice(ENTRY_OPS))
        if rng.random() < 0.3:
            plan.append(rng.choice(RAW_OPS))
        return plan
    if roll < 0.6:
        entry = [rng.choice(ENTRY_OPS) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        return entry + [rng.choice(RAW_OPS) for _ in range(rng.choice((0, 0, 0, 1, 2)))]
    return [rng.choice(RAW_OPS) for _ in range(rng.choice((1, 1, 2, 3, 4)))]


def apply_plan(data: bytes, source: str, seed: int, plan: Sequence[tuple[int, str]],
               pool: tuple[bytes, ...] = ()) -> Mutant:
    """Apply the planned operations in order; each draws from its own seeded generator."""
    ctx = Context(source, pool)
    notes = []
    for position, name in plan:
        rng = random.Random(f"{source}:{seed}:{position}:{name}")
        data, note = OPERATIONS[name](rng, data, ctx)
        notes.append(f"{name}: {note}")
    suffix = "." + source.rsplit(".", 1)[-1] if "." in source else ".apk"
    return Mutant(data, source, seed, tuple(plan), tuple(notes), suffix)


def mutate(data: bytes, source: str, seed: int, pool: tuple[bytes, ...] = ()) -> Mutant:
    """The mutant number `seed` of one source file (deterministic)."""
    rng = random.Random(f"{source}:{seed}")
    plan = list(enumerate(choose_plan(rng)))
    return apply_plan(data, source, seed, plan, pool)
