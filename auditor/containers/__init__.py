"""Input containers: turn one file into the APK pieces of one app.

A plain APK is one piece; a split bundle (.xapk, .apks, .apkm) is its base plus every split, each
read from memory (nothing is extracted). Anything else becomes a NotAnAndroidPackage error that
says what the file looks like, so the user learns why it was refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.containers.layouts import LAYOUTS, BundleLayout
from auditor.containers.sniff import describe_non_zip
from auditor.containers.zipsafe import ZipArchive
from auditor.errors import LimitExceeded, NotAnAndroidPackage
from auditor.limits import Limits

MANIFEST = "AndroidManifest.xml"


@dataclass(frozen=True)
class ApkPiece:
    """One APK of an app: `name` is its path in the bundle ("" for a plain APK), `data` its bytes.

    A plain APK is deliberately not named after its file: a result must depend on the bytes
    alone, so that the result cache can serve it for a copy under any name (the report names the
    input anyway)."""

    name: str
    data: bytes
    archive: ZipArchive


@dataclass(frozen=True)
class OpenedInput:
    """An input file opened as one app: its container kind and APK pieces (base first)."""

    container: str
    pieces: tuple[ApkPiece, ...]
    outer: ZipArchive


def open_input(data: bytes, limits: Limits) -> OpenedInput:
    """Identify the container of `data` and open every APK in it (from its bytes, never its name)."""
    if len(data) < 22 or b"PK\x05\x06" not in data[-65557:]:
        raise NotAnAndroidPackage(f"not an Android package ({describe_non_zip(data)})")
    archive = ZipArchive.from_bytes(data, limits)
    names = archive.names()
    if MANIFEST in names:
        return OpenedInput("apk", (ApkPiece("", data, archive),), archive)
    layout = next((layout for layout in LAYOUTS if layout.matches(names)), None)
    if layout is None:
        raise NotAnAndroidPackage(f"not an Android package ({_describe_zip(names)})")
    return OpenedInput(layout.container, _open_bundle(archive, layout, limits, depth=1), archive)


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
    if "base/manifest/AndroidManifest.xml" in names or "BundleConfig.pb" in names:
        return "an Android App Bundle (.aab): a publishing format, not an installable APK"
    if any(n.endswith(".dex") for n in names):
        return "a zip holding dex code but no AndroidManifest.xml"
    return f"a zip archive of {len(names)} entries without AndroidManifest.xml"
