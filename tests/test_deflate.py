"""The inflate and checksum backend (auditor/deflate.py): zlib-ng where installed, the standard library
otherwise, with the same results, verdicts and messages either way."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor import deflate
from auditor.containers import zipsafe
from auditor.containers.zipsafe import ZipArchive
from auditor.errors import AuditorError, LimitExceeded
from auditor.limits import Limits, MiB
from tests.conftest import FIXTURES
from tests.fuzz.mutators import mutate
from tests.test_zipsafe import Raw, build

ROOT = Path(__file__).resolve().parents[1]
try:
    from zlib_ng import zlib_ng
except ImportError:
    zlib_ng = None
needs_zlib_ng = pytest.mark.skipif(zlib_ng is None, reason="zlib-ng is not installed")

SOURCES = sorted(p for folder in ("apk", "bundles", "bad") for p in (FIXTURES / folder).iterdir()
                 if p.suffix in {".apk", ".apks", ".xapk", ".apkm"})
MUTANTS = 300
LIMITS = Limits(max_unpacked_bytes=64 * MiB)


@pytest.fixture
def stdlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """The standard library's zlib for this test, which may switch to zlib-ng (AUDITOR_STDLIB_ZLIB ignored)."""
    monkeypatch.delenv("AUDITOR_STDLIB_ZLIB", raising=False)
    monkeypatch.setattr(deflate, "_chosen", zlib)


