"""The Dask executor gives exactly the local executor's results, and survives a dying worker.

A real LocalCluster of worker processes is used (not threads), because what matters here only
shows up across processes: pickling the Task and results, forking the per-file child from a
daemonic Dask worker, shipping bytes with read_bytes, and a worker killed mid-file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")
psutil = pytest.importorskip("psutil")  # a dependency of distributed

from auditor.executors import Task  # noqa: E402 - only once Dask is known to be installed
from auditor.executors.dask import FUTURES_PER_THREAD, DaskExecutor, DaskExecutorError  # noqa: E402
from auditor.executors.local import LocalExecutor  # noqa: E402
from auditor.limits import Limits  # noqa: E402
from auditor.model import CHANNELS, AppResult  # noqa: E402
from auditor.policy import select  # noqa: E402
from auditor.ruleset.ruleset import load_ruleset  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PATHS = sorted(str(p) for pattern in ("apk/*.apk", "bundles/*", "bad/*") for p in FIXTURES.glob(pattern))


def summary(r: AppResult) -> tuple[Any, ...]:
    """What a reader of the report looks at first: status, error, score and band, channel levels,
    rule ids, policy verdicts (a failing comparison then says which of these differs)."""
    levels = tuple(r.facts.channels[c].level for c in CHANNELS) if r.facts else None
    return (r.input, r.status, r.error_kind, r.error, r.sha256, r.container,
            r.score.value if r.score else None, r.score.band if r.score else None, levels,
            tuple(f.rule_id for f in r.findings), tuple((p.policy, p.verdict) for p in r.policies))


@pytest.fixture(scope="module")
def task() -> Task:
    rules = load_ruleset()
    return Task(rules, Limits(timeout=60.0), select(rules, "all"))


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
          distributed.Client(cluster) as client):
        yield client


@pytest.fixture(scope="module")
def local_results(task: Task) -> dict[str, AppResult]:
    results = {r.input: r for r in LocalExecutor(2).run(PATHS, task)}
    assert sorted(results) == PATHS
    return results


def test_fixture_set_covers_ok_and_error_results(local_results: dict[str, AppResult]) -> None:
    statuses = {r.status for r in local_results.values()}
    assert statuses == {"ok", "error"}, "the comparison below needs both kinds of result"


@pytest.mark.parametrize("read_bytes", [False, True], ids=["shared-path", "read-bytes"])
def test_same_results_as_local_executor(client: Any, task: Task, local_results: dict[str, AppResult], read_bytes: bool) -> None:
    executor = DaskExecutor(client=client, read_bytes=read_bytes)
    submitted = 0
    submit = executor._submit

    def counting_submit(*args: Any) -> Any:
        nonlocal submitted
        submitted += 1
        return submit(*args)

    executor._submit = counting_submit  # type: ignore[assignment,method-assign]
    in_flight = []
    results: dict[str, AppResult] = {}
    for result in executor.run(PATHS, task):
        assert result.input not in results, "one result per input"
        results[result.input] = result
        in_flight.append(submitted - len(results))
    assert sorted(results) == PATHS
    for path in PATHS:
        assert summary(results[path]) == summary(local_results[path]), path
        # and not just what the report shows: every fact and evidence item, all but the timing
        assert replace(results[path], elapsed=0.0) == replace(local_results[path], elapsed=0.0), path
    # Lazy submission: never more than a few futures per worker thread, however long the list.
    assert max(in_flight) < FUTURES_PER_THREAD * 2
    assert_all_released(client)


def assert_all_released(client: Any) -> None:
    """Futures are released asynchronously (on the client's event loop); allow it a moment."""
    deadline = time.monotonic() + 10
    while client.futures and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not client.futures, "every future is released once its result is yielded"


def test_scheduler_address_and_relative_paths(client: Any, task: Task, local_results: dict[str, AppResult]) -> None:
    """Connect by address, as the CLI does, with workers whose working directory is not ours
    (a `dask worker` started by a batch job): relative inputs must still be found, and reported
    as given."""
    chosen = [*[p for p in PATHS if "/apk/" in p][:4], str(FIXTURES / "bad" / "pe32.apk")]
    relative = [os.path.relpath(p) for p in chosen]
    assert all(not os.path.isabs(p) for p in relative)
    cwd = client.run(os.getcwd)
    client.run(os.chdir, "/")
    try:
        with DaskExecutor(client.scheduler.address) as executor:
            results = {r.input: r for r in executor.run(relative, task)}
    finally:
        for worker, folder in cwd.items():
            client.run(os.chdir, folder, workers=[worker])
    assert sorted(results) == sorted(relative)
    for rel, path in zip(relative, chosen, strict=True):
        assert summary(results[rel])[1:] == summary(local_results[path])[1:], rel


def test_read_bytes_gives_the_same_error_message(client: Any, task: Task, local_results: dict[str, AppResult]) -> None:
    """A shipped copy is written under another name on the worker; the message must not change."""
    path = str(FIXTURES / "bad" / "pe32.apk")
    (result,) = DaskExecutor(client=client, read_bytes=True).run([path], task)
    assert result.input == path
    assert result.error == local_results[path].error


@pytest.mark.parametrize("read_bytes", [False, True], ids=["shared-path", "read-bytes"])
def test_hostile_file_names_go_through_the_cluster(client: Any, task: Task, tmp_path: Path, read_bytes: bool) -> None:
    """Names that are not UTF-8, or hold a newline or a backslash, travel to the workers and back unchanged."""
    source = FIXTURES / "apk" / "contacts_upload.apk"
    paths = [str(tmp_path / name) for name in (os.fsdecode(b"\xe4\xb8\xad\xff.apk"), "new\nline.apk", "back\\slash.apk")]
    for path in paths:
        Path(path).write_bytes(source.read_bytes())
    expected = {r.input: summary(r) for r in LocalExecutor(1).run(paths, task)}
    results = {r.input: summary(r) for r in DaskExecutor(client=client, read_bytes=read_bytes).run(paths, task)}
    assert results == expected and {s[1] for s in results.values()} == {"ok"}


def test_unreadable_file_with_read_bytes_gives_local_error(client: Any, task: Task, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder.apk"
    folder.mkdir()
    expected = next(LocalExecutor(1).run([str(folder)], task))
    (result,) = DaskExecutor(client=client, read_bytes=True).run([str(folder)], task)
    assert summary(result) == summary(expected)
    assert result.error_kind == "unreadable-file"


def test_oversized_file_with_read_bytes_is_not_shipped(client: Any, task: Task) -> None:
    """Over --max-unpacked, the client does not load the file to send it: it reports the limit
    itself, exactly as a local run does."""
    path = str(FIXTURES / "apk" / "multidex.apk")
    small = replace(task, limits=replace(task.limits, max_unpacked_bytes=1024))
    expected = next(LocalExecutor(1).run([path], small))
    executor = DaskExecutor(client=client, read_bytes=True)
    executor._submit = None  # type: ignore[assignment,method-assign]  # would raise if it shipped anything
    (result,) = executor.run([path], small)
    assert result.error_kind == "limit-exceeded"
    assert summary(result) == summary(expected)


def test_paths_are_consumed_lazily(client: Any, task: Task) -> None:
    """A generator of paths (a huge --from-list, a resume filter hashing as it goes) is read only
    a few files ahead of the cluster, so work starts before the list is complete."""
    pulled = 0

    def listing() -> Iterator[str]:
        nonlocal pulled
        for path in PATHS:
            pulled += 1
            yield path

    stream = DaskExecutor(client=client).run(listing(), task)
    next(stream)
    assert pulled <= FUTURES_PER_THREAD * 2 + 1 < len(PATHS)
    assert len(list(stream)) == len(PATHS) - 1


def test_empty_list_yields_nothing(client: Any, task: Task) -> None:
    assert list(DaskExecutor(client=client).run([], task)) == []


def test_stopping_early_cancels_the_rest(client: Any, task: Task) -> None:
    stream = DaskExecutor(client=client).run(PATHS, task)
    assert isinstance(stream, Generator)
    next(stream)
    stream.close()
    assert_all_released(client)


def test_missing_dask_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)
    with pytest.raises(DaskExecutorError, match=r"pip install 'contact-exposure-auditor\[dask\]'"):
        DaskExecutor("tcp://127.0.0.1:8786")


@dataclass(frozen=True)
class StuckTask(Task):
    """Blocks on a file named stuck.apk until the worker is killed. (A FIFO used to do this, but
    the pipeline now refuses a FIFO without reading it, faster than the test can kill.)"""

    def __call__(self, path: str) -> AppResult:
        if path.endswith("stuck.apk"):
            time.sleep(120)
        return super().__call__(path)


def test_a_killed_worker_costs_one_error_result_not_the_run(task: Task, tmp_path: Path) -> None:
    """The Dask worker analysing a file is SIGKILLed (as the OOM killer or a node loss would):
    run() yields a worker-died result for that file instead of raising, and the executor goes on.

    The analysis of stuck.apk blocks until the test kills the worker; allowed-failures 0 makes
    the scheduler give up on the first death instead of retrying on three more workers.
    """
    fifo = tmp_path / "stuck.apk"
    benign = str(FIXTURES / "apk" / "benign.apk")
    fifo.write_bytes(Path(benign).read_bytes())
    with (dask.config.set({"distributed.scheduler.allowed-failures": 0}),
          distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
          distributed.Client(cluster) as client):
        pids = client.run(os.getpid)
        orphans: list[Any] = []

        def kill_when_busy() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                busy = [worker for worker, keys in client.processing().items() if keys]
                if busy:
                    time.sleep(0.5)  # let the worker fork the analysis child and block on the FIFO
                    worker = psutil.Process(pids[busy[0]])
                    orphans.extend(worker.children(recursive=True))
                    worker.send_signal(signal.SIGKILL)
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_when_busy, daemon=True)
        killer.start()
        executor = DaskExecutor(client=client)
        try:
            (result,) = executor.run([str(fifo)], StuckTask(task.rules, task.limits, task.policy_ids))
        finally:
            killer.join(5)
            # The analysis child outlives its killed parent (it holds both ends of its pipe, so
            # it never sees EOF); end it here so the test leaves no process behind.
            for child in orphans:
                with contextlib.suppress(psutil.Error):
                    child.kill()
        assert result.input == str(fifo)
        assert result.status == "error" and result.error_kind == "worker-died"
        assert "\n" not in (result.error or "")
        client.wait_for_workers(1, timeout=30)
        (after,) = executor.run([benign], task)
        assert after.ok


def test_no_worker_left_warns_and_times_out(task: Task, caplog: pytest.LogCaptureFixture) -> None:
    """A cluster without workers (none started yet, or all gone) used to make run() wait forever."""
    with (distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster,
          distributed.Client(cluster) as empty):
        executor = DaskExecutor(client=empty, no_worker_timeout=2.0)
        started = time.monotonic()
        with caplog.at_level("WARNING", logger="auditor"):
            results = list(executor.run(PATHS[:3], task))
    assert time.monotonic() - started < 30
    assert sorted(r.input for r in results) == PATHS[:3]
    assert {r.error_kind for r in results} == {"worker-died"}
    assert all("no Dask worker connected for 2 s" in (r.error or "") for r in results)
    assert any("no Dask worker is connected" in m for m in caplog.messages)
