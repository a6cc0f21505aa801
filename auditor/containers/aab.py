"""Android App Bundles (.aab): every module seen as an APK piece, with its protobuf manifest.

A bundle holds one directory per module (base/, feature modules), each with manifest/ (the
manifest as an aapt2 protobuf XmlNode), dex/, assets/, lib/, res/ and root/. Each module becomes
an ApkPiece whose archive maps those names back to where an APK has them (dex/classes.dex ->
classes.dex), without copying: the base module first, feature modules as splits (their manifest
says split="...").
"""

from __future__ import annotations

from auditor.containers.zipsafe import ZipArchive

MODULE_MANIFEST = "manifest/AndroidManifest.xml"
BUNDLE_CONFIG = "BundleConfig.pb"
PLACES = (("manifest/", ""), ("dex/", ""), ("root/", ""), ("assets/", "assets/"), ("lib/", "lib/"), ("res/", "res/"))
"""(folder in a module, where an APK has its entries)."""


def is_bundle(names: list[str]) -> bool:
    return BUNDLE_CONFIG in names or f"base/{MODULE_MANIFEST}" in names


def modules(names: list[str]) -> list[str]:
    """Module folders that have a manifest, base first."""
    found = sorted({n[: -len(MODULE_MANIFEST) - 1] for n in names if n.endswith("/" + MODULE_MANIFEST) and n.count("/") == 2})
    return sorted(found, key=lambda m: (m != "base", m))


def module_archive(archive: ZipArchive, module: str) -> ZipArchive:
    """The module's entries under their APK names (dex/classes.dex -> classes.dex)."""
    mapping: dict[str, str] = {}
    prefix = module + "/"
    for name in archive.names():
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix):]
        for folder, target in PLACES:
            if rest.startswith(folder):
                mapping.setdefault(target + rest[len(folder):], name)
                break
        else:
            mapping.setdefault(rest, name)  # resources.pb, assets.pb, native.pb
    return archive.renamed(mapping, prefix)
