"""Tests for the result cache: hits only under the same key, never a crash, never a stale transient error.

Every test points AUDITOR_CACHE_DIR (or an explicit path) at tmp_path, so the user's cache is
never touched.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.cache import (
    DB_NAME,
    CacheKey,
    ResultCache,
    cacheable,
    default_cache_path,
    file_sha256,
    make_key,
    settings_string,
    tool_fingerprint,
)
from auditor.limits import Limits
from auditor.model import AppResult, Score

FIXTURES = Path(__file__).parent / "fixtures" / "apk"
SHA = "ab" * 32
KEY = CacheKey("sha256:rules", "0.1.0+test", "policies=;unpacked=1")



def noise(size: int) -> bytes:
    """Incompressible but repeatable bytes (seeded by size), so every CI run sees the same input."""
    return random.Random(size).randbytes(size)

def _ok(path: str = "/data/apps/app.apk", sha256: str = SHA) -> AppResult:
    return AppResult(path, sha256, "apk", "ok", score=Score(42, "medium"), elapsed=1.5)


def _error(kind: str, message: str, sha256: str | None = SHA) -> AppResult:
    return AppResult("/data/apps/app.apk", sha256, "apk", "error", error=message, error_kind=kind)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ResultCache]:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "cache"))
    with ResultCache() as result_cache:
        yield result_cache


def test_default_location_follows_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_path() == tmp_path / "xdg" / "auditor" / DB_NAME
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_path() == tmp_path / "mine" / DB_NAME


def test_round_trip(cache: ResultCache) -> None:
    result = _ok()
    cache.put(result, KEY)
    assert cache.get(SHA, KEY, result.input) == result
    assert cache.path.is_file()


def test_round_trip_of_a_real_analysis(cache: ResultCache, tmp_path: Path) -> None:
    """A full AppResult (facts, findings, policies) survives pickling unchanged."""
    from auditor.pipeline import audit_path
    from auditor.ruleset.ruleset import load_ruleset

    apk = FIXTURES / "contacts_upload.apk"
    if not apk.is_file():
        pytest.skip("fixture APK missing")
    rules = load_ruleset()
    result = audit_path(str(apk), rules, Limits(), tuple(rules.policies))
    assert result.ok and result.facts is not None
    key = make_key(rules.digest, tuple(rules.policies), Limits())
    cache.put(result, key)
    assert cache.get(file_sha256(str(apk)), key, str(apk)) == result


def test_key_mismatch_misses(cache: ResultCache) -> None:
    cache.put(_ok(), KEY)
    assert cache.get("cd" * 32, KEY, "/data/apps/app.apk") is None
    assert cache.get(SHA, replace(KEY, rules_digest="sha256:other"), "/data/apps/app.apk") is None
    assert cache.get(SHA, replace(KEY, tool_version="0.2.0"), "/data/apps/app.apk") is None
    assert cache.get(SHA, replace(KEY, settings="policies=gdpr"), "/data/apps/app.apk") is None
    assert cache.get(SHA, KEY, "/data/apps/app.apk") is not None


def test_input_path_replaced_on_hit(cache: ResultCache) -> None:
    cache.put(_ok("/old/place/app.apk"), KEY)
    hit = cache.get(SHA, KEY, "/new/place/app.apk")
    assert hit is not None
    assert hit.input == "/new/place/app.apk"
    assert hit == replace(_ok(), input="/new/place/app.apk")


def test_renamed_copy_hits(cache: ResultCache) -> None:
    """Results depend on the bytes alone (the pipeline never writes the file name into one)."""
    cache.put(_error("corrupt-archive", "AndroidManifest.xml is not valid binary XML"), KEY)
    hit = cache.get(SHA, KEY, "/data/apps/renamed.apk")
    assert hit is not None and hit.input == "/data/apps/renamed.apk"


def test_names_that_are_not_utf8_are_never_stored(cache: ResultCache) -> None:
    """SQLite text must be UTF-8; the path goes neither into the key nor into the stored value."""
    odd = "/data/" + os.fsdecode(b"\xce\xc4\xff") + "\\x\n.apk"
    cache.put(_ok(odd), KEY)
    hit = cache.get(SHA, KEY, odd)
    assert hit is not None and hit.input == odd


def test_get_without_path_leaves_input_to_the_caller(cache: ResultCache) -> None:
    cache.put(_ok(), KEY)
    hit = cache.get(SHA, KEY)
    assert hit is not None and hit.input == ""


def test_clear(cache: ResultCache) -> None:
    cache.put(_ok(sha256="01" * 32), KEY)
    cache.put(_ok(sha256="02" * 32), KEY)
    assert cache.clear() == 2
    assert cache.get("01" * 32, KEY, "/data/apps/app.apk") is None
    assert cache.clear() == 0
    cache.put(_ok(), KEY)  # still usable after a clear
    assert cache.get(SHA, KEY, "/data/apps/app.apk") is not None


def test_corrupted_db_file_is_a_miss_not_a_crash(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / DB_NAME
    path.write_bytes(b"this is not an SQLite database, just junk " * 100)
    broken = ResultCache(path)
    assert broken.get(SHA, KEY, "/data/apps/app.apk") is None
    broken.put(_ok(), KEY)  # silently skipped
    assert broken.get(SHA, KEY, "/data/apps/app.apk") is None
    assert sum("result cache" in r.message for r in caplog.records) == 1, "one warning, not one per file"
    assert broken.clear() == 0  # removes the broken file ...
    broken.put(_ok(), KEY)  # ... after which the cache works again
    assert broken.get(SHA, KEY, "/data/apps/app.apk") is not None


def test_corrupted_row_is_a_miss_and_is_dropped(cache: ResultCache) -> None:
    cache.put(_ok(), KEY)
    with sqlite3.connect(cache.path) as conn:
        conn.execute("UPDATE results SET result = ?", (b"\x80\x05garbage",))
    assert cache.get(SHA, KEY, "/data/apps/app.apk") is None
    with sqlite3.connect(cache.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0


def test_row_of_another_type_is_a_miss(cache: ResultCache) -> None:
    cache.put(_ok(), KEY)
    with sqlite3.connect(cache.path) as conn:
        conn.execute("UPDATE results SET result = ?", (pickle.dumps({"not": "an AppResult"}),))
    assert cache.get(SHA, KEY, "/data/apps/app.apk") is None


@pytest.mark.parametrize(("kind", "message"), [
    ("limit-exceeded", "analysis took longer than 300 s (limit --timeout)"),
    ("limit-exceeded", "ran out of memory (limit --max-memory)"),
    ("worker-died", "analysis process died (exit code -9); likely over --max-memory"),
    ("internal-error", "internal error (ValueError: x); rerun with --debug for the traceback"),
    ("unreadable-file", "cannot read file (Permission denied)"),
])
def test_transient_errors_not_cached(cache: ResultCache, kind: str, message: str) -> None:
    result = _error(kind, message)
    assert not cacheable(result)
    cache.put(result, KEY)
    assert cache.get(SHA, KEY, result.input) is None


@pytest.mark.parametrize(("kind", "message", "limit"), [
    ("not-an-android-package", "not an Android package (a PE32 executable)", None),
    ("corrupt-archive", "app.apk is not valid deflate data (Error -3)", None),
    ("limit-exceeded", "archive has 90000 entries (limit --max-entries=50000)", "--max-entries"),
    ("limit-exceeded", "entry expands more than 200x its compressed size (limit --max-ratio=200)", "--max-ratio"),
    ("limit-exceeded", "bundles nested deeper than 2 (limit --max-nesting)", "--max-nesting"),
])
def test_deterministic_errors_cached(cache: ResultCache, kind: str, message: str, limit: str | None) -> None:
    result = replace(_error(kind, message), limit=limit)
    assert cacheable(result)
    cache.put(result, KEY)
    assert cache.get(SHA, KEY, result.input) == result


def test_results_without_sha_not_cached() -> None:
    assert not cacheable(_error("not-an-android-package", "x", sha256=None))


def test_file_sha256_streams(tmp_path: Path) -> None:
    data = noise(3 * 1024 * 1024 + 17)  # spans several 1 MiB chunks
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert file_sha256(str(path)) == hashlib.sha256(data).hexdigest()


def test_settings_capture_result_changing_options_only() -> None:
    base = settings_string((), Limits())
    assert settings_string(("b", "a"), Limits()) == settings_string(("a", "b"), Limits()) != base
    assert settings_string((), Limits(max_entries=10)) != base
    assert settings_string((), Limits(max_dex_bytes=1)) != base
    assert settings_string((), Limits(timeout=5.0)) == base  # transient-only limits
    # ...except where the memory limit lowers the unpack budget, which makes results differ
    assert settings_string((), Limits(max_memory_mb=100)) != base


def test_tool_fingerprint_is_stable() -> None:
    from auditor import __version__

    assert tool_fingerprint() == tool_fingerprint()
    assert tool_fingerprint().startswith(__version__ + "+")


def test_survives_a_killed_writer(cache: ResultCache, tmp_path: Path) -> None:
    """Each put is committed at once: a writer killed mid-batch keeps what it stored."""
    ready = multiprocessing.get_context("fork").Event()

    def writer() -> None:
        own = ResultCache(cache.path)
        own.put(_ok(sha256="0a" * 32), KEY)
        ready.set()
        os.kill(os.getpid(), 9)

    process = multiprocessing.get_context("fork").Process(target=writer)
    process.start()
    process.join(10)
    assert ready.is_set()
    assert cache.get("0a" * 32, KEY, "/data/apps/app.apk") is not None


@pytest.mark.parametrize("file_exists", [True, False])
def test_concurrent_writers(cache: ResultCache, file_exists: bool) -> None:
    """Several processes writing at once (also racing to create the file): no result is lost."""
    ctx = multiprocessing.get_context("fork")

    def writer(offset: int) -> None:
        own = ResultCache(cache.path)
        for i in range(40):
            own.put(_ok(sha256=f"{offset + i:064x}"), KEY)
        own.close()

    if file_exists:
        cache.put(_ok(), KEY)
    processes = [ctx.Process(target=writer, args=(n * 1000,)) for n in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert all(cache.get(f"{n * 1000 + i:064x}", KEY, "/data/apps/app.apk") is not None
               for n in range(4) for i in range(40))


def test_connection_not_shared_across_fork(cache: ResultCache) -> None:
    cache.put(_ok(), KEY)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def child() -> None:
        queue.put(cache.get(SHA, KEY, "/x/app.apk") is not None)
        cache.put(_ok(sha256="0b" * 32), KEY)

    process = ctx.Process(target=child)
    process.start()
    process.join(10)
    assert queue.get(timeout=5) is True
    assert cache.get("0b" * 32, KEY, "/data/apps/app.apk") is not None
