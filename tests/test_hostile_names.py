"""File names are data: names that are not UTF-8, or hold newlines and backslashes, go through
every output format, the result cache and JSONL streaming without a crash, losslessly in the
machine formats and visibly escaped in the human ones (the policy of auditor.formats.safe)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import zipfile
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.formats import FORMATS
from auditor.formats.safe import visible
from auditor.limits import Limits
from auditor.pipeline import audit_path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
APK = FIXTURES / "apk" / "contacts_upload.apk"

NAMES = (
    os.fsdecode(b"\xe4\xb8\xad\xce\xc4\xff.apk"),  # GBK bytes of a Chinese name, unzipped on Linux
    "new\nline.apk",
    "back\\slash.apk",
    "esc\x1b]0;title\x07\u202egpj.apk",
)


def broken_manifest(source: Path, target: Path) -> None:
    """A copy of `source` whose manifest is not binary XML (its error message could name the file)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = b"<manifest>not binary xml</manifest>" if info.filename == "AndroidManifest.xml" else old.read(info)
            new.writestr(info, data)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    root.mkdir()
    for name in NAMES:
        (root / name).write_bytes(APK.read_bytes())
    broken_manifest(APK, root / ("broken" + NAMES[0]))
    return root


def expected_paths(folder: Path) -> set[bytes]:
    return {os.fsencode(str(p)) for p in folder.iterdir()}


def scan(*args: str) -> str:
    result = CliRunner().invoke(main, ["scan", "--jobs", "2", *args], catch_exceptions=False)
    assert result.exit_code == 2, result.output  # the broken copy is an error, the batch goes on
    return result.stdout  # the report; stderr ends with the run summary


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_survives_hostile_names_with_and_from_the_cache(fmt: str, folder: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("COLUMNS", "1000")  # the table shortens long paths to fit the terminal
    outputs = []
    for run in ("cold", "warm"):
        out = tmp_path / f"{run}.{fmt}"
        scan("-f", fmt, "-o", str(out), str(folder))
        outputs.append(out.read_bytes())
    text = outputs[0].decode("utf-8")  # strict: a report is valid UTF-8 whatever the names
    # identical copies share one timing; JSONL lines come in completion order
    same = [sorted(re.sub(rb'"seconds": [0-9.e-]+', b"", o).splitlines()) for o in outputs]
    assert same[1] == same[0], "a run served from the cache writes the same report"
    with sqlite3.connect(cache_dir / "results.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 2  # two distinct contents
    assert not any(0xD800 <= ord(c) <= 0xDFFF or c in "\x1b\u202e\x85" for c in text)
    check = {"json": _json, "jsonl": _jsonl, "sarif": _sarif, "csv": _csv}.get(fmt, _human)
    check(text, folder)


def _json(text: str, folder: Path) -> None:
    apps = json.loads(text)["apps"]
    assert {os.fsencode(a["input"]) for a in apps} == expected_paths(folder)  # lossless


def _jsonl(text: str, folder: Path) -> None:
    assert len(text.splitlines()) == len(NAMES) + 1
    assert {os.fsencode(json.loads(line)["input"]) for line in text.splitlines()} == expected_paths(folder)


def _sarif(text: str, folder: Path) -> None:
    run = json.loads(text)["runs"][0]
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"] for loc in r["locations"]}
    uris |= {n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
             for n in run["invocations"][0]["toolExecutionNotifications"]}
    assert {unquote_to_bytes(u.removeprefix("file://")) for u in uris} == expected_paths(folder)


def _csv(text: str, folder: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["input"] for r in rows) == sorted(visible(str(p)) for p in folder.iterdir())


def _human(text: str, folder: Path) -> None:
    for name in NAMES:
        assert visible(name) in text.replace("\\\\", "\\").replace("\\_", "_")  # markdown escapes \ and _


def test_jsonl_to_stdout_streams_every_line(folder: Path) -> None:
    lines = scan("-f", "jsonl", "--no-cache", str(folder)).splitlines()
    assert {os.fsencode(json.loads(line)["input"]) for line in lines} == expected_paths(folder)


def test_results_do_not_carry_the_file_name(rules, tmp_path: Path) -> None:
    """An error message names no file, so a cached result cannot name another file with the same
    content (a backslash once made the cache's 'is the name in the result?' check miss)."""
    messages = set()
    for name in ("first.apk", "back\\slash.apk", NAMES[0]):
        broken_manifest(APK, tmp_path / name)
        result = audit_path(str(tmp_path / name), rules, Limits())
        assert result.error_kind == "corrupt-archive"
        assert "slash" not in (result.error or "") and "first" not in (result.error or "")
        messages.add(result.error)
    assert len(messages) == 1


def test_cached_error_never_names_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "cache"))
    broken_manifest(APK, tmp_path / "back\\slash.apk")
    (tmp_path / "other.apk").write_bytes((tmp_path / "back\\slash.apk").read_bytes())
    first = json.loads(scan("-f", "json", str(tmp_path / "back\\slash.apk")))["apps"][0]
    second = json.loads(scan("-f", "json", str(tmp_path / "other.apk")))["apps"][0]
    assert second["input"].endswith("other.apk") and "slash" not in second["error"]
    assert first["error"] == second["error"]
