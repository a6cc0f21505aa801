"""Where a report goes (-o): checked before the batch starts, so a typo costs a second, not a night.

The report is written only at the end (or streamed, for JSONL), so an -o into a missing folder used
to fail after the whole batch had run. Overwriting one of the inputs with a report is refused too:
`auditor scan -o app.apk app.apk` is always a slip of the fingers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from auditor.errors import AuditorError


class OutputError(AuditorError):
    kind = "output-error"


def check_output(output: Path, inputs: Iterable[str]) -> None:
    """Raise OutputError unless `output` can be written and is none of `inputs`."""
    if output.is_dir():
        raise OutputError(f"-o {output}: is a folder; name a file")
    if output.exists():
        if any(_same_file(output, path) for path in inputs):
            raise OutputError(f"-o {output}: is one of the inputs; refusing to overwrite it")
        if not os.access(output, os.W_OK):
            raise OutputError(f"-o {output}: not writable")
        return
    folder = output.parent
    if not folder.is_dir():
        raise OutputError(f"-o {output}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"-o {output}: cannot create a file in {folder}")


def _same_file(output: Path, path: str) -> bool:
    try:
        return os.path.samefile(output, path)
    except (OSError, ValueError):
        return False
