"""Where caches live, and whether that folder may be trusted: the part of caching that every run
needs at start-up (the rule-set cache), kept apart from the result database and its imports."""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

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



@cache
def package_fingerprint() -> str:
    """__version__ plus a digest of the package's own files (what the rule-set cache is keyed on).

    The version number alone is not enough: during development (editable install) the code
    changes while __version__ stays put, and a cache keyed on it would serve results of old code.
    Hashing the package's source files costs a few ms per run.
    """
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{__version__}+{digest.hexdigest()[:16]}"
