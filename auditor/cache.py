"""A local cache of per-file results, so re-running a batch only analyses what changed.

Why: the same apps are audited again and again (a CI job over a release folder, a triage batch
re-run with another output format, a batch that was killed half way). Analysis is pure: the same
bytes under the same rules, tool and result-changing settings give the same AppResult. So a result
is stored under

    (sha256 of the file, rules digest, tool version, settings)

and reused on a hit, with `input` set to the path of the current run. This is only right because
the pipeline never puts the file's name into a result (a plain APK's piece has no name, and
messages say "AndroidManifest.xml is ...", not "foo.apk: ..."): a copy under another name gets
the same result, and no message names a file other than the one reported. The table's `name`
column is a leftover of an older scheme and is always empty.

Storage is one SQLite file (stdlib sqlite3) in WAL mode: readers never block the writer, several
auditor processes may share it (each waits up to `BUSY_TIMEOUT` seconds for a lock), and every
put is its own short transaction, so a batch that is killed keeps every result it finished and
the next run resumes where it stopped.

Trust: values are pickled AppResults. Unpickling runs code chosen by whoever wrote the file, so
the cache is only safe as the user's own private, local file: never point AUDITOR_CACHE_DIR at a
shared or downloaded location, and never ship a cache file to someone else. The folder is
created private (0700) and a database file owned by another user is refused. Anything that goes
wrong while reading (a corrupt file, a locked database past the timeout, a row that no longer
unpickles after an upgrade) is a miss, never an error: the cache can only make a run faster.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import sqlite3
import time
from dataclasses import replace
from functools import cache
from pathlib import Path

from auditor.cachedir import CACHE_DIR_ENV, UnsafeCacheDir, default_cache_dir, package_fingerprint, package_settled, private_cache_dir
from auditor.limits import Limits
from auditor.model import AppResult
from auditor.records import record

log = logging.getLogger("auditor")

DB_NAME = "results.sqlite3"
SCHEMA_VERSION = 1
"""Bumped when the table layout changes; a file with another version is emptied and rebuilt."""

BUSY_TIMEOUT = 30.0
"""Seconds to wait for another process's write lock before giving up on one get or put."""

CHUNK = 1024 * 1024

DETERMINISTIC_ERRORS = frozenset({"not-an-android-package", "corrupt-archive"})
"""Error kinds that depend only on the file's bytes (and the key's settings), so they are cached."""

CACHEABLE_LIMITS = ("--max-unpacked", "--max-ratio", "--max-entries", "--max-dex", "--max-nesting")
"""A limit-exceeded error is cached only when its `limit` is one of these size/structure limits:
they are part of the key's settings, so the same file hits the same limit again. Timeouts
(--timeout), memory (--max-memory) and other resources depend on the machine and its load, and
are never cached; neither is a limit-exceeded result that does not say which limit it hit."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    sha256       TEXT NOT NULL,
    name         TEXT NOT NULL,
    rules_digest TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    settings     TEXT NOT NULL,
    result       BLOB NOT NULL,
    stored_at    REAL NOT NULL,
    PRIMARY KEY (sha256, name, rules_digest, tool_version, settings)
) WITHOUT ROWID
"""

__all__ = ["CACHE_DIR_ENV", "UnsafeCacheDir", "default_cache_dir", "package_fingerprint", "private_cache_dir"]


class _ForeignFile(OSError):
    """The database file belongs to another user, so its pickles are not ours to load."""


@record
class CacheKey:
    """Everything besides the file's bytes that decides its result."""

    rules_digest: str
    tool_version: str
    settings: str


def default_cache_path() -> Path:
    return default_cache_dir() / DB_NAME


