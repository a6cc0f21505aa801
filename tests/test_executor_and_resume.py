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


def test_worker_is_reused_across_files_and_replaced_after_a_hang(rules, tmp_path: Path) -> None:
    """local.Worker (what each Dask worker keeps) forks once for many files, and a file that hangs
    or kills its process costs only itself: the next file gets a fresh process."""
    from auditor.executors.local import Worker

    good = str(FIXTURES / "apk" / "benign.apk")
    hang, die = tmp_path / "hang.apk", tmp_path / "die.apk"
    hang.write_bytes(b"x")
    die.write_bytes(b"x")
    worker = Worker(SlowOrDyingTask(rules, replace(Limits(), timeout=1.0)))
    try:
        first = worker._slot.process.pid
        assert worker.run(good).ok and worker.run(good).ok
        assert worker._slot.process.pid == first  # one fork served both files
        assert worker.run(str(hang)).error_kind == "limit-exceeded"
        assert worker._slot.process.pid != first
        assert worker.run(str(die)).error_kind == "worker-died"
        assert worker.run(good).ok
    finally:
        worker.stop()


def test_dask_side_pool_keeps_one_child_per_task(rules) -> None:
    """The function each Dask task runs reuses an idle child of the same task, and retires
    children of another task (other rules or limits) instead of serving files with them."""
    from auditor.executors import dask as dask_executor

    good = str(FIXTURES / "apk" / "benign.apk")
    task = Task(rules, Limits(timeout=60.0))
    try:
        assert dask_executor._audit_in_child(good, task).ok
        (worker,) = dask_executor._idle_workers
        pid = worker._slot.process.pid
        assert dask_executor._audit_in_child(good, task).ok
        assert [w._slot.process.pid for w in dask_executor._idle_workers] == [pid]
        other = Task(rules, Limits(timeout=30.0))
        assert dask_executor._audit_in_child(good, other).ok
        (newer,) = dask_executor._idle_workers
        assert newer.task is other and not worker._slot.process.is_alive()
    finally:
        for w in dask_executor._idle_workers:
            w.stop()
        dask_executor._idle_workers.clear()


class CollectorReportingTask(Task):
    """Reports, as the error text of its result, the worker's collector thresholds and frozen count."""

    def __call__(self, path: str):  # type: ignore[override]
        import gc

        from auditor.model import AppResult

        return AppResult(path, None, None, "error", error=f"{gc.get_threshold()} {gc.get_freeze_count()}",
                         error_kind="internal-error")


def test_workers_collect_young_objects_less_often_and_freeze_what_they_inherit(rules) -> None:
    """An analysis's few hundred thousand objects are not revisited by the cycle collector at
    CPython's default rate (issue 16); the worker's inherited objects (the rule set) are frozen."""
    from auditor.executors.local import GC_THRESHOLDS

    result = next(LocalExecutor(1).run([str(FIXTURES / "apk" / "benign.apk")], CollectorReportingTask(rules, Limits())))
    thresholds, frozen = result.error.rsplit(" ", 1)
    assert thresholds == str(GC_THRESHOLDS)
    assert int(frozen) > 10_000
