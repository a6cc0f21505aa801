"""The sample-report script runs (here on the fixtures, since ../shared is not in a user's clone)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_sample_report_script_runs_on_fixtures(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "tools/make_sample_reports.py", "--corpus", "tests/fixtures/apk", "--out", str(tmp_path),
         "--single-app", "tests/fixtures/apk/contacts_upload.apk"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stderr
    index = (tmp_path / "README.md").read_text()
    assert "corpus.json" in index
    report = json.loads((tmp_path / "corpus.json").read_text())
    assert len(report["apps"]) == len(list((ROOT / "tests/fixtures/apk").glob("*.apk")))
    assert "com.cea.fixture.benign" in (tmp_path / "corpus-table.txt").read_text()
