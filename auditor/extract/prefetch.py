"""Unpacking an app's dex files on the second core while the first indexes the ones already unpacked.

Inflating and hashing a dex (zlib, Adler-32, SHA-1) run in C without the interpreter lock, about a
third of a large app's analysis. A background thread does them for the entries of one archive, in
the order the caller gives, while the caller indexes each dex as soon as it is ready (issue 16:
a scan that costs what unzipping costs).

The result is the one a plain loop gives: the thread reads the same entries in the same order, and
the caller reads nothing from the archive until the thread is done, so the archive's unpack budget
is spent in the same order and a limit is reported for the same entry. A read that fails with
anything but a corrupt entry stops the thread, as it ends the plain loop. Each dex is handed over
as soon as it is inflated; its hashes follow (Read.hashes waits for them), so the caller indexes it
while they are computed.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from types import TracebackType

from auditor.dex import integrity
from auditor.dex.reader import HEADER_SIZE
from auditor.errors import CorruptArchive
from auditor.records import record

HEADROOM = 256 * 1024 * 1024
"""Address space a capped process must have left to start a helper thread (its stack, and the malloc
arena glibc may give it). CPython's Thread.start() waits forever for a thread that ran out of
memory while starting, so a worker near its --max-memory cap does the work in its own thread."""

SWITCH_INTERVAL = 0.0005
"""Seconds the interpreter lets one thread run before another may take the lock (default 0.005):
the reading thread needs the lock for a moment between two inflate calls (two entries, or two bounded
steps of one), and should not wait 5 ms for it each time."""


class Checked:
    """A dex's header hashes, computed by whichever thread read it: the reading thread hands the
    bytes over first and hashes afterwards (4 ms for a 7 MB dex), so the caller indexes meanwhile
    and waits only where it needs them."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._hashes: integrity.Hashes | None = None

    @classmethod
    def now(cls, data: bytes) -> Checked:
        checked = cls()
        checked.compute(data)
        return checked

    def compute(self, data: bytes) -> None:
        try:
            self._hashes = _hashes(data)
        finally:
            self._done.set()  # even if hashing failed: the caller then hashes again, in its thread

    def result(self) -> integrity.Hashes | None:
        self._done.wait()
        return self._hashes


@record
class Read:
    """One entry read in the background: its bytes (or the exception reading it raised) and, for a
    dex, its header hashes checked."""

    name: str
    data: bytes | None
    error: BaseException | None = None
    checked: Checked | None = None

    def value(self) -> bytes:
        """The bytes, or the read's exception raised here, in the caller's thread."""
        if self.error is not None:
            raise self.error
        assert self.data is not None
        return self.data

    @property
    def hashes(self) -> integrity.Hashes | None:
        """The header hashes (None for what is not a dex), once the reading thread has them."""
        return self.checked.result() if self.checked is not None else None


THREAD_STACK = 1024 * 1024
"""Stack of a helper thread: they run shallow code, and the default 8 MB counts against a memory cap."""

M_ARENA_MAX = -8  # glibc's mallopt parameter

_allowed = False


def allow_helper_threads() -> None:
    """Let this process (and the workers it forks afterwards) use helper threads, at a small cost in
    address space. Called by the executors, which own their processes: glibc gives every new thread
    its own 64 MB malloc arena of address space, kept after the thread ends, which a forked worker
    capped with --max-memory inherits (two threads would take 150 MB of a 256 MB cap, and a bomb
    would hit --max-memory before the unpack budget that names the real limit). One arena and a
    1 MB stack keep a thread's cost to a few MB. A program that calls the auditor as a library
    keeps its allocator settings, and the analysis runs in its thread there."""
    global _allowed
    threading.stack_size(THREAD_STACK)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1)
        except (OSError, AttributeError):
            pass  # not glibc: no per-thread arenas of that size
    _allowed = True


def threads_affordable() -> bool:
    """Whether this process may start a helper thread: allowed (allow_helper_threads), and no
    address-space cap or HEADROOM left under it."""
    if not _allowed:
        return False
    try:
        import resource
    except ImportError:  # Windows: no cap to run into
        return True
    try:
        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return True
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return False  # capped, usage unknown: stay in this thread
    return bool(soft - used >= HEADROOM)


def start_helper(target: Callable[[], None], name: str) -> threading.Thread | None:
    """A started daemon thread running `target`, or None where none can be afforded or started
    (a process limit): the caller then does the work in its own thread."""
    if not threads_affordable():
        return None
    thread = threading.Thread(target=target, name=name, daemon=True)
    try:
        thread.start()
    except RuntimeError:
        return None
    return thread


class Prefetch:
    """Reads `names` with `read` in a background thread; iterate to get each Read in order.

    Where no thread can be afforded (threads_affordable) or started, the reads happen in the
    caller's thread as it iterates, with the same results."""

    def __init__(self, names: list[str], read: Callable[[str], bytes]) -> None:
        self._names = names
        self._read = read
        self._ready: queue.Queue[Read] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._interval = sys.getswitchinterval()

    def __enter__(self) -> Prefetch:
        if self._names:
            sys.setswitchinterval(SWITCH_INTERVAL)
            self._thread = start_helper(self._run, "auditor-prefetch")
            if self._thread is None:
                sys.setswitchinterval(self._interval)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            sys.setswitchinterval(self._interval)

    def __iter__(self) -> Iterator[Read]:
        if self._thread is None:
            yield from (read_now(name, self._read) for name in self._names)
            return
        for _ in self._names:
            item = self._ready.get()
            yield item
            if item.error is not None and not isinstance(item.error, CorruptArchive):
                return  # the thread stopped after it

    def _run(self) -> None:
        for name in self._names:
            if self._stop.is_set():
                return
            try:
                data = self._read(name)
            except BaseException as error:  # handed to the caller, who raises it where a plain loop would
                self._ready.put(Read(name, None, error))
                if not isinstance(error, CorruptArchive):
                    return
                continue
            checked = Checked()
            self._ready.put(Read(name, data, None, checked))
            checked.compute(data)


def _hashes(data: bytes) -> integrity.Hashes | None:
    if len(data) < HEADER_SIZE or not data.startswith(b"dex\n"):
        return None
    try:
        return integrity.hashes(data)
    except MemoryError:
        return None  # hashed again, in the caller's thread, if it is still wanted


def read_now(name: str, read: Callable[[str], bytes]) -> Read:
    """The same Read, made in this thread (for entries not worth a thread: those inside a jar)."""
    try:
        data = read(name)
    except CorruptArchive as error:
        return Read(name, None, error)
    return Read(name, data, None, Checked.now(data))
