"""Batch throughput of the executors: local --jobs 1 and 2, and a Dask LocalCluster of 1 and 2 workers.

    python bench/executors.py [--rounds 3] [--copies 2] [--corpus ../shared/corpus]

Each round audits the corpus `--copies` times over (the same files listed again, no result cache)
with each set-up in turn, so drifting load hits them alike; medians of the rounds are printed as
a markdown table. Wall time is what a user waits; CPU seconds per file (the process tree: the CLI
and its workers, or the Dask workers and their analysis children) barely move with load. Needs
`pip install '.[dask]'`.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from run import corpus_files, machine  # noqa: E402


def _tree_cpu(pids: list[int]) -> float:
    """CPU seconds of these processes and all their descendants, live or reaped."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            procs = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            continue
        for p in procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system + (t.children_user + t.children_system if p is proc else 0.0)
            except psutil.Error:
                pass
    return total


def _local(jobs: int, files: list[str], task: object) -> tuple[float, float]:
    from auditor.executors.local import LocalExecutor

    before = os.times()
    started = time.perf_counter()
    results = list(LocalExecutor(jobs).run(files, task))  # type: ignore[arg-type]
    wall = time.perf_counter() - started
    after = os.times()
    assert len(results) == len(files)
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def _dask(client: object, files: list[str], task: object) -> tuple[float, float]:
    from auditor.executors.dask import DaskExecutor

    pids = list(client.run(os.getpid).values())  # type: ignore[attr-defined]
    before = _tree_cpu(pids)
    started = time.perf_counter()
    results = list(DaskExecutor(client=client).run(files, task))  # type: ignore[arg-type]
    wall = time.perf_counter() - started
    assert len(results) == len(files)
    return wall, _tree_cpu(pids) - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    args = parser.parse_args()
    import distributed

    from auditor.executors import Task
    from auditor.limits import Limits
    from auditor.ruleset.ruleset import load_ruleset

    files = corpus_files(args.corpus) * args.copies
    task = Task(load_ruleset(), Limits())
    load = os.getloadavg()[0]
    samples: dict[str, list[tuple[float, float]]] = {}
    clusters = {n: distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                           silence_logs=logging.ERROR)
                for n in (1, 2)}
    clients = {n: distributed.Client(c) for n, c in clusters.items()}
    setups: dict[str, Callable[[], tuple[float, float]]] = {
        "local, --jobs 1": lambda: _local(1, files, task),
        "local, --jobs 2": lambda: _local(2, files, task),
        "Dask, 1 worker": lambda: _dask(clients[1], files, task),
        "Dask, 2 workers": lambda: _dask(clients[2], files, task),
    }
    try:
        for _ in range(1):  # warm-up: the first Dask run forks its children and imports
            for name in ("Dask, 1 worker", "Dask, 2 workers"):
                setups[name]()
        for round_ in range(args.rounds):
            for name, run in setups.items():
                samples.setdefault(name, []).append(run())
                wall, cpu = samples[name][-1]
                print(f"round {round_ + 1} {name}: {wall:.2f} s, {len(files) / wall:.1f} files/s, "
                      f"{1000 * cpu / len(files):.0f} ms CPU/file", file=sys.stderr)
    finally:
        for client in clients.values():
            client.close()
        for cluster in clusters.values():
            cluster.close()
    print(f"_Machine: {machine()}; load average (1 min) {load:.2f} at the start; {len(files)} files "
          f"({args.copies} x the corpus), medians of {args.rounds} rounds._\n")
    print("| executor | s | files/s | CPU ms per file |\n|---|--:|--:|--:|")
    rates = {}
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        rates[name] = len(files) / wall
        print(f"| {name} | {wall:.2f} | {rates[name]:.1f} | {1000 * cpu / len(files):.0f} |")
    print(f"\n--jobs 2 ÷ --jobs 1: {rates['local, --jobs 2'] / rates['local, --jobs 1']:.2f}x; "
          f"Dask 2 workers ÷ 1: {rates['Dask, 2 workers'] / rates['Dask, 1 worker']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