@pytest.mark.parametrize("size", [0, 1, 5 * 1024, 5 * 1024 + 1, 3 * MiB + 7])
def test_checksums_are_zlibs(size: int) -> None:
    data = random.Random(size).randbytes(size)
    view = memoryview(data)[size // 3:]
    assert deflate.crc32(data) == zlib.crc32(data) and deflate.crc32(view) == zlib.crc32(view)
    assert deflate.adler32(data) == zlib.adler32(data) and deflate.adler32(view) == zlib.adler32(view)


@needs_zlib_ng
def test_zlib_ng_is_used_when_installed_and_the_switch_forces_the_standard_library(stdlib: None) -> None:
    assert deflate.backend() is zlib
    deflate.use_stdlib(False)
    assert deflate.backend() is zlib_ng
    assert deflate.describe() == f"zlib-ng {zlib_ng.ZLIBNG_VERSION}"
    env = {**os.environ, "AUDITOR_STDLIB_ZLIB": "1"}
    forced = subprocess.run([sys.executable, "-m", "auditor", "--version"], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True)
    assert f"inflate zlib {zlib.ZLIB_RUNTIME_VERSION} (standard library;" in forced.stdout


def _outcome(data: bytes, depth: int = 0) -> list[object]:
    """Everything reading an archive shows: each entry's bytes (hashed) or error, its damage, the anomalies;
    archives inside it likewise, one level down."""
    try:
        archive = ZipArchive.from_bytes(data, LIMITS, label="x")
    except AuditorError as error:
        return [type(error).__name__, str(error)]
    seen: list[object] = []
    for name in archive.names():
        try:
            content = archive.read(name, max_bytes=16 * MiB, limit_name="--max-dex")
        except AuditorError as error:
            seen.append((name, type(error).__name__, str(error), getattr(error, "limit", None)))
            continue
        seen.append((name, hashlib.sha1(content).hexdigest(), archive.damage(name)))
        if depth == 0 and name.endswith((".apk", ".zip", ".jar")):
            seen.append(_outcome(content, depth + 1))
    return [*seen, archive.anomalies, archive.budget.used]


def _inputs() -> Iterator[tuple[str, bytes]]:
    pool = tuple(p.read_bytes() for p in SOURCES)
    for path, data in zip(SOURCES, pool, strict=True):
        yield path.name, data
    for seed in range(MUTANTS):
        path = SOURCES[seed % len(SOURCES)]
        yield f"{path.name}#{seed}", mutate(pool[seed % len(pool)], path.name, seed, pool).data


@needs_zlib_ng
def test_both_backends_read_fixtures_and_mutants_alike(stdlib: None) -> None:
    inputs = list(_inputs())
    expected = [_outcome(data) for _, data in inputs]
    deflate.use_stdlib(False)
    for (name, data), want in zip(inputs, expected, strict=True):
        assert _outcome(data) == want, name


# --- one call for an honest entry, the bounded steps for everything else -------------------------

def _stream(rng: random.Random) -> tuple[bytes, bytes]:
    """Content that is sometimes locally far more compressible than overall: runs of zeros, repeated
    patterns and noise, in random order and lengths."""
    parts = []
    for _ in range(rng.randrange(1, 6)):
        size = rng.choice((rng.randrange(1, 4096), rng.randrange(4096, 3 * MiB)))
        parts.append(rng.choice((bytes(size), rng.randbytes(16) * (size // 16), rng.randbytes(size))))
    content = b"".join(parts)
    compressor = zlib.compressobj(rng.choice((1, 6, 9)), zlib.DEFLATED, -15)
    return content + b"!", compressor.compress(content + b"!") + compressor.flush()


def _spoiled(rng: random.Random, stream: bytes) -> bytes:
    match rng.randrange(5):
        case 0:
            return stream[: rng.randrange(len(stream))]  # cut short
        case 1:
            return stream + rng.randbytes(rng.randrange(1, 64))  # trailing data
        case 2:
            spoiled = bytearray(stream)
            spoiled[rng.randrange(len(stream))] ^= 1 << rng.randrange(8)
            return bytes(spoiled)
    return stream


def _one_entry_cases() -> Iterator[tuple[int, bytes, Limits, int]]:
    """(seed, archive, limits, max_bytes): streams whose declared size is honest, too small or too large,
    under ratio limits and caps that each stop some of them."""
    for seed in range(60):
        rng = random.Random(seed)
        content, stream = _stream(rng)
        stream = _spoiled(rng, stream)
        usize = rng.choice((len(content), len(content), len(content) - rng.randrange(1, 3 * MiB), len(content) + 1,
                            len(content) * 2, rng.randrange(0, 8 * MiB)))
        limits = Limits(max_ratio=rng.choice((2, 10, 200, 200, 1000, 10**6)),
                        max_unpacked_bytes=rng.choice((64 * MiB, 64 * MiB, 64 * MiB, len(content), len(content) - 1, 2 * MiB)))
        max_bytes = rng.choice((16 * MiB, 16 * MiB, len(content), max(usize, 0) + rng.randrange(0, 2)))
        yield seed, build([Raw(b"classes.dex", stream, method=8, usize=max(usize, 0))]), limits, max_bytes


def _read_outcome(data: bytes, limits: Limits, max_bytes: int) -> tuple[object, ...]:
    archive = ZipArchive.from_bytes(data, limits, label="x")
    try:
        content = archive.read("classes.dex", max_bytes=max_bytes, limit_name="--max-dex")
    except AuditorError as error:
        return type(error).__name__, str(error), getattr(error, "limit", None), archive.anomalies
    return hashlib.sha1(content).hexdigest(), archive.damage("classes.dex"), archive.anomalies, archive.budget.used


@pytest.mark.parametrize("backend", ["zlib", "zlib-ng"])
def test_one_call_gives_what_the_bounded_steps_give(backend: str, stdlib: None, monkeypatch: pytest.MonkeyPatch) -> None:
    if backend == "zlib-ng":
        if zlib_ng is None:
            pytest.skip("zlib-ng is not installed")
        deflate.use_stdlib(False)
    cases = list(_one_entry_cases())
    ours = [_read_outcome(data, limits, max_bytes) for _, data, limits, max_bytes in cases]
    monkeypatch.setattr(deflate, "inflate_whole", lambda raw, declared: None)
    steps = [_read_outcome(data, limits, max_bytes) for _, data, limits, max_bytes in cases]
    for (seed, *_), mine, theirs in zip(cases, ours, steps, strict=True):
        assert mine == theirs, f"seed {seed}"
    assert {outcome[0] for outcome in steps} >= {"LimitExceeded", "CorruptArchive"}  # the cases reach every verdict


def test_an_honest_entry_is_inflated_in_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    content = random.Random(0).randbytes(3 * MiB) * 2
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    archive = ZipArchive.from_bytes(build([Raw(b"classes.dex", compressor.compress(content) + compressor.flush(), 8,
                                                usize=len(content))]), LIMITS)
    monkeypatch.setattr(zipsafe, "_inflate_in_steps", lambda *_: pytest.fail("inflated in steps"))
    assert archive.read("classes.dex") == content


def test_a_locally_explosive_entry_is_refused_as_before() -> None:
    """Zeros first: the steps refuse the ratio after 2 MiB, though the whole entry is under it."""
    content = bytes(4 * MiB) + random.Random(1).randbytes(4 * MiB)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    stream = compressor.compress(content) + compressor.flush()
    assert len(content) < 200 * len(stream)
    archive = ZipArchive.from_bytes(build([Raw(b"classes.dex", stream, 8, usize=len(content))]), LIMITS)
    with pytest.raises(LimitExceeded, match="expands more than 200x"):
        archive.read("classes.dex")
