"""Log level from -v/-vv/-q, shared by the group and by `scan` (users put -vv after it too).

Kept apart from auditor.cli.common so that `auditor --help` imports no rule machinery."""

from __future__ import annotations

import logging
import sys

from auditor.formats.safe import visible


class VisibleFormatter(logging.Formatter):
    """Log lines name files and quote errors: they reach the terminal with the escapes of
    auditor.formats.safe, so a file name cannot move the cursor or retitle the window."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


def set_verbosity(verbose: int, quiet: bool) -> None:
    """-q errors only, -v info, -vv debug: each file's outcome and the run's setup (rules, cache, executor)."""
    level = logging.ERROR if quiet else logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(VisibleFormatter("auditor: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    logging.getLogger().setLevel(level)
