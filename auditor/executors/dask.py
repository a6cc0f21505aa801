"""The Dask executor: spread a batch over a Dask cluster, with the same results as a local run.

Why this shape:

* Each file runs in a child process *on the worker* (a `local.Worker`, forked once and reused for
  file after file, one per Dask thread), so `--timeout` and `--max-memory` hold on a cluster
  exactly as they do locally: a hostile file that hangs or blows up becomes an error result, its
  child is replaced, and the Dask worker itself stays healthy.
* The Task (rule set, limits, policies; ~100 KB pickled) goes to the cluster once, as one
  future that every file task depends on, not with each of possibly millions of files.
* Futures are submitted lazily (a few per worker thread, and a byte budget with `read_bytes`), so
  a list of millions of paths never turns into millions of futures or a copy of the corpus in
  the scheduler's memory.
* Anything that goes wrong with one file on the cluster (a worker killed, a lost connection)
  becomes a `worker-died` error result for that file; `run()` never raises for a single file.

Dask is an optional dependency (`pip install 'contact-exposure-auditor[dask]'`); it is imported only when a
DaskExecutor is created, and its absence is reported as a DaskExecutorError that says so.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from auditor import __version__
from auditor.executors import Task
from auditor.executors.local import Worker
from auditor.model import AppResult

FUTURES_PER_THREAD = 4
"""Futures kept in flight per worker thread: enough to keep every thread busy while results
travel back, few enough that a huge list costs almost nothing in the client and scheduler."""

BYTES_IN_FLIGHT = 1024 * 1024 * 1024
"""With read_bytes, file bytes that may sit in submitted-but-unfinished tasks at once. They live in
the scheduler's task specs (so a retry after a worker death still has them); this caps that memory."""

REFRESH_SECONDS = 5.0
"""How often the client re-reads the cluster's thread count, so workers that join later (an
adaptive or Slurm cluster scaling up) get work without a scheduler round-trip per file."""

NO_WORKER_TIMEOUT = 600.0
"""Seconds a batch waits with no worker connected before it gives up on the remaining files.
Long enough for a queued Slurm or Kubernetes cluster to start its first workers; the wait is
announced on stderr as soon as it begins, so it is never silent."""

POLL_SECONDS = 0.1
"""How often the client looks for a finished file while none is ready."""

WORKER_CHECK_SECONDS = 1.0
"""How often, while it waits, the client asks the scheduler how many workers it has."""

log = logging.getLogger("auditor")

INSTALL_HINT = "pip install 'contact-exposure-auditor[dask]' (in a checkout: pip install -e '.[dask]')"


class DaskExecutorError(RuntimeError):
    """The cluster cannot be used at all (Dask missing, scheduler unreachable, workers without
    auditor); raised before any file is submitted so the CLI can stop with one clear line."""


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise DaskExecutorError(f"the dask executor needs Dask's distributed scheduler: {INSTALL_HINT}") from exc
    return distributed


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return detail if len(detail) <= 200 else detail[:197] + "..."


def _lost_message(exc: BaseException) -> str:
    """One line for a file whose Dask task failed; Dask's own messages span several lines."""
    kind = type(exc).__name__
    if kind == "KilledWorker":
        attempts = getattr(exc, "allowed_failures", 0) + 1
        return (f"Dask worker died while analysing this file ({attempts} attempt(s), KilledWorker); "
                "see the worker logs (out of memory, node lost, job ended?)")
    if kind == "CancelledError":
        return "Dask cancelled this file's task (scheduler restarted or connection lost)"
    return f"Dask task for this file failed ({_one_line(exc)})"


def _failure(path: str, message: str) -> AppResult:
    return AppResult(path, None, None, "error", error=message, error_kind="worker-died")


# --- worker side -------------------------------------------------------------------------------

_worker_setup_lock = threading.Lock()
_worker_ready = False

