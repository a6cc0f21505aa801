"""Resuming a JSONL report: which inputs an existing `-o results.jsonl` already holds.

A killed or interrupted batch is rerun with the same command; the rerun must end with exactly one
line per input. So finished work is matched by path *and* content: a line counts for an input when
it names that path, was made with the same rules and tool version, and (for a file that exists)
carries the file's current sha256. Matching by content alone lost identical twins (the second copy
was taken as done and never written); matching by path alone would keep the line of an older build.

Lines that no longer count for an input of this run (a file changed since, a line cut short by the
kill, a second line for the same input) are dropped by rewriting the file, atomically, before the
batch appends to it. Lines for inputs that are not part of this run are kept and counted, so the
user is told ("--fresh" starts over) rather than surprised.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import field
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.records import record


@record
class Resume:
    """What an existing JSONL report holds for this run."""

    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    """input path -> its line, for inputs of this run that need no new audit."""
    others: int = 0
    """Lines kept for inputs that are not part of this run."""
    dropped: int = 0
    """Lines removed: stale, cut short, or repeated."""

    def summary(self, total: int, output: Path) -> str | None:
        """The stderr line a resumed run starts with; None when there is nothing to resume."""
        if not self.done and not self.others:
            return None
        others = f"; {self.others} lines for other inputs kept" if self.others else ""
        return f"resuming: {len(self.done)} of {total} already done in {output}{others} (--fresh starts over)"


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        line = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return line if isinstance(line, dict) and isinstance(line.get("input"), str) else None


def _current(line: dict[str, Any], rules_digest: str) -> bool:
    tool = line.get("tool")
    return line.get("rules_digest") == rules_digest and isinstance(tool, dict) and tool.get("version") == __version__


def plan_resume(output: Path, rules_digest: str, inputs: list[str], missing: list[str],
                sha256: Callable[[str], str | None]) -> Resume:
    """Read `output`, decide which lines count for this run, and rewrite it without the stale ones.

    `sha256(path)` gives a file's current digest (None when it cannot be read)."""
    if not output.is_file():
        return Resume()
    raws = output.read_bytes().splitlines()
    wanted = set(inputs) | set(missing)
    keep: dict[str, int] = {}  # input of this run -> index of the line that counts for it
    kept_others: list[int] = []
    digests: dict[str, str | None] = {}
    for index, raw in enumerate(raws):
        line = _parse(raw)
        if line is None:
            continue
        path = line["input"]
        if path not in wanted:
            kept_others.append(index)
            continue
        if path not in digests:
            digests[path] = None if path in missing else sha256(path)
        if _current(line, rules_digest) and line.get("sha256") == digests[path]:
            keep[path] = index  # a later line for the same input replaces an earlier one
    survivors = sorted([*keep.values(), *kept_others])
    dropped = sum(1 for raw in raws if raw.strip()) - len(survivors)
    if dropped or (raws and not output.read_bytes().endswith(b"\n")):
        _rewrite(output, [raws[i] for i in survivors])
    return Resume({path: json.loads(raws[i]) for path, i in keep.items()}, len(kept_others), dropped)


def _rewrite(output: Path, lines: list[bytes]) -> None:
    """Replace `output` with `lines` in one step, so a kill during the rewrite loses nothing."""
    target = Path(os.path.realpath(output))  # through a symlink, not over it
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.writelines(line + b"\n" for line in lines)
        os.chmod(temporary, target.stat().st_mode & 0o7777)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
