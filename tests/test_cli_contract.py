"""The command-line contract CI relies on (issue 15): baselines, exit codes, -o checks, interrupts,
JSONL resume, the end-of-run summary, and the smaller promises of the README."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from auditor.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BENIGN = str(FIXTURES / "apk" / "benign.apk")
UPLOAD = str(FIXTURES / "apk" / "contacts_upload.apk")
V1 = str(FIXTURES / "apk" / "app_v1.apk")
V2 = str(FIXTURES / "apk" / "app_v2.apk")


def run(*args: str, **kwargs: object) -> Result:
    return CliRunner().invoke(main, list(args), **kwargs)  # type: ignore[arg-type]


def test_one_line_jsonl_baseline_is_read(tmp_path: Path) -> None:
    baseline = tmp_path / "b.jsonl"
    run("scan", "--jobs", "1", "-f", "jsonl", "-o", str(baseline), V2)
    assert len(baseline.read_text().splitlines()) == 1
    again = run("scan", "--jobs", "1", "--baseline", str(baseline), "--fail-on", "low", "-f", "json", V2)
    assert again.exit_code == 0, again.output
    assert {f["baseline_state"] for f in json.loads(again.stdout)["apps"][0]["findings"]} == {"unchanged"}


def test_files_that_cannot_be_a_baseline_are_rejected(tmp_path: Path) -> None:
    sarif = tmp_path / "b.sarif"
    run("scan", "--jobs", "1", "-f", "sarif", "-o", str(sarif), V2)
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    for bad in (sarif, empty, listed):
        result = run("scan", "--jobs", "1", "--baseline", str(bad), V2)
        assert result.exit_code == 2, bad
        assert "not a JSON or JSONL report" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