WARM_MODULES = ("asn1crypto.cms",)
"""Modules the pipeline imports lazily. The analysis children are forks of the Dask worker, and
one is forked again after a file hangs or kills it; importing these once in the worker makes
every child start warm. (androguard is no longer on the scan path: the manifest reader is our
own, and androguard's resource-table parser is only a rare fallback.)
A module missing from this list only costs time, never changes a result."""


def _prepare_worker() -> None:
    """Once per Dask worker process: allow forking the per-file child, and warm it up.

    Dask's nanny starts workers as daemonic multiprocessing processes, and multiprocessing
    refuses to start children from a daemonic process (so that they are not orphaned when it is
    terminated). The children here are this worker's own (local.Worker kills and joins them, and
    they die with the worker), so the guard does not apply; clearing the flag is the same as starting the
    workers with DASK_DISTRIBUTED__WORKER__DAEMON=False, without asking every user to.
    """
    global _worker_ready
    with _worker_setup_lock:
        if _worker_ready:
            return
        current = multiprocessing.current_process()
        if current.daemon:
            current._config["daemon"] = False  # type: ignore[attr-defined]
        # Python 3.12+ warns on every fork from a threaded process; the forked child only runs the
        # audit loop of auditor.executors.local and never touches the worker's other threads.
        warnings.filterwarnings("ignore", message=r".*multi-threaded, use of fork\(\)", category=DeprecationWarning)
        for name in WARM_MODULES:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        _worker_ready = True


_idle_workers: list[Worker] = []
_idle_lock = threading.Lock()


def _task_key(task: Task) -> tuple[object, ...]:
    """What decides a worker's behaviour: a worker forked for one run serves only files of the same."""
    return (task.rules.digest, task.limits, task.policy_ids, task.debug)


def _audit_in_child(path: str, task: Task, keep: bool = True) -> AppResult:
    """One file in a forked child with the task's time and memory limits, reusing an idle child.

    Children are forked once and kept (one per Dask thread that is busy at the same time); the
    first file of a run with other rules or limits retires the children of the previous one.
    `keep=False` (the client auditing a file it cannot ship) ends the child afterwards.
    """
    if not keep:
        once = Worker(task)
        try:
            return once.run(path)
        finally:
            once.stop()
    key = _task_key(task)
    with _idle_lock:
        stale = [w for w in _idle_workers if _task_key(w.task) != key]
        _idle_workers[:] = [w for w in _idle_workers if _task_key(w.task) == key]
        idle = _idle_workers.pop() if _idle_workers else None
    for old in stale:
        old.stop()
    worker = idle if idle is not None else Worker(task)
    try:
        return worker.run(path)
    finally:
        with _idle_lock:
            _idle_workers.append(worker)


def _audit_on_worker(path: str, source: str | bytes, task: Task) -> AppResult:
    """The Dask task: audit one file, given as `source`, and report it under `path` as given.

    `source` is either the absolute path of the file on a shared file system (the client
    resolves relative paths against *its* working directory, which a worker started elsewhere
    does not share), or the file's bytes, shipped by the client. Bytes go to a private temporary
    file under a fixed name: a result never depends on the file's name, and the worker's file
    system need not accept the client's (a name that is not UTF-8, or too long). Either way
    `input` is set back to `path`, so the result equals what a local run produces.
    """
    _prepare_worker()
    if isinstance(source, str):
        return replace(_audit_in_child(source, task), input=path)
    with tempfile.TemporaryDirectory(prefix="auditor-") as folder:
        local = os.path.join(folder, "input")
        with open(local, "wb") as handle:
            handle.write(source)
        del source
        return replace(_audit_in_child(local, task), input=path)


def _hold_task(task: Task) -> Task:
    """The Dask task whose result is the Task itself, so file tasks can depend on one copy."""
    return task


def _worker_version() -> str:
    """What a worker reports to the client's compatibility check."""
    return __version__


# --- client side -------------------------------------------------------------------------------


