"""Turn command-line paths into the list of files to audit.

Folders are searched recursively for the extensions below; a file named on the command line is
audited whatever its name, because disguised files are exactly what users need checked.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from auditor.errors import LimitExceeded

EXTENSIONS = (".apk", ".xapk", ".apks", ".apkm", ".aab")


def collect_inputs(paths: tuple[Path, ...]) -> tuple[list[str], list[str]]:
    """(files to audit, in a stable order; paths that do not exist)."""
    files: list[str] = []
    missing: list[str] = []
    for path in paths:
        if path.is_dir():
            files.extend(str(p) for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in EXTENSIONS)
        elif path.is_file():
            files.append(str(path))
        else:
            missing.append(str(path))
    return list(dict.fromkeys(files)), missing


def read_list(lines: Iterable[str]) -> tuple[Path, ...]:
    """The paths of a --from-list file: one per line, blank lines skipped, line ends stripped."""
    return tuple(Path(entry) for entry in (raw.rstrip("\r\n") for raw in lines) if entry)


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
