"""Transient failures (out of memory, a resource limit, a timeout) are reported as
`limit-exceeded` naming the limit, and never cached as a verdict on the file; a bomb names the
unpacked-size budget it exhausts, not the memory limit it would have exhausted next."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cache import cacheable
from auditor.cli import main
from auditor.containers.zipsafe import ZipArchive
from auditor.errors import LimitExceeded
from auditor.limits import Limits, MiB
from auditor.model import AppResult
from auditor.pipeline import audit_path
from tests.test_hostile_input import deflated_with_size

FIXTURES = Path(__file__).resolve().parent / "fixtures"
APK = FIXTURES / "apk" / "contacts_upload.apk"
ROOT = Path(__file__).resolve().parents[1]


def scan_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["scan", "--jobs", "1", "-f", "json", *args], catch_exceptions=False)
    apps: list[dict[str, Any]] = json.loads(result.stdout)["apps"]
    return apps[0]


def test_out_of_memory_while_parsing_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It used to become `corrupt-archive`, cached, and repeated by the next normal run."""
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "cache"))
    with monkeypatch.context() as patch:  # the forked worker inherits the patch
        patch.setattr("auditor.extract.manifest.Document", _raise_memory_error)
        first = scan_json(str(APK))
    assert (first["status"], first["error_kind"]) == ("error", "limit-exceeded")
    assert "--max-memory" in first["error"]
    second = scan_json(str(APK))
    assert second["status"] == "ok" and second["band"] == "high"


def _raise_memory_error(raw: bytes) -> Any:
    raise MemoryError


def test_zlib_out_of_memory_is_a_memory_limit_not_corrupt_data(monkeypatch: pytest.MonkeyPatch) -> None:
    class Starved:
        eof = False
        unconsumed_tail = b""

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            raise zlib.error("Error -4 while decompressing data: insufficient memory")

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("resources.arsc", b"x" * 1000)
    zip_archive = ZipArchive.from_bytes(buffer.getvalue(), Limits())
    monkeypatch.setattr("zlib.decompressobj", lambda *args: Starved())
    for read in (zip_archive.read, zip_archive.head):
        with pytest.raises(LimitExceeded) as caught:
            read("resources.arsc")
        assert caught.value.limit == "--max-memory" and "ran out of memory" in caught.value.message


@pytest.mark.parametrize("errno_name", ["ENOMEM", "EMFILE"])
def test_resource_errors_from_the_os_are_limits(rules, monkeypatch: pytest.MonkeyPatch, errno_name: str) -> None:
    import errno

    def starved(*args: Any, **kwargs: Any) -> Any:
        code = getattr(errno, errno_name)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("auditor.pipeline.open", starved, raising=False)
    result = audit_path(str(APK), rules, Limits())
    assert result.error_kind == "limit-exceeded" and result.limit and result.limit in (result.error or "")
    assert not cacheable(result)


@pytest.mark.parametrize(("limit", "cached"), [("--max-memory", False), ("--timeout", False), (None, False),
                                               ("open files per process, ulimit -n", False),
                                               ("--max-unpacked", True), ("--max-dex", True), ("--max-ratio", True)])
def test_only_size_and_structure_limits_are_cached(limit: str | None, cached: bool) -> None:
    # The message mentions a cacheable flag on purpose: only the structured limit decides.
    result = AppResult("a.apk", "0" * 64, "apk", "error", error="entry '--max-dex' (limit x)",
                       error_kind="limit-exceeded", limit=limit)
    assert cacheable(result) is cached


def test_a_timeout_names_its_limit(rules, tmp_path: Path) -> None:
    from auditor.executors import Task
    from auditor.executors.local import LocalExecutor

    slow_copy = tmp_path / "slow.apk"
    slow_copy.write_bytes(APK.read_bytes())
    task = Task(rules, Limits(timeout=0.1))
    original = Task.__call__

    def slow(self: Task, path: str) -> AppResult:
        import time

        time.sleep(5)
        return original(self, path)

    try:
        Task.__call__ = slow  # type: ignore[method-assign]
        (result,) = LocalExecutor(1).run([str(slow_copy)], task)
    finally:
        Task.__call__ = original  # type: ignore[method-assign]
    assert (result.error_kind, result.limit) == ("limit-exceeded", "--timeout") and not cacheable(result)


def _deflate_units(block: bytes, count: int) -> bytes:
    """A raw deflate stream of `block` repeated `count` times, built in O(1): after a full flush
    the compressor starts afresh, so every repetition compresses to the same bytes."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    unit = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    return unit * count + compressor.flush()


def _dex_bomb(mib: int) -> bytes:
    """The fixture with a classes.dex that inflates to `mib` MiB at a ratio under 200 (so
    --max-ratio does not stop it) while its headers claim 1 KiB."""
    block = bytes(range(256)) * 4 + bytes(63 * 1024)  # 64 KiB, compresses about 50x
    stream = _deflate_units(block, mib * 16)
    buffer = io.BytesIO()
    with zipfile.ZipFile(APK) as old, zipfile.ZipFile(buffer, "w") as new:
        for info in old.infolist():
            if info.filename != "classes.dex":
                new.writestr(info, old.read(info))
        new.writestr("classes.dex", stream)
    return deflated_with_size(buffer.getvalue(), b"classes.dex", 1024)


@pytest.mark.parametrize("unpacked", ["2048", "256"], ids=["default", "equal-to-memory"])
def test_a_bomb_names_the_unpacked_budget_not_the_memory_limit(tmp_path: Path, unpacked: str) -> None:
    """With --max-unpacked at or above --max-memory, memory used to run out first, so every bomb
    was reported (and never cached) as out-of-memory. The budget is now at most half the memory."""
    bomb = tmp_path / "bomb.apk"
    bomb.write_bytes(_dex_bomb(400))
    env = {**os.environ, "AUDITOR_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-m", "auditor", "scan", "--jobs", "1", "-f", "json", "--max-memory", "256",
                          "--max-unpacked", unpacked, str(bomb)], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=False)
    app = json.loads(out.stdout)["apps"][0]
    assert app["error_kind"] == "limit-exceeded", app
    assert "--max-unpacked: 134217728 bytes, half of --max-memory=256 MiB" in app["error"]


def test_the_unpack_budget_is_at_most_half_the_memory() -> None:
    assert Limits().unpack_budget == 1024 * MiB
    assert Limits(max_unpacked_bytes=100 * MiB).unpack_budget == 100 * MiB
    assert Limits(max_memory_mb=0).unpack_budget == Limits().max_unpacked_bytes
