"""Log level from -v/-vv/-q, shared by the group and by `scan` (users put -vv after it too).

Kept apart from auditor.cli.common so that `auditor --help` imports no rule machinery."""

from __future__ import annotations

import logging
import sys


def set_verbosity(verbose: int, quiet: bool) -> None:
    """-q errors only, -v info, -vv debug: each file's outcome and the run's setup (rules, cache, executor)."""
    level = logging.ERROR if quiet else logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="auditor: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(level)