def file_sha256(path: str) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks so a large APK is never held in memory twice."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def settings_string(policy_ids: tuple[str, ...], limits: Limits) -> str:
    """The settings that change a result, as a stable string.

    Policies add verdicts to a result, and the size/structure limits decide whether a file is
    refused or a dex is skipped. The timeout and memory limit are left out on purpose: they only
    cause transient errors, which are never cached, so they must not split the cache (the memory
    limit's one deterministic effect, lowering the unpack budget, is in `budget`).
    """
    return (f"policies={','.join(sorted(policy_ids))};unpacked={limits.max_unpacked_bytes};"
            f"budget={limits.unpack_budget};ratio={limits.max_ratio};"
            f"entries={limits.max_entries};dex={limits.max_dex_bytes};nesting={limits.max_nesting}")


@cache
def tool_fingerprint() -> str:
    """package_fingerprint() plus androguard's version, which results (not rules) may depend on."""
    from importlib import metadata  # with its email parser: only when the result cache is used

    try:
        androguard = metadata.version("androguard")
    except metadata.PackageNotFoundError:
        androguard = "none"
    return f"{package_fingerprint()}+androguard-{androguard}"


def make_key(rules_digest: str, policy_ids: tuple[str, ...], limits: Limits, tool_version: str | None = None) -> CacheKey:
    """The key of one run, from what the CLI already has in hand."""
    return CacheKey(rules_digest, tool_version or tool_fingerprint(), settings_string(policy_ids, limits))


def cacheable(result: AppResult) -> bool:
    """Whether a result would come out the same on another run: ok results and bytes-only errors.

    Timeouts, dead workers, out-of-memory, unreadable files and internal errors are transient (or
    a bug that a fix should get a chance to change), so they are analysed again next time.
    """
    if result.sha256 is None:
        return False
    if result.ok:
        return True
    if result.error_kind in DETERMINISTIC_ERRORS:
        return True
    return result.error_kind == "limit-exceeded" and result.limit in CACHEABLE_LIMITS


