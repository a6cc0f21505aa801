"""Resource limits applied to every input, with their documented defaults.

Hostile files are normal input for this tool, so every expensive thing an input can make us do
(unpack, count, nest, wait, allocate) has a ceiling here, and each can be changed from the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_unpacked_bytes: int = 2048 * MiB
    """Total bytes all entries of one input may unpack to (bombs, including nested ones)."""
    max_ratio: int = 200
    """Largest allowed uncompressed/compressed ratio of one entry (real dex files stay under 10)."""
    max_entries: int = 50_000
    """Zip entries in one archive (real APKs hold a few thousand)."""
    max_dex_bytes: int = 256 * MiB
    """Size of one dex file."""
    max_nesting: int = 2
    """Bundles inside bundles: an .apks holding APKs is depth 1; deeper nesting is refused."""
    timeout: float = 300.0
    """Seconds one file may take (enforced by the executors)."""
    max_memory_mb: int = 2048
    """Address space one worker may use while analysing one file (enforced by the executors)."""
