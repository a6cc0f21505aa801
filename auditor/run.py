"""Run a batch: consult the cache, skip what a resumed JSONL already holds, stream the rest
through an executor, and hand every result to the caller as soon as it arrives.

Streaming is what lets `-o results.jsonl` survive a killed batch: each line is written and flushed
when its file is done, and a rerun with the same output skips the inputs auditor.resume finds
already there (same path, content, rules and tool version), so every input gets exactly one line.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from auditor.executors import Task
from auditor.inputs import unusable
from auditor.model import AppResult
from auditor.records import record

log = logging.getLogger("auditor")

if TYPE_CHECKING:
    from auditor.cache import CacheKey


class Executor(Protocol):
    def run(self, paths: list[str], task: Task) -> Iterator[AppResult]: ...


class Cache(Protocol):
    def get(self, sha256: str, key: CacheKey, path: str | None = None) -> AppResult | None: ...
    def put(self, result: AppResult, key: CacheKey) -> None: ...


@record
class Outcome:
    """What a batch produced: fresh results, and the summaries of lines resumed from a JSONL.

    `interrupted` is set when Ctrl-C stopped the batch: the results are then the files finished
    before it, and `total` says how many there were to do."""

    results: list[AppResult]
    resumed: list[dict[str, object]]
    total: int = 0
    interrupted: bool = False

    @property
    def done(self) -> int:
        return len(self.results) + len(self.resumed)


def sha256_or_none(path: str) -> str | None:
    """The file's sha256, or None when it cannot be read (it then gets its error from the audit)."""
    from auditor.cache import file_sha256

    try:
        return file_sha256(path)
    except OSError:
        return None


class Progress:
    """A one-line progress bar on stderr: files done of total, rate, ETA. Silent off a terminal."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled and total > 0 and sys.stderr.isatty()
        self.started = time.monotonic()
        self.done = 0

    def step(self) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate else 0.0
        filled = int(30 * self.done / self.total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} files "
                         f"{rate:5.1f}/s ETA {eta:4.0f}s")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _missing(path: str) -> AppResult:
    """The error result of a path that is not audited: missing, or not a regular file (never read)."""
    return AppResult(path, None, None, "error", error=unusable(path), error_kind="unreadable-file")


def run_batch(inputs: list[str], missing: list[str], task: Task, executor: Executor, *,
              cache: Cache | None = None, cache_key: CacheKey | None = None,
              resume: Mapping[str, dict[str, Any]] | None = None,
              on_result: Callable[[AppResult], None] = lambda r: None, show_progress: bool = False) -> Outcome:
    """Audit every input once; fresh results come back in input order.

    Ctrl-C stops the batch between results: the files in progress are dropped (never reported as
    failed), and the outcome holds what was finished, marked interrupted."""
    progress = Progress(len(inputs) + len(missing), show_progress)
    done: dict[str, AppResult] = {}
    resumed: list[dict[str, object]] = []
    interrupted = False
    try:
        _run(inputs, missing, task, executor, cache, cache_key, resume, on_result, progress, done, resumed)
    except KeyboardInterrupt:
        interrupted = True
    progress.close()
    return Outcome([done[p] for p in [*missing, *inputs] if p in done], resumed, len(inputs) + len(missing), interrupted)


def _run(inputs: list[str], missing: list[str], task: Task, executor: Executor, cache: Cache | None, cache_key: CacheKey | None,
         resume: Mapping[str, dict[str, Any]] | None, on_result: Callable[[AppResult], None], progress: Progress,
         done: dict[str, AppResult], resumed: list[dict[str, object]]) -> None:
    """run_batch's work, filling `done` and `resumed` as it goes so an interrupt keeps what is finished."""
    todo: list[str] = []
    resume = resume or {}
    for path in [*missing, *inputs]:
        if path in resume:
            resumed.append(resume[path])
            log.debug("%s: already in the JSONL report", path)
            progress.step()
    for path in missing:
        if path not in resume:
            done[path] = _missing(path)
            on_result(done[path])
            progress.step()
    for path in inputs:
        if path in resume:
            continue
        digest = sha256_or_none(path) if cache is not None else None
        hit = cache.get(digest, cache_key, path) if cache is not None and cache_key is not None and digest else None
        if hit is not None:
            done[path] = replace(hit, input=path)
            log.debug("%s", _described(done[path], ", from the cache"))
            on_result(done[path])
            progress.step()
        else:
            todo.append(path)
    for result in _stream(executor, todo, task):
        if cache is not None and cache_key is not None and result.sha256:
            cache.put(result, cache_key)
        done[result.input] = result
        log.debug("%s", _described(result))
        on_result(result)
        progress.step()


def _described(result: AppResult, source: str = "") -> str:
    """One -vv line per file: its outcome, time, and where it came from."""
    outcome = f"ok, band {result.score.band}" if result.ok and result.score else f"error ({result.error_kind}): {result.error}"
    return f"{result.input}: {outcome}, {result.elapsed:.2f} s{source}"


def _stream(executor: Executor, paths: list[str], task: Task) -> Iterable[AppResult]:
    if not paths:
        return ()
    if task.debug:
        return (task(p) for p in paths)
    return executor.run(paths, task)
