"""Run a batch: pick an executor, stream results, report progress, keep input order in the end."""

from __future__ import annotations

import sys

from auditor.executors import Task
from auditor.executors.local import LocalExecutor
from auditor.model import AppResult


def _missing(path: str) -> AppResult:
    return AppResult(path, None, None, "error", error="no such file or directory", error_kind="unreadable-file")


def run_batch(inputs: list[str], missing: list[str], task: Task, jobs: int | None, show_progress: bool) -> list[AppResult]:
    """Audit every input; results come back in the order the inputs were given."""
    done: dict[str, AppResult] = {p: _missing(p) for p in missing}
    if jobs == 1 and task.debug:
        stream = (task(p) for p in inputs)
    else:
        stream = LocalExecutor(jobs).run(inputs, task)
    for count, result in enumerate(stream, 1):
        done[result.input] = result
        if show_progress and sys.stderr.isatty():
            print(f"\r{count}/{len(inputs)} files", end="", file=sys.stderr, flush=True)
    if show_progress and sys.stderr.isatty() and inputs:
        print(file=sys.stderr)
    return [done[p] for p in [*missing, *inputs]]
