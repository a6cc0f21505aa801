"""Where inflating and checksumming happen: zlib-ng when it is installed, else the standard library's zlib.

zlib-ng (the zlib fork that Fedora and others now ship as their system zlib, maintained with
SIMD code paths for x86 and ARM) inflates a large dex in about 60% of zlib's time and computes
CRC-32 and Adler-32 over it ten times faster; its Python module `zlib_ng.zlib_ng` mirrors CPython's
zlib module. Checksums are functions of the bytes alone, so either backend gives the same values.

Inflating is where the two could differ in what they report, not in what they produce: a valid
deflate stream decodes to one sequence of bytes. So zlib-ng only serves `inflate_whole`, whose one
accepted outcome is a complete stream that fits its declared size; anything else (corrupt, cut short,
longer than declared, out of memory) answers None, and the caller decodes again with the standard
library in bounded steps, whose verdicts, error texts and limits are the ones users see.

`AUDITOR_STDLIB_ZLIB=1` (or `use_stdlib`, for tests) forces the standard library everywhere.
"""

from __future__ import annotations

import os
import zlib
from types import ModuleType

_chosen: ModuleType | None = None


def backend() -> ModuleType:
    """zlib_ng.zlib_ng where installed (imported on first use: it costs 2 ms of start-up, with the
    gzip module it loads), else zlib."""
    global _chosen
    if _chosen is None:
        _chosen = _fastest()
    return _chosen


def _fastest() -> ModuleType:
    if os.environ.get("AUDITOR_STDLIB_ZLIB"):
        return zlib
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return zlib
    return zlib_ng


def use_stdlib(stdlib: bool = True) -> None:
    """Switch this process to the standard library's zlib, or back to the fastest one installed (tests)."""
    global _chosen
    _chosen = zlib if stdlib else _fastest()


def describe() -> str:
    """Which zlib runs, for --version: a bug report or a timing needs it (results do not)."""
    chosen = backend()
    if chosen is zlib:
        return f"zlib {zlib.ZLIB_RUNTIME_VERSION} (standard library; zlib-ng not installed or AUDITOR_STDLIB_ZLIB set)"
    return f"zlib-ng {chosen.ZLIBNG_VERSION}"


def crc32(data: bytes | memoryview) -> int:
    value: int = backend().crc32(data)
    return value


def adler32(data: bytes | memoryview) -> int:
    value: int = backend().adler32(data)
    return value


def inflate_whole(raw: bytes | memoryview, declared: int) -> bytes | None:
    """The raw deflate stream `raw` inflated in one call, without joining pieces, when it is complete
    and inflates to at most `declared` bytes (asking for one more shows a header that lies); None for
    every other outcome, which the caller must then decode itself. `declared` must be within the
    caller's limits: this call may produce that much before it knows."""
    module = backend()
    try:
        inflater = module.decompressobj(-15)
        data: bytes = inflater.decompress(raw, declared + 1)
    except (module.error, zlib.error, MemoryError):
        return None
    return data if inflater.eof and len(data) <= declared else None
