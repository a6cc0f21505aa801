"""Turn command-line paths into the list of files to audit.

Folders are searched recursively for the extensions below; a file named on the command line is
audited whatever its name, because disguised files are exactly what users need checked.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path
from typing import BinaryIO, TextIO

from auditor.errors import LimitExceeded

EXTENSIONS = (".apk", ".xapk", ".apks", ".apkm", ".aab", ".dex", ".aar")
"""A folder is searched for these; a .jar is audited when named (a folder of Java libraries is not apps)."""

MAX_LIST_LINE = 4096
"""Longest line --from-list accepts (PATH_MAX on Linux): a longer one is not a path, and reading
on without a newline (`--from-list /dev/zero`) would take all memory."""

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class ListError(ValueError):
    """A --from-list file that is not a list of paths; the message says why, in one line."""


def collect_inputs(paths: tuple[Path, ...]) -> tuple[list[str], list[str]]:
    """(files to audit, in a stable order; paths that cannot be audited: see `unusable`).

    Only regular files are ever audited: a FIFO would block the reader and /dev/zero never ends,
    so anything else named, or found in a folder under an APK extension, is reported, not read.
    """
    files: list[str] = []
    refused: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in EXTENSIONS and not p.is_dir())
            files.extend(str(p) for p in found if _regular(p))
            refused.extend(str(p) for p in found if not _regular(p))
        elif _regular(path):
            files.append(str(path))
        else:
            refused.append(str(path))
    return list(dict.fromkeys(files)), list(dict.fromkeys(refused))


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def unusable(path: str) -> str:
    """Why `path` is not audited, in a few words: it is missing, or not a regular file."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return _stat_error(path, exc)
    kind = next((words for test, words in _KINDS if test(info.st_mode)), "not a regular file")
    return f"{kind}, not a file: skipped without reading it"


def _stat_error(path: str, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop: skipped"
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return f"a broken symbolic link (to {os.readlink(path)!r}): skipped"
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    return f"cannot be examined ({exc.strerror or exc})"


def read_list(handle: TextIO) -> tuple[Path, ...]:
    """The paths of a --from-list file: one per line, blank lines skipped, line ends stripped.

    Read a line at a time with a bounded length, so a file that is not a list (a binary, a device,
    /dev/zero) is refused with one line instead of being read whole.
    """
    paths = []
    for number in range(1, 1 << 62):
        line = handle.readline(MAX_LIST_LINE + 1)
        if not line:
            break
        entry = line.rstrip("\r\n")
        if len(entry) > MAX_LIST_LINE or "\0" in entry:
            what = "holds a NUL character" if "\0" in entry else f"is longer than {MAX_LIST_LINE} characters"
            raise ListError(f"line {number} {what}: not a list of paths, one per line")
        if entry:
            paths.append(Path(entry))
    return tuple(paths)


STREAM_PREFIXES = ("/dev/fd/", "/proc/self/fd/")


def is_stream(path: Path) -> bool:
    """'-' (standard input), or a /dev/fd/N that is a pipe (what `auditor scan <(curl ...)` passes)."""
    return str(path) == "-" or (str(path).startswith(STREAM_PREFIXES) and not path.is_file())


def spool_streams(paths: tuple[Path, ...], folder: Path, limit: int, stdin: BinaryIO) -> tuple[tuple[Path, ...], dict[str, str]]:
    """Copy every stream among `paths` into a file in `folder`: a pipe can be read only once, and
    the workers (and the cache, which hashes first) need a file. Returns the paths with each stream
    replaced by its copy, and copy -> the name as given, which the report shows.

    Raises LimitExceeded when a stream holds more than `limit` bytes (--max-unpacked)."""
    out: list[Path] = []
    names: dict[str, str] = {}
    for index, path in enumerate(paths):
        if not is_stream(path):
            out.append(path)
            continue
        copy = folder / f"stream-{index}"
        with (stdin if str(path) == "-" else path.open("rb")) as source, copy.open("wb") as target:
            shutil.copyfileobj(_Bounded(source, limit, str(path)), target)
        out.append(copy)
        names[str(copy)] = str(path)
    return tuple(out), names


class _Bounded:
    """A reader that raises LimitExceeded past `limit` bytes."""

    def __init__(self, source: BinaryIO, limit: int, name: str) -> None:
        self.source, self.left, self.name = source, limit, name

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(1024 * 1024 if size < 0 else size)
        self.left -= len(chunk)
        if self.left < 0:
            raise LimitExceeded(f"{self.name}: more than --max-unpacked bytes")
        return chunk
