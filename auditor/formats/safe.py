"""One escaping policy for every output: app strings and file names are data, never instructions.

Labels, package names, URLs and evidence come from the APK, and file names come from whoever
named the files; any of them may carry ANSI/OSC escape sequences (clear the screen, set the window
title, plant a hyperlink), C1 controls (a single U+009B byte starts a CSI sequence on many
terminals), bidi overrides (U+202E makes "gpj.apk" read as "kpa.jpg") or bytes that are not
UTF-8 (a Chinese name unzipped on Linux). The same set of characters, `UNSAFE`, is handled in
every format:

* human-facing text (table, markdown, html, csv, stderr) shows each of them as a visible escape
  via `visible`: `\\xNN` for C0/C1 controls and for each undecodable byte of a file name,
  `\\uNNNN` for the rest. The display is for people; it is not meant to be reversible.
* machine formats (json, jsonl, sarif) keep every value unchanged and write each unsafe character
  as a JSON `\\uNNNN` escape via `dumps`, so the file is ASCII-clean where it matters, valid
  UTF-8, and prints harmlessly with `cat`. Undecodable bytes of a file name travel as the lone
  surrogates U+DC80-U+DCFF (Python's surrogateescape, PEP 383), so the name is lossless:
  `os.fsencode(json.loads(line)["input"])` gives back the exact bytes.
* a CSV cell also has its formula trigger neutralised (`neutralise`), including one hidden
  behind leading blanks or written with full-width forms.
"""

from __future__ import annotations

import json
import re
from typing import Any

_CONTROLS = "\x00-\x1f\x7f-\x9f"
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_SEPARATORS = "\u2028\u2029"
_SURROGATES = "\ud800-\udfff"
UNSAFE = re.compile(f"[{_CONTROLS}{_BIDI}{_SEPARATORS}{_SURROGATES}]")
"""C0 and C1 controls (ESC, newline, tab, CSI...), DEL, bidi controls, line and paragraph
separators, and lone surrogates (undecodable file-name bytes)."""

_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_BIDI}{_SEPARATORS}{_SURROGATES}]")
"""What json.dumps(ensure_ascii=False) leaves raw; C0 controls it already escapes itself."""

FORMULA_TRIGGERS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b")
"""Characters that start a formula in spreadsheets, ASCII and full-width/small forms (some
spreadsheets fold U+FF1D to =)."""

_LEADING_BLANKS = re.compile(r"^[\s\u00a0\u2000-\u200b\u3000\ufeff]*")
"""Blanks a spreadsheet may skip before looking at the first character (Unicode spaces included)."""


def _visible_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: one undecodable byte of a file name
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object) -> str:
    """`text` for a person: every UNSAFE character replaced by a visible \\xNN or \\uNNNN escape."""
    value = "" if text is None else str(text)
    return UNSAFE.sub(_visible_char, value)


terminal_safe = visible
"""The older name, kept for the renderers that say where their text goes."""


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def dumps(data: Any, *, indent: int | None = None) -> str:
    """JSON text of `data` with every value unchanged and every UNSAFE character \\u-escaped.

    Inside JSON text these characters can only occur in strings (the syntax is ASCII), so escaping
    them in the serialised text is exact: json.loads gives back the same values.
    """
    return _JSON_UNSAFE.sub(_json_escape, json.dumps(data, ensure_ascii=False, indent=indent))


def neutralise(cell: str) -> str:
    """A CSV cell that no spreadsheet runs: a leading quote when it could start a formula.

    Blanks before the trigger do not hide it. Pass the cell through `visible` first: a leading tab
    or newline then reads `\\x09`, which no spreadsheet evaluates.
    """
    rest = _LEADING_BLANKS.sub("", cell)
    return "'" + cell if rest[:1] in FORMULA_TRIGGERS else cell
