"""The scan behind `auditor scan`, `compare` and `diff`: audit paths and produce the report.

`compare` and `diff` must judge apps the same way `scan` does, so they call the same stages
(collect_inputs -> Task -> run_batch on an executor) rather than a variant of them. `write_scan`
adds what only `scan` needs: the result cache, baseline marking, and JSONL streamed as results
arrive (resuming an existing -o file).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.executors import Task
from auditor.executors.local import LocalExecutor
from auditor.formats import RenderOptions, formatter
from auditor.inputs import collect_inputs
from auditor.limits import Limits
from auditor.model import AppResult, Report
from auditor.resume import Resume
from auditor.ruleset.ruleset import RuleSet
from auditor.run import Cache, Executor, Outcome, run_batch

if TYPE_CHECKING:
    from auditor.cache import CacheKey


def scan_report(paths: tuple[Path, ...], rules: RuleSet, policy_ids: tuple[str, ...] = (), *,
                limits: Limits | None = None, jobs: int | None = None, show_progress: bool = False,
                assume_lending: bool = False, use_cache: bool = False) -> Report:
    """Audit `paths` (files or folders) and return the Report `scan` would render for them."""
    inputs, missing = collect_inputs(paths)
    task = Task(rules, limits or Limits(), policy_ids, assume_lending=assume_lending)
    cache, cache_key = _cache(task, use_cache)
    outcome = run_batch(inputs, missing, task, LocalExecutor(jobs), cache=cache, cache_key=cache_key, show_progress=show_progress)
    if outcome.interrupted:
        raise KeyboardInterrupt  # a comparison of part of the apps would mislead: stop as Ctrl-C asked
    return Report(__version__, rules.digest, rules.infos(), tuple(outcome.results))


def _cache(task: Task, use_cache: bool) -> tuple[Cache | None, CacheKey | None]:
    """The result cache and this task's key in it, or (None, None) with --no-cache."""
    if not use_cache:
        return None, None
    from auditor.cache import ResultCache, make_key

    return ResultCache(), make_key(task.rules.digest, task.settings(), task.limits)


def prepare_resume(output: Path | None, fmt: str, rules_digest: str, inputs: list[str], missing: list[str], fresh: bool) -> Resume:
    """What an existing `-f jsonl -o FILE` already holds for this run (its stale lines dropped);
    with `fresh`, the file is emptied instead."""
    from auditor.resume import plan_resume
    from auditor.run import sha256_or_none

    if fmt != "jsonl" or output is None or not output.is_file():
        return Resume()
    if fresh:
        with output.open("w", encoding="utf-8"):
            return Resume()
    return plan_resume(output, rules_digest, inputs, missing, sha256_or_none)


def write_scan(inputs: list[str], missing: list[str], task: Task, executor: Executor, fmt: str, output: Path | None,
               options: RenderOptions, write: Callable[[str], None], *, show_progress: bool, use_cache: bool,
               known: set[tuple[str, str]] | None, resume: Resume | None = None, names: Mapping[str, str] | None = None) -> Outcome:
    """Stream JSONL as results arrive (appending to an -o file after the lines `resume` found there);
    render other formats at the end and hand the text to `write` (the CLI's, which knows stdout from -o).

    `names` maps a file audited in place of a stream (standard input, a pipe) to the name the user gave."""
    from auditor.baseline import mark
    from auditor.formats.jsonl import line
    from auditor.formats.serialize import report_header

    rules = task.rules
    cache, cache_key = _cache(task, use_cache)

    def named(result: AppResult) -> AppResult:
        return replace(result, input=names[result.input]) if names and result.input in names else result

    if fmt != "jsonl":
        outcome = run_batch(inputs, missing, task, executor, cache=cache, cache_key=cache_key, show_progress=show_progress)
        outcome = replace(outcome, results=[mark(named(r), known) if known is not None else named(r) for r in outcome.results])
        report = Report(__version__, rules.digest, rules.infos(), tuple(outcome.results),
                        incomplete=(outcome.done, outcome.total) if outcome.interrupted else None)
        write(formatter(fmt)(report, options))
        return outcome
    header = report_header(Report(__version__, rules.digest, rules.infos()))
    handle = output.open("a", encoding="utf-8") if output is not None else sys.stdout
    try:
        def emit(result: AppResult) -> None:
            handle.write(line(mark(named(result), known) if known is not None else named(result), header))
            handle.flush()

        outcome = run_batch(inputs, missing, task, executor, cache=cache, cache_key=cache_key,
                            resume=resume.done if resume is not None else None, on_result=emit, show_progress=show_progress)
        return replace(outcome, results=[named(r) for r in outcome.results])
    finally:
        if output is not None:
            handle.close()
