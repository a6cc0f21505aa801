"""Input containers: turn one file into the APK pieces of one app.

A plain APK is one piece; a split bundle (.xapk, .apks, .apkm) is its base plus every split, each
read from memory (nothing is extracted). Anything else becomes a NotAnAndroidPackage error that
says what the file looks like, so the user learns why it was refused.
"""

from __future__ import annotations

from auditor.containers import aab, library
from auditor.containers.layouts import LAYOUTS, SPLIT_APKS, BundleLayout
from auditor.containers.sniff import describe_non_zip
from auditor.containers.zipsafe import ZipArchive
from auditor.errors import LimitExceeded, NotAnAndroidPackage
from auditor.limits import Limits
from auditor.records import record

MANIFEST = "AndroidManifest.xml"


@record
class ApkPiece:
    """One APK of an app: `name` is its path in the bundle ("" for a plain APK), `data` its bytes.

    A plain APK is deliberately not named after its file: a result must depend on the bytes
    alone, so that the result cache can serve it for a copy under any name (the report names the
    input anyway). `manifest` says how its AndroidManifest.xml is stored: "binary" (an APK),
    "proto" (an App Bundle module), "text" (an .aar) or "none" (a bare .dex or a zip of dex
    files such as a .jar: code without a manifest).
    """

    name: str
    data: bytes
    archive: ZipArchive
    manifest: str = "binary"


@record
class OpenedInput:
    """An input file opened as one app: its container kind and APK pieces (base first)."""

    container: str
    pieces: tuple[ApkPiece, ...]
    outer: ZipArchive


CODE_ONLY = ("dex", "jar", "aar")
"""Containers of code without an app manifest (a library's manifest names no app)."""


def open_input(data: bytes, limits: Limits) -> OpenedInput:
    """Identify the container of `data` and open every APK in it (from its bytes, never its name)."""
    if len(data) < 22 or b"PK\x05\x06" not in data[-65557:]:
        if data.startswith(library.DEX_MAGIC):  # a bare dex; a dex with a zip behind it (Janus) is read as the APK
            wrapped = library.dex_as_zip(data)
            archive = ZipArchive.from_bytes(wrapped, limits)
            return OpenedInput("dex", (ApkPiece("", wrapped, archive, manifest="none"),), archive)
        raise NotAnAndroidPackage(f"not an Android package ({describe_non_zip(data)})")
    archive = ZipArchive.from_bytes(data, limits)
    names = archive.names()
    if MANIFEST in names:
        aar = any(m in names for m in library.AAR_MARKERS) and library.is_text_manifest(archive.head(MANIFEST, 64))
        kind = "aar" if aar else "apk"
        return OpenedInput(kind, (ApkPiece("", data, archive, manifest="text" if kind == "aar" else "binary"),), archive)
    if aab.is_bundle(names):
        return OpenedInput("aab", _open_app_bundle(data, archive), archive)
    layout = next((layout for layout in LAYOUTS if layout.matches(names)), None)
    if layout is None and SPLIT_APKS.apk_entries(names):
        layout = SPLIT_APKS  # split APKs pulled from a phone and zipped, with no metadata file
    if layout is None and library.has_dex(names):
        return OpenedInput("jar", (ApkPiece("", data, archive, manifest="none"),), archive)
    if layout is None:
        raise NotAnAndroidPackage(f"not an Android package ({_describe_zip(names)})")
    return OpenedInput(layout.container, _open_bundle(archive, layout, limits, depth=1), archive)


def _open_app_bundle(data: bytes, archive: ZipArchive) -> tuple[ApkPiece, ...]:
    found = aab.modules(archive.names())
    if not found:
        raise NotAnAndroidPackage("an Android App Bundle (.aab) without any module manifest")
    return tuple(ApkPiece(f"{module}/", data, aab.module_archive(archive, module), manifest="proto") for module in found)


def _open_bundle(archive: ZipArchive, layout: BundleLayout, limits: Limits, depth: int) -> tuple[ApkPiece, ...]:
    if depth > limits.max_nesting:
        raise LimitExceeded(f"bundles nested deeper than {limits.max_nesting} (limit --max-nesting)", "--max-nesting")
    pieces = []
    for name in layout.apk_entries(archive.names()):
        data = archive.read(name)
        inner = ZipArchive.from_bytes(data, limits, label=name, budget=archive.budget)
        inner_names = inner.names()
        if MANIFEST in inner_names:
            pieces.append(ApkPiece(name, data, inner))
            continue
        nested = next((lay for lay in LAYOUTS if lay.matches(inner_names)), None)
        if nested is None:
            raise NotAnAndroidPackage(f"bundle entry {name!r} is not an APK ({_describe_zip(inner_names)})")
        pieces.extend(_open_bundle(inner, nested, limits, depth + 1))
    if not pieces:
        raise NotAnAndroidPackage(f"{layout.container} bundle without any APK")
    return tuple(sorted(pieces, key=lambda p: (not layout.is_base(p.name), p.name)))


def _describe_zip(names: list[str]) -> str:
    if not names:
        return "an empty zip archive"
    if library.has_classes(names):
        return "a Java archive of JVM class files: only dex code is analysed (convert it with d8 first)"
    return f"a zip archive of {len(names)} entries without AndroidManifest.xml"