class DaskExecutor:
    """Run a batch on a Dask cluster: an existing scheduler, or an injected `distributed.Client`.

    `read_bytes=False` (default): workers open the paths themselves, so they must see the files
    under the same paths (a shared file system). `read_bytes=True`: the client reads each file
    and ships its bytes, for workers that cannot see the client's disk.
    `retries`: how often Dask re-runs a file whose task failed (not its analysis: an analysis
    failure is an ordinary error result) before it becomes a `worker-died` result.
    """

    def __init__(self, scheduler: str | None = None, *, read_bytes: bool = False, retries: int = 1, client: Any = None,
                 no_worker_timeout: float = NO_WORKER_TIMEOUT) -> None:
        distributed = _import_distributed()
        self.no_worker_timeout = no_worker_timeout
        if client is None and not scheduler:
            raise DaskExecutorError("the dask executor needs a scheduler address (--scheduler tcp://HOST:PORT)")
        self.read_bytes = read_bytes
        self.retries = max(0, retries)
        self._owns_client = client is None
        if client is None:
            try:
                client = distributed.Client(scheduler, set_as_default=False, timeout="30s")
            except (OSError, TimeoutError) as exc:
                raise DaskExecutorError(f"cannot connect to the Dask scheduler at {scheduler}: {_one_line(exc)}") from exc
        self.client = client
        self._as_completed = distributed.as_completed
        self._check_workers()

    def _check_workers(self) -> None:
        """Fail fast when workers that are already up cannot run this auditor.

        Without this, a worker without auditor installed (or with another version, which could
        give other results) would turn every file into a `worker-died` error. Workers that join
        later are not checked; keep one environment for the whole cluster.
        """
        try:
            versions = self.client.run(_worker_version, on_error="return")
        except Exception as exc:  # report any failure of the check as one line
            raise DaskExecutorError(f"cannot check the Dask workers: {_one_line(exc)}") from exc
        for worker, version in sorted(versions.items()):
            if isinstance(version, BaseException):
                raise DaskExecutorError(f"Dask worker {worker} cannot run auditor ({_one_line(version)}); "
                                        f"install auditor {__version__} on every worker")
            if version != __version__:
                raise DaskExecutorError(f"Dask worker {worker} runs auditor {version}, this client {__version__}; "
                                        "use the same version everywhere so results do not depend on the worker")

    def close(self) -> None:
        """Close the connection if this executor opened it (an injected client belongs to the caller)."""
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _window(self) -> int:
        try:
            threads = int(sum(self.client.nthreads().values()))
        except Exception:  # a failed refresh keeps a small window; futures report errors
            threads = 0
        return FUTURES_PER_THREAD * max(1, threads)

    def _payload(self, path: str, task: Task) -> bytes | AppResult:
        """What to ship for `path`: its bytes, or the finished result when the client cannot ship it.

        A file the client cannot read, or one over --max-unpacked, is audited right here by a
        one-file LocalExecutor: the pipeline fails on it before reading it, so this is cheap and
        gives exactly the error result a local run gives, without loading a huge file into memory.
        """
        try:
            if os.path.getsize(path) <= task.limits.max_unpacked_bytes:
                with open(path, "rb") as handle:
                    return handle.read()
        except OSError:
            pass
        return _audit_in_child(path, task, keep=False)

    def run(self, paths: Iterable[str], task: Task) -> Iterator[AppResult]:
        """Yield one AppResult per path, in completion order; never raises for a single file.

        `paths` is consumed lazily, a few files ahead of the cluster, so it may be a generator
        (a huge --from-list, or a cache/resume filter that hashes files as it goes) and the
        cluster starts working on the first files while the rest are still being listed.

        If the cluster itself goes away (the scheduler dies, the client cannot reconnect), every
        file not yet done gets a `worker-died` result saying so; with `-o results.jsonl` a rerun
        then audits exactly those files.
        """
        remaining = iter(paths)
        exhausted = False
        in_flight: dict[Any, tuple[str, int]] = {}
        task_ref: Any = None
        try:
            completed = self._as_completed(loop=self.client.loop, with_results=False)
            window, refreshed = self._window(), time.monotonic()
            bytes_in_flight = 0
            while not exhausted or in_flight:
                if time.monotonic() - refreshed > REFRESH_SECONDS:
                    window, refreshed = self._window(), time.monotonic()
                while not exhausted and len(in_flight) < window and (not in_flight or bytes_in_flight < BYTES_IN_FLIGHT):
                    path = next(remaining, None)
                    if path is None:
                        exhausted = True
                        break
                    source: str | bytes = os.path.abspath(path)
                    if self.read_bytes:
                        payload = self._payload(path, task)
                        if isinstance(payload, AppResult):
                            yield payload
                            continue
                        source = payload
                    if task_ref is None:
                        # A computed future rather than client.scatter: it needs no worker yet (a
                        # Slurm cluster may still be queued), travels worker to worker on first use,
                        # and if every worker holding it dies the scheduler recomputes it.
                        task_ref = self.client.submit(_hold_task, task, pure=False)
                    size = len(source) if isinstance(source, bytes) else 0
                    future = self._submit(path, source, task_ref)
                    in_flight[future] = (path, size)
                    bytes_in_flight += size
                    completed.add(future)
                if not in_flight:
                    continue
                future = self._next_done(completed)
                path, size = in_flight.pop(future)
                bytes_in_flight -= size
                yield self._result(future, path)
                if self.client.status in ("closing", "closed"):
                    raise ConnectionError("the connection to the Dask scheduler was closed")
        except Exception as exc:  # the cluster is gone: account for every remaining file
            message = f"Dask cluster unavailable ({_one_line(exc)}); file not audited"
            lost = [path for path, _size in in_flight.values()]
            in_flight.clear()
            for path in [*lost, *remaining]:
                yield _failure(path, message)
        finally:
            # Reached early only when the caller stops iterating (or the cluster broke): drop the
            # remaining work so the cluster does not keep auditing files nobody will read.
            with contextlib.suppress(Exception):
                self.client.cancel([*in_flight, *([task_ref] if task_ref is not None else [])])

    def _next_done(self, completed: Any) -> Any:
        """The next finished future. While none is, watch the cluster: with no worker connected,
        warn at once, and raise after `no_worker_timeout` seconds (run() then accounts for every
        remaining file) instead of waiting in silence for workers that may never come."""
        alone_since: float | None = None
        checked = 0.0
        while not completed.has_ready():
            now = time.monotonic()
            if now - checked >= WORKER_CHECK_SECONDS:
                checked = now
                if self._workers() > 0:
                    alone_since = None
                elif alone_since is None:
                    alone_since = now
                    log.warning("no Dask worker is connected to the scheduler; waiting up to %g s for one",
                                self.no_worker_timeout)
                elif now - alone_since >= self.no_worker_timeout:
                    raise ConnectionError(f"no Dask worker connected for {self.no_worker_timeout:g} s")
            time.sleep(POLL_SECONDS)
        return next(completed)

    def _workers(self) -> int:
        try:
            return len(self.client.nthreads())
        except Exception:  # a failed query counts as no worker: the timeout then decides
            return 0

    def _submit(self, path: str, source: str | bytes, task_ref: Any) -> Any:
        # Bytes ride inside the task on purpose (a retry on another worker still has them), so
        # Dask's "large graph" hint for files over 10 MB does not apply; BYTES_IN_FLIGHT bounds them.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sending large graph")
            return self.client.submit(_audit_on_worker, path, source, task_ref, pure=False, retries=self.retries)

    @staticmethod
    def _result(future: Any, path: str) -> AppResult:
        try:
            result = future.result()
        except Exception as exc:  # KilledWorker, CancelledError, comm errors: one file lost
            return _failure(path, _lost_message(exc))
        if not isinstance(result, AppResult):
            return _failure(path, f"dask worker returned {type(result).__name__}, not a result")
        return result
