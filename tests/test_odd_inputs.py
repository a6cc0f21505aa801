"""Inputs that are not regular files are named for what they are and never read; --from-list is
read with bounded lines; --no-cache leaves the cache folder alone."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.limits import Limits
from auditor.pipeline import audit_path

ROOT = Path(__file__).resolve().parents[1]
APK = ROOT / "tests" / "fixtures" / "apk" / "contacts_upload.apk"


def scan(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(main, ["scan", "--jobs", "1", *args], input=stdin, catch_exceptions=False)


@pytest.fixture
def odd(tmp_path: Path) -> dict[str, Path]:
    paths = {"fifo": tmp_path / "pipe.apk", "loop": tmp_path / "loop.apk", "broken": tmp_path / "broken.apk",
             "missing": tmp_path / "missing.apk", "device": Path("/dev/zero")}
    os.mkfifo(paths["fifo"])
    os.symlink(tmp_path / "loop2.apk", paths["loop"])
    os.symlink(paths["loop"], tmp_path / "loop2.apk")
    os.symlink(tmp_path / "gone.apk", paths["broken"])
    return paths


WORDS = {"fifo": "a FIFO (named pipe), not a file", "device": "a character device, not a file",
         "loop": "a symbolic link loop", "broken": "a broken symbolic link", "missing": "no such file or directory"}


def test_each_odd_input_is_named_and_skipped(odd: dict[str, Path]) -> None:
    """A FIFO used to hang the batch, /dev/zero to be read for ever; all were 'no such file'."""
    result = scan("-f", "json", *map(str, odd.values()), str(APK))
    assert result.exit_code == 2
    apps = {a["input"]: a for a in json.loads(result.stdout)["apps"]}
    for name, path in odd.items():
        app = apps[str(path)]
        assert app["status"] == "error" and app["error_kind"] == "unreadable-file"
        assert app["error"].startswith(WORDS[name]) and "\n" not in app["error"], app["error"]
    assert apps[str(APK)]["status"] == "ok"


def test_odd_entries_in_a_folder_are_reported(odd: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "real.apk").write_bytes(APK.read_bytes())
    apps = json.loads(scan("-f", "json", str(tmp_path)).stdout)["apps"]
    errors = {Path(a["input"]).name: a["error"] for a in apps if a["status"] == "error"}
    assert errors == {"broken.apk": "a broken symbolic link (to '%s'): skipped" % (tmp_path / "gone.apk"),
                      "loop.apk": "a symbolic link loop: skipped", "loop2.apk": "a symbolic link loop: skipped",
                      "pipe.apk": "a FIFO (named pipe), not a file: skipped without reading it"}
    assert [Path(a["input"]).name for a in apps if a["status"] == "ok"] == ["real.apk"]


def test_the_pipeline_never_opens_a_fifo_for_reading_blocked(rules, odd: dict[str, Path]) -> None:
    """A path swapped for a FIFO after listing: the worker must not block on it."""
    result = audit_path(str(odd["fifo"]), rules, Limits())
    assert result.error_kind == "unreadable-file" and result.error and result.error.startswith(WORDS["fifo"])


def _small_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1024 * 1024 * 1024, 1024 * 1024 * 1024))


@pytest.mark.parametrize("source", ["/dev/zero", "/dev/urandom"])
def test_from_list_of_a_device_is_one_line_and_bounded(source: str, tmp_path: Path) -> None:
    """`--from-list /dev/zero` read one endless line until memory ran out."""
    out = subprocess.run([sys.executable, "-m", "auditor", "scan", "--from-list", source], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, preexec_fn=_small_address_space,
                         env={**os.environ, "AUDITOR_CACHE_DIR": str(tmp_path / "cache")}, check=False)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "MemoryError" not in out.stderr
    assert "--from-list" in out.stderr and "not a list of paths" in out.stderr


def test_from_list_carries_names_that_are_not_utf8(tmp_path: Path) -> None:
    name = tmp_path / os.fsdecode(b"\xce\xc4\xff.apk")
    name.write_bytes(APK.read_bytes())
    listing = tmp_path / "list.txt"
    listing.write_bytes(os.fsencode(str(name)) + b"\n\n" + os.fsencode(str(APK)) + b"\r\n")
    apps = json.loads(scan("-f", "json", "--from-list", str(listing)).stdout)["apps"]
    assert [os.fsencode(a["input"]) for a in apps] == [os.fsencode(str(name)), os.fsencode(str(APK))]
    assert {a["status"] for a in apps} == {"ok"}


def test_no_cache_writes_nothing_to_the_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checked rule set used to be written there even with --no-cache."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(folder))
    assert scan("--no-cache", "-f", "json", str(APK)).exit_code == 0
    compared = CliRunner().invoke(main, ["compare", "--no-cache", "-j", "1", str(APK), str(APK)], catch_exceptions=False)
    assert compared.exit_code == 0
    assert not folder.exists()
    assert scan("-f", "json", str(APK)).exit_code == 0
    assert folder.is_dir() and any(folder.iterdir())  # without the flag, it is used
