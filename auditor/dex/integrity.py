"""Whether a dex file is whole: the header fields that say how long it is and what it hashes to.

A dex that is shorter or longer than its header says, whose header size is not 0x70, or whose
Adler-32 checksum does not match is one ART refuses to load (DexFileVerifier::CheckHeader), and
one whose bytes were damaged after it was built: a truncated copy, flipped bits. Code read from
it may be missing or wrong, so the app's code is not assessable rather than quietly milder.

The SHA-1 signature is not checked by ART. A wrong SHA-1 next to a *correct* Adler-32 (which
covers the SHA-1 field) means the file was edited after build and its checksum recomputed on
purpose: the bytes are consistent, so that is anti-analysis evidence, not damage (three samples
of the shared corpus, all malware, are built that way). A wrong SHA-1 with a wrong Adler-32 is
reported as damage with both.
"""

from __future__ import annotations

import hashlib
import struct

from auditor import deflate
from auditor.records import record

HEADER_SIZE = 0x70


@record
class Hashes:
    """Whether the header's two hashes match the file: computed once per dex (about 25 ms for 16 MB)
    and shared by the damage check and the tampering evidence."""

    checksum_ok: bool
    signature_ok: bool


def hashes(data: bytes) -> Hashes:
    return Hashes(adler32_ok(data), sha1_ok(data))


def adler32_ok(data: bytes) -> bool:
    """Whether the header's Adler-32 (offset 8, over everything after it) matches the file."""
    (stored,) = struct.unpack_from("<I", data, 8)
    return bool(deflate.adler32(memoryview(data)[12:]) == stored)


def sha1_ok(data: bytes) -> bool:
    """Whether the header's SHA-1 signature (offset 12, over everything after it) matches the file."""
    return hashlib.sha1(memoryview(data)[32:]).digest() == data[12:32]


def damage(data: bytes, known: Hashes | None = None) -> list[str]:
    """What says this dex is not whole, in words (empty when it is). `data` holds at least a header;
    `known` saves hashing it again."""
    declared, header_size = struct.unpack_from("<II", data, 0x20)
    problems = []
    if len(data) < declared:
        problems.append(f"truncated: {len(data)} of the {declared} bytes its header declares")
    elif len(data) > declared:
        problems.append(f"{len(data) - declared} bytes past the {declared} its header declares")
    if header_size != HEADER_SIZE:
        problems.append(f"header size field is {header_size}, not {HEADER_SIZE}")
    problems += _sections_outside(data)
    if not (known.checksum_ok if known else adler32_ok(data)):
        problems.append("Adler-32 checksum does not match the contents")
        if not (known.signature_ok if known else sha1_ok(data)):
            problems.append("SHA-1 signature does not match either")
    return problems


def _sections_outside(data: bytes) -> list[str]:
    """The map list and the data section must lie inside the file: a copy cut short whose size
    field and hashes were made to agree still fails here (ART checks both)."""
    (map_off,) = struct.unpack_from("<I", data, 0x34)
    data_size, data_off = struct.unpack_from("<II", data, 0x68)
    problems = []
    if map_off + 4 > len(data) or map_off + 4 + 12 * struct.unpack_from("<I", data, map_off)[0] > len(data):
        problems.append("its map list lies outside the file")
    if data_off + data_size > len(data):
        problems.append(f"its data section ends {data_off + data_size - len(data)} bytes past the end of the file")
    return problems
