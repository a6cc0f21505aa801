"""Resource limits applied to every input, with their documented defaults.

Hostile files are normal input for this tool, so every expensive thing an input can make us do
(unpack, count, nest, wait, allocate) has a ceiling here, and each can be changed from the CLI.
"""

from __future__ import annotations

from auditor.records import record

MiB = 1024 * 1024


@record
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

    @property
    def unpack_budget(self) -> int:
        """Bytes one input may unpack to: --max-unpacked, but at most half of --max-memory.

        Unpacked data is held in memory, next to the input itself and the interpreter. A budget
        as large as the memory limit is never reached: memory runs out first, and a bomb is then
        reported as an out-of-memory (a transient error, analysed again on every run) instead of
        as the bomb it is (a verdict on the bytes, cached). Half leaves room for the rest.
        """
        if self.max_memory_mb <= 0:
            return self.max_unpacked_bytes
        return min(self.max_unpacked_bytes, self.max_memory_mb * MiB // 2)

    def unpack_budget_words(self) -> str:
        """How the budget is named in messages: the option, and why it is lower when it is."""
        if self.unpack_budget < self.max_unpacked_bytes:
            return f"--max-unpacked: {self.unpack_budget} bytes, half of --max-memory={self.max_memory_mb} MiB"
        return f"--max-unpacked: {self.unpack_budget} bytes"
