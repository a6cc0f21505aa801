"""Say in a few words what a file that is not a zip archive looks like."""

from __future__ import annotations

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF executable or library"),
    (b"dex\n", "a bare dex file, not an APK"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"<!DOCTYPE html", "an HTML page"),
    (b"<html", "an HTML page"),
    (b"PK\x03\x04", "a damaged zip archive without an end-of-central-directory record"),
)


def describe_non_zip(data: bytes) -> str:
    """A short description such as 'a Windows executable' or 'a text file of 4605 bytes'."""
    if not data:
        return "an empty file"
    for magic, what in SIGNATURES:
        if data.startswith(magic):
            return what
    head = data[:4096]
    if all(b in b"\t\n\r" or 32 <= b < 127 or b >= 0x80 for b in head):
        try:
            head.decode("utf-8")
            return f"a text file of {len(data)} bytes"
        except UnicodeDecodeError:
            pass
    return f"unrecognised binary data of {len(data)} bytes"
