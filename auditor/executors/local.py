"""The local executor: a pool of forked worker processes with a time and memory limit per file.

A worker analyses one file at a time. The parent waits on all workers' pipes with the nearest
deadline as timeout; a worker past its deadline is killed and replaced, and its file becomes an
error result. A worker that dies (out of memory, a crash in a C extension) costs only its file.

Portability: the workers need fork (Linux, macOS); the memory cap needs `resource` and the
die-with-parent guard needs Linux's prctl. Where fork is missing (Windows), files are analysed one
after another in this process, without the per-file --timeout and --max-memory (one warning says
so); where only `resource` or prctl is missing, the workers run without that guard.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from auditor.executors import Task
from auditor.extract.prefetch import allow_helper_threads
from auditor.model import AppResult

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

log = logging.getLogger("auditor")

MiB = 1024 * 1024
PR_SET_PDEATHSIG = 1


def can_fork() -> bool:
    """Whether worker processes can be forked here (not on Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _limit_memory(max_memory_mb: int) -> None:
    if max_memory_mb > 0 and resource is not None:
        limit = max_memory_mb * MiB
        # macOS may refuse RLIMIT_AS (ValueError/OSError): the worker then runs without the cap
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


GC_THRESHOLDS = (50_000, 50, 100)
"""Cycle-collector thresholds in a worker (CPython's are 700, 10, 10). An analysis allocates a few
hundred thousand objects that live until its result is sent, almost none in cycles; at the default
rate the collector keeps revisiting them, about a tenth of a large app's analysis time. Garbage
cycles are still collected, a few hundred times less often."""


def _tune_collector() -> None:
    """Freeze what the worker inherited (modules, the rule set: never garbage, never visited again;
    it also keeps the collector from touching, and so copying, pages shared with the parent) and
    collect young objects less often."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the parent dies, so a killed batch leaves no orphans
    blocked on a pipe whose other end sibling workers still hold open."""
    if not sys.platform.startswith("linux"):
        return  # no prctl: workers still end when their pipe closes
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: workers still end when their pipe closes


def _worker(conn: Connection, task: Task) -> None:
    # Ctrl-C reaches the whole process group; the parent alone decides what an interrupt means
    # (it stops the batch and kills the workers), so a worker neither dies of it nor prints a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    allow_helper_threads()  # already so when forked by LocalExecutor; a Dask worker's children need it here
    _limit_memory(task.limits.max_memory_mb)
    _tune_collector()
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(task(job))


class _Slot:
    """One worker process and the file it is working on."""

    def __init__(self, ctx: Any, task: Task) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, task), daemon=True)
        self.process.start()
        child.close()
        self.path: str | None = None
        self.deadline = 0.0

    def give(self, path: str, timeout: float) -> None:
        self.path = path
        self.deadline = time.monotonic() + timeout
        self.conn.send(path)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(1)
        self.conn.close()


class Worker:
    """One forked worker process kept for many files, one at a time, each under the per-file limits.

    For callers that get files one by one rather than as a batch (each Dask worker keeps a few):
    forking once per worker instead of once per file saves the fork and the warm-up of every
    file. A worker that died or hung is replaced before the next file, so a hostile file costs
    only itself.
    """

    def __init__(self, task: Task) -> None:
        self.task = task
        self._ctx = multiprocessing.get_context("fork")
        self._slot = _Slot(self._ctx, task)

    def run(self, path: str) -> AppResult:
        """Audit one file in the worker process (replacing it first if it died while idle)."""
        timeout = self.task.limits.timeout
        if not self._slot.process.is_alive():
            self._replace()
        slot = self._slot
        slot.give(path, timeout)
        while True:
            ready = wait([slot.conn, slot.process.sentinel], max(0.0, slot.deadline - time.monotonic()))
            result, broken = LocalExecutor._outcome(slot, ready, time.monotonic(), timeout)
            if result is not None:
                slot.path = None
                if broken:
                    self._replace()
                return result

    def _replace(self) -> None:
        self._slot.stop()
        self._slot = _Slot(self._ctx, self.task)

    def stop(self) -> None:
        if self._slot.process.is_alive() and self._slot.path is None:
            with contextlib.suppress(OSError):
                self._slot.conn.send(None)
        self._slot.stop()


def _in_process(paths: list[str], task: Task) -> Iterator[AppResult]:
    """The fallback without fork: one file after another in this process. Bad input still becomes
    an error result (the pipeline catches it), but a hang or a memory blow-up is not contained."""
    log.warning("no fork on this platform: analysing files one at a time in this process, "
                "without the per-file --timeout and --max-memory limits")
    for path in paths:
        yield task(path)


def _failure(path: str, kind: str, message: str, elapsed: float, limit: str | None = None) -> AppResult:
    return AppResult(path, None, None, "error", error=message, error_kind=kind, elapsed=elapsed, limit=limit)


class LocalExecutor:
    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        allow_helper_threads()  # before any worker is forked: they inherit it

    def run(self, paths: list[str], task: Task) -> Iterator[AppResult]:
        if not paths:
            return
        if not can_fork():
            yield from _in_process(paths, task)
            return
        ctx = multiprocessing.get_context("fork")
        pending = deque(paths)
        slots = [_Slot(ctx, task) for _ in range(min(self.jobs, len(paths)))]
        try:
            for slot in slots:
                slot.give(pending.popleft(), task.limits.timeout)
            while any(s.path is not None for s in slots):
                yield from self._collect(slots, pending, task, ctx)
        finally:
            for slot in slots:
                if slot.process.is_alive() and slot.path is None:
                    slot.conn.send(None)
                slot.stop()

    def _collect(self, slots: list[_Slot], pending: deque[str], task: Task, ctx: Any) -> Iterator[AppResult]:
        busy = [s for s in slots if s.path is not None]
        timeout = max(0.0, min(s.deadline for s in busy) - time.monotonic())
        ready = wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout)
        now = time.monotonic()
        for i, slot in enumerate(slots):
            if slot.path is None:
                continue
            result, broken = self._outcome(slot, ready, now, task.limits.timeout)
            if result is None:
                continue
            if broken:
                slot.stop()
                slots[i] = slot = _Slot(ctx, task)
            slot.path = None
            if pending:
                slot.give(pending.popleft(), task.limits.timeout)
            yield result

    @staticmethod
    def _outcome(slot: _Slot, ready: list[Any], now: float, timeout: float) -> tuple[AppResult | None, bool]:
        """The slot's result if it has one, and whether its worker must be replaced (died or hung)."""
        assert slot.path is not None
        started = slot.deadline - timeout
        if slot.conn in ready:
            try:
                return slot.conn.recv(), False
            except (EOFError, OSError):
                pass
        if slot.conn in ready or slot.process.sentinel in ready:
            code = slot.process.exitcode
            return _failure(slot.path, "worker-died",
                            f"analysis process died (exit code {code}); likely over --max-memory", now - started), True
        if now >= slot.deadline:
            return _failure(slot.path, "limit-exceeded",
                            f"analysis took longer than {timeout:g} s (limit --timeout)", now - started, "--timeout"), True
        return None, False
