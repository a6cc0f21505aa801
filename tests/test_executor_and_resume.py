"""Batches survive bad files: hangs and crashes cost one file, and a killed JSONL batch resumes."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from auditor.cli import main
from auditor.executors import Task
from auditor.executors.local import LocalExecutor
from auditor.limits import Limits

FIXTURES = Path(__file__).resolve().parent / "fixtures"


class SlowOrDyingTask(Task):
    """Hangs on files named *hang*, kills its own process on *die*, audits the rest normally."""

    def __call__(self, path: str):  # type: ignore[override]
        name = os.path.basename(path)
        if name == "hang.apk":
            time.sleep(60)
        if name == "die.apk":
            os._exit(9)
        return super().__call__(path)


def test_hang_and_crash_cost_one_file_each(rules, tmp_path: Path) -> None:
    good = str(FIXTURES / "apk" / "benign.apk")
    hang, die = tmp_path / "hang.apk", tmp_path / "die.apk"
    hang.write_bytes(b"x")
    die.write_bytes(b"x")
    task = SlowOrDyingTask(rules, replace(Limits(), timeout=1.0))
    started = time.monotonic()
    results = {r.input: r for r in LocalExecutor(2).run([str(hang), good, str(die), good + ""], task)}
    assert time.monotonic() - started < 45, "the 60 s hang was cut by --timeout, not waited out"
    assert results[str(hang)].error_kind == "limit-exceeded" and "--timeout" in results[str(hang)].error
    assert results[str(die)].error_kind == "worker-died"
    assert results[good].ok


def test_killed_jsonl_batch_resumes_each_file_once(tmp_path: Path) -> None:
    files = [str(p) for p in sorted((FIXTURES / "apk").glob("contacts_*.apk"))]
    out = tmp_path / "results.jsonl"
    runner = CliRunner()
    runner.invoke(main, ["scan", "--jobs", "1", "-f", "jsonl", "-o", str(out), *files[:2]], catch_exceptions=False)
    with out.open("a") as handle:
        handle.write('{"sha256": "cut short by the kil')  # the kill left half a line
    result = runner.invoke(main, ["scan", "--jobs", "2", "-f", "jsonl", "-o", str(out), *files], catch_exceptions=False)
    assert result.exit_code == 0
    lines = []
    for raw in out.read_text().splitlines():
        try:
            lines.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    assert sorted(line["input"] for line in lines) == sorted(files)
