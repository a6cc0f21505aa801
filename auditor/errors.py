"""Errors that turn an input into an error result instead of a traceback.

Each carries a short machine-readable `kind` and a one-line human message; the pipeline catches
`AuditorError` and records both, so a bad file never stops a batch.
"""

from __future__ import annotations


class AuditorError(Exception):
    """Base of every expected failure; `kind` is stable and appears in reports."""

    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAnAndroidPackage(AuditorError):
    kind = "not-an-android-package"


class CorruptArchive(AuditorError):
    kind = "corrupt-archive"


class NotAFile(AuditorError):
    """The path is a FIFO, a device or a socket: never read (a FIFO blocks, /dev/zero never ends)."""

    kind = "unreadable-file"


class LimitExceeded(AuditorError):
    """A resource limit stopped the analysis; `limit` names the option that sets it ("--max-dex").

    Whether the result may be cached depends on which limit it was (auditor.cache), so the limit
    travels as data and is never parsed back out of the message, which can quote entry names.
    """

    kind = "limit-exceeded"

    def __init__(self, message: str, limit: str | None = None) -> None:
        super().__init__(message)
        self.limit = limit


class RuleError(AuditorError):
    """A rule, catalog or policy file that fails its schema; message carries file:line."""

    kind = "rule-error"
