"""Make app-controlled strings harmless in a terminal: control characters become visible escapes.

Labels, package names and URLs come from the APK and may carry ANSI escapes or bidi overrides
that would rewrite the user's screen or disguise text; they are shown, never interpreted.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\n\t]")


def terminal_safe(text: object) -> str:
    """`text` with control, newline and bidi-control characters replaced by \\xNN or \\uNNNN."""
    value = "" if text is None else str(text)

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(escape, value)
