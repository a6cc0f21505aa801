"""The background reader gives what a plain loop over the entries gives (issue 16's dex unpacking on
the second core): the same entries read in the same order, a corrupt entry skipped, any other
failure ending the reads where a plain loop would end, and the interpreter left as it was."""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from auditor.errors import CorruptArchive, LimitExceeded
from auditor.extract import prefetch
from auditor.extract.prefetch import Prefetch, read_now

FIXTURE = Path(__file__).parent / "fixtures" / "apk" / "multidex.apk"


@pytest.fixture(autouse=True)
def _threads_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a worker process (the executors allow them); the tests below check a thread really ran."""
    monkeypatch.setattr(prefetch, "_allowed", True)


def _reader(log: list[str], fail: dict[str, BaseException]):
    def read(name: str) -> bytes:
        log.append(name)
        if name in fail:
            raise fail[name]
        return name.encode() * 10
    return read


def test_reads_in_order_and_hands_over_every_entry() -> None:
    log: list[str] = []
    names = [f"classes{i}.dex" for i in range(1, 9)]
    threads: set[str] = set()

    def read(name: str) -> bytes:
        threads.add(threading.current_thread().name)
        return _reader(log, {})(name)

    with Prefetch(names, read) as reads:
        got = [(r.name, r.value()) for r in reads]
    assert threads == {"auditor-prefetch"}
    assert log == names
    assert got == [(n, n.encode() * 10) for n in names]


def test_a_corrupt_entry_is_handed_over_and_the_next_ones_still_read() -> None:
    log: list[str] = []
    bad = CorruptArchive("entry 'b' is not valid deflate data")
    with Prefetch(["a", "b", "c"], _reader(log, {"b": bad})) as reads:
        got = list(reads)
    assert log == ["a", "b", "c"]
    assert [r.name for r in got] == ["a", "b", "c"]
    with pytest.raises(CorruptArchive):
        got[1].value()


def test_a_limit_ends_the_reads_where_a_plain_loop_ends() -> None:
    """A plain loop stops at the entry over the limit (the exception propagates): so does the thread,
    and the caller raises the same exception for the same entry."""
    log: list[str] = []
    over = LimitExceeded("entry 'b' would take the archive past its unpacked total", "--max-unpacked")
    with pytest.raises(LimitExceeded) as raised, Prefetch(["a", "b", "c", "d"], _reader(log, {"b": over})) as reads:
        for read in reads:
            read.value()
    assert raised.value is over
    assert log == ["a", "b"]


def test_thread_joined_and_switch_interval_restored_even_when_the_caller_fails() -> None:
    before = sys.getswitchinterval()
    log: list[str] = []
    with pytest.raises(RuntimeError), Prefetch(["a", "b", "c"], _reader(log, {})) as reads:
        for _read in reads:
            raise RuntimeError("the caller broke")
    assert sys.getswitchinterval() == before
    assert not [t for t in threading.enumerate() if t.name == "auditor-prefetch"]


def test_dex_entries_come_with_their_header_hashes() -> None:
    with zipfile.ZipFile(FIXTURE) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".dex"))
        with Prefetch(names, archive.read) as reads:
            got = list(reads)
        assert [r.hashes for r in got] == [read_now(n, archive.read).hashes for n in names]
    assert all(r.hashes and r.hashes.checksum_ok and r.hashes.signature_ok for r in got)
    assert read_now("x", lambda _n: b"not a dex").hashes is None


def test_a_dex_is_handed_over_before_its_hashes_are_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller indexes a dex while the reading thread hashes it: the Read arrives while hashing is
    still held up, and its hashes once the thread has them."""
    hashing, release, hashed = threading.Event(), threading.Event(), threading.Event()
    real = prefetch.integrity.hashes

    def held_up(data: bytes) -> prefetch.integrity.Hashes:
        hashing.set()
        release.wait(10)  # the caller releases it once it has the read (before this change: never)
        hashed.set()
        return real(data)

    monkeypatch.setattr(prefetch.integrity, "hashes", held_up)
    with zipfile.ZipFile(FIXTURE) as archive:
        name = min(n for n in archive.namelist() if n.endswith(".dex"))
        with Prefetch([name], archive.read) as reads:
            read = next(iter(reads))
            assert hashing.wait(10) and not hashed.is_set()
            assert read.value() == archive.read(name)
            release.set()
            assert read.hashes == read_now(name, archive.read).hashes
    assert read.hashes is not None and read.hashes.checksum_ok


def test_without_a_thread_the_caller_reads_with_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker near its memory cap must not start a thread (CPython's Thread.start() waits forever
    for one that runs out of memory while starting): the reads then happen in the caller's thread."""
    monkeypatch.setattr(prefetch, "threads_affordable", lambda: False)
    log: list[str] = []
    bad = CorruptArchive("entry 'b' is not valid deflate data")
    over = LimitExceeded("entry 'd' is over", "--max-unpacked")
    with pytest.raises(LimitExceeded), Prefetch(["a", "b", "c", "d", "e"], _reader(log, {"b": bad, "d": over})) as reads:
        names = []
        for read in reads:
            names.append(read.name)
            assert not [t for t in threading.enumerate() if t.name == "auditor-prefetch"]
    assert names == ["a", "b", "c"] and log == ["a", "b", "c", "d"]


def _affordable_under_cap(headroom: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    prefetch._allowed = True
    with open("/proc/self/statm") as statm:
        used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (used + headroom, resource.RLIM_INFINITY))
    out.put(prefetch.threads_affordable())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and RLIMIT_AS")
@pytest.mark.parametrize(("headroom", "expected"), [(64 * 1024 * 1024, False), (1024 * 1024 * 1024, True)])
def test_threads_affordable_only_with_room_under_the_cap(headroom: int, expected: bool) -> None:
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_affordable_under_cap, args=(headroom, out))
    child.start()
    child.join(60)
    assert out.get(timeout=10) is expected


def test_not_allowed_outside_the_executors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A program using the auditor as a library keeps its allocator and its thread: no helper thread."""
    monkeypatch.setattr(prefetch, "_allowed", False)
    assert not prefetch.threads_affordable()
