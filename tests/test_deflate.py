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
from auditor.containers.zipsafe import ZipArchive
from auditor.errors import AuditorError
from auditor.limits import Limits, MiB
from tests.conftest import FIXTURES
from tests.fuzz.mutators import mutate

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
def stdlib() -> Iterator[None]:
    deflate.use_stdlib()
    yield
    deflate.use_stdlib(False)


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
    code = "from auditor import deflate; print(deflate.backend().__name__)"
    env = {**os.environ, "AUDITOR_STDLIB_ZLIB": "1"}
    forced = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert forced.stdout.strip() == "zlib"


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