class ResultCache:
    """The result store; one instance (one connection) per process, opened on first use.

    A connection is never shared across fork: if the process id changes, a new one is opened.
    After the first database error the cache turns itself off for the rest of the run (with one
    warning), so a broken file costs one message, not one per input.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_cache_path()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._disabled = False

    # --- public API -------------------------------------------------------------------------

    def get(self, sha256: str, key: CacheKey, path: str | None = None) -> AppResult | None:
        """The cached result for this file content and key; None on a miss.

        Pass `path`, the path this run was given: the value may have been stored from another
        path, and reports must name the file as given, so `input` is set to it. Without `path`,
        `input` is "" (the caller must replace it). The path itself never reaches the database,
        so a file name that is not UTF-8 (it cannot be stored as SQLite text) costs nothing.
        `elapsed` stays the time the original analysis took, so reports stay identical.
        """
        conn = self._connection()
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT name, result FROM results WHERE sha256=? AND name='' AND rules_digest=? "
                               "AND tool_version=? AND settings=? LIMIT 1",
                               (sha256, key.rules_digest, key.tool_version, key.settings)).fetchone()
        except sqlite3.Error as exc:
            self._fail("read", exc)
            return None
        if row is None:
            return None
        where = (sha256, row[0], key.rules_digest, key.tool_version, key.settings)
        try:
            value = pickle.loads(row[1])
        except Exception as exc:  # any unpickling problem (old classes, truncation) is a miss
            log.debug("cache: dropping an entry that no longer loads (%s)", exc)
            self._delete(where)
            return None
        if not isinstance(value, AppResult) or value.sha256 != sha256:
            self._delete(where)
            return None
        return replace(value, input=path or "")

    def put(self, result: AppResult, key: CacheKey) -> None:
        """Store a result if it is deterministic (see `cacheable`) and the package's code settled
        (cachedir.tree_digest); committed at once."""
        if not cacheable(result) or not package_settled():
            return
        conn = self._connection()
        if conn is None:
            return
        assert result.sha256 is not None
        blob = pickle.dumps(replace(result, input=""), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            conn.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (result.sha256, "", key.rules_digest, key.tool_version, key.settings, blob, time.time()))
        except sqlite3.Error as exc:
            self._fail("write", exc)

    def clear(self) -> int:
        """Delete every entry; returns how many there were.

        A file that is not a usable database (corrupt, or not the user's own) is removed instead,
        so `auditor cache clear` always gets the user back to a working cache. A database that is
        merely busy (another auditor writing past BUSY_TIMEOUT) raises sqlite3.OperationalError:
        deleting a file other processes have open would not free anything.
        """
        self.close()
        self._disabled = False
        try:
            conn = self._open()
        except sqlite3.OperationalError:
            raise
        except (sqlite3.DatabaseError, _ForeignFile) as exc:
            log.debug("cache: %s is not usable (%s); removing it", self.path, exc)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return 0
        self._conn, self._pid = conn, os.getpid()
        count = int(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])
        conn.execute("DELETE FROM results")
        try:  # give the space back; best effort, as readers in other processes may block it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
        except sqlite3.OperationalError as exc:
            log.debug("cache: could not compact %s (%s)", self.path, exc)
        return count

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals --------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection | None:
        if self._disabled:
            return None
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        self._conn = None  # inherited over fork: never touch the parent's connection
        try:
            self._conn = self._open()
            self._pid = os.getpid()
        except (sqlite3.Error, OSError) as exc:
            self._fail("open", exc)
        return self._conn

    def _open(self) -> sqlite3.Connection:
        private_cache_dir(self.path.parent)
        if self.path.exists() and hasattr(os, "getuid") and self.path.stat().st_uid != os.getuid():
            raise _ForeignFile(f"{self.path} belongs to another user; a cache must be private (it holds pickles)")
        # isolation_level=None: autocommit, so each INSERT is its own transaction and is on disk
        # (in the WAL) as soon as put returns.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL+NORMAL survives a killed process; enough for a cache
            if self._schema_version(conn) != SCHEMA_VERSION:
                conn.execute("BEGIN IMMEDIATE")
                # Read again under the write lock: another process may have just built the table.
                if self._schema_version(conn) != SCHEMA_VERSION:
                    conn.execute("DROP TABLE IF EXISTS results")
                    conn.execute(_SCHEMA)
                    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def _delete(self, where: tuple[str, ...]) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute("DELETE FROM results WHERE sha256=? AND name=? AND rules_digest=? "
                               "AND tool_version=? AND settings=?", where)
        except sqlite3.Error as exc:
            self._fail("write", exc)

    def _fail(self, action: str, exc: Exception) -> None:
        log.warning("result cache %s unusable (%s on %s); continuing without it ('auditor cache clear' resets it)",
                    self.path, type(exc).__name__, action)
        self.close()
        self._disabled = True


def clear_all(store: ResultCache) -> int:
    """Empty the result store and delete the cached rule sets beside it; the number of results removed.

    Raises sqlite3.OperationalError when another scan holds the database."""
    count = store.clear()
    for cached in store.path.parent.glob("ruleset-*"):
        cached.unlink(missing_ok=True)
    return count


@record
class CacheInfo:
    """What `auditor cache info` shows: where the cache is, how much room it takes, what it holds."""

    path: Path
    entries: int | None
    """Stored results; None when the database cannot be read (busy, corrupt, another user's)."""
    size: int
    """Bytes on disk: the database with its WAL files, and the cached rule sets."""
    rulesets: int


def cache_info(store: ResultCache) -> CacheInfo:
    """Size and contents of the cache, without creating it when there is none."""
    files = [Path(f"{store.path}{suffix}") for suffix in ("", "-wal", "-shm")]
    rulesets = list(store.path.parent.glob("ruleset-*")) if store.path.parent.is_dir() else []
    size = sum(f.stat().st_size for f in [*files, *rulesets] if f.is_file())
    entries: int | None = 0
    if store.path.is_file():
        try:
            with contextlib.closing(sqlite3.connect(f"file:{store.path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT)) as conn:
                entries = int(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])
        except sqlite3.Error:
            entries = None
    return CacheInfo(store.path, entries, size, len(rulesets))
