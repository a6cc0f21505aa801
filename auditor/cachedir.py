"""Where caches live, and whether that folder may be trusted: the part of caching that every run
needs at start-up (the rule-set cache), kept apart from the result database and its imports."""

from __future__ import annotations

import hashlib
import os
import time
from functools import cache
from pathlib import Path
from typing import Any

from auditor import __version__

CACHE_DIR_ENV = "AUDITOR_CACHE_DIR"
"""Overrides the cache folder (tests point it at a tmp_path; users may move it off a small home)."""


def default_cache_dir() -> Path:
    """$AUDITOR_CACHE_DIR, else $XDG_CACHE_HOME/auditor, else ~/.cache/auditor."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "auditor"


class UnsafeCacheDir(OSError):
    """The cache folder is not private to this user: another user owns it or may write to it."""


def private_cache_dir(folder: Path | None = None) -> Path:
    """The cache folder, created private (0700) if missing; raises UnsafeCacheDir when another user
    owns it or may write to it, since whatever is read from a cache must be the user's own."""
    folder = default_cache_dir() if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = folder.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise UnsafeCacheDir(f"cache folder {folder} belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o022:
        raise UnsafeCacheDir(f"cache folder {folder} is writable by other users (mode {info.st_mode & 0o777:o})")
    return folder


SETTLED_NS = 10**8
"""How long ago a file must have changed for a cache keyed on its stat to be written: 0.1 s, many
ticks of the clock Linux stamps files with (1 to 10 ms)."""

SETTLED_COARSE_NS = 2 * 10**9
"""The same where the file system keeps whole seconds (FAT's clock ticks every 2 s)."""


@cache
def _package_stat() -> tuple[str, bool]:
    digest = hashlib.sha256()
    settled = tree_digest(digest, Path(__file__).resolve().parent, (".py", ".yaml"))
    return digest.hexdigest()[:16], settled


def package_fingerprint() -> str:
    """__version__ plus a digest of the package's own files (what the rule-set and result caches are keyed on).

    The version number alone is not enough: during development (editable install) the code
    changes while __version__ stays put, and a cache keyed on it would serve results of old code.
    The files are keyed by what stat says of them (tree_digest), not by their bytes, which every
    run would read (4 ms of a process's start-up).
    """
    return f"{__version__}+{_package_stat()[0]}"


def package_settled() -> bool:
    """Whether every file of the package is settled (tree_digest): only then may a cache keyed on
    package_fingerprint() be written (tree_digest says why)."""
    return _package_stat()[1]


def tree_digest(digest: Any, root: Path, suffixes: tuple[str, ...]) -> bool:
    """Feed `digest` the path, size, mtime and ctime of each file below `root` whose name ends in
    `suffixes` (__pycache__ and symlinked folders not entered); True when all of them are settled,
    last changed SETTLED_NS ago or more (SETTLED_COARSE_NS on a file system that keeps whole seconds).

    Their stat catches every edit without reading a byte: writing a file (an editor's save, git
    checkout or pull, pip install, a patch) sets its mtime and ctime to the current time, adding,
    removing or renaming one changes the list of paths, and a copy that puts the old mtime back
    (cp -p, rsync, tar) still gets a new ctime, which no tool can set. What stat cannot tell apart
    is two writes of the same size within one tick of the file system's clock (a few ms on Linux's
    ext4, 1 or 2 s on older file systems): a cache made between them would be keyed like the second
    one. So a cache is written only when the result is True: every later write then lands on
    another tick and changes the key. (A warm-up run right after a checkout still caches: unpacking
    and compiling take longer than 0.1 s.)
    """
    now = time.time_ns()
    top = len(os.path.join(root, ""))
    found = []
    for folder, folders, names in os.walk(root):
        folders[:] = [f for f in folders if f != "__pycache__"]
        found += [os.path.join(folder, name) for name in names if name.endswith(suffixes)]
    settled = True
    for path in sorted(found):
        info = os.stat(path)
        digest.update(f"{path[top:]}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0".encode())
        settles = SETTLED_COARSE_NS if info.st_ctime_ns % 10**9 == 0 else SETTLED_NS
        settled = settled and now - max(info.st_mtime_ns, info.st_ctime_ns) >= settles
    return settled
