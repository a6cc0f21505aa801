"""Turn command-line paths into the list of files to audit.

Folders are searched recursively for the extensions below; a file named on the command line is
audited whatever its name, because disguised files are exactly what users need checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

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
