"""Code without an APK around it: a bare .dex, a .jar of dex code, an Android library (.aar).

A .dex, or a zip of dex files with no manifest (a .jar), has no manifest: its code is analysed and reported without permissions or
components. An .aar carries a plain-text manifest (its permissions are read) and its code as JVM
class files in classes.jar, which this dex analyser does not read (the report says so).
"""

from __future__ import annotations

import io

DEX_MAGIC = b"dex\n"
AAR_MARKERS = ("classes.jar", "R.txt")


def dex_as_zip(data: bytes) -> bytes:
    """A bare dex file wrapped in a zip as classes.dex (stored, not compressed), so that it is
    read like the code of an APK."""
    import zipfile  # only for a bare dex: a scan of an APK reads zips with containers/zipsafe.py

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo("classes.dex", date_time=(1980, 1, 1, 0, 0, 0))
        archive.writestr(info, data, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def is_text_manifest(head: bytes) -> bool:
    """An Android library's manifest is plain XML text (an APK's is binary XML); with classes.jar
    or R.txt beside it, the zip is an .aar."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"<?xml", b"<manifest", b"<!--"))


def has_dex(names: list[str]) -> bool:
    return any(n.endswith(".dex") and "/" not in n for n in names)


def has_classes(names: list[str]) -> bool:
    return any(n.endswith(".class") for n in names)
