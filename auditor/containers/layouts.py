"""The split-bundle layouts this tool opens: one class per container format.

Each layout knows how to recognise its archive from the entry names and which entries are the
APKs of the app; the base APK is listed first so that its manifest leads the merge.
"""

from __future__ import annotations

import posixpath

from auditor.records import record


@record
class BundleLayout:
    container: str
    markers: tuple[str, ...]
    apk_dirs: tuple[str, ...]
    base_names: tuple[str, ...]

    def matches(self, names: list[str]) -> bool:
        present = set(names)
        return any(marker in present for marker in self.markers) and bool(self.apk_entries(names))

    def apk_entries(self, names: list[str]) -> list[str]:
        """APK entries of the bundle; a universal or standalone APK only when no splits exist."""
        apks = [n for n in names if n.endswith(".apk") and posixpath.dirname(n) in self.apk_dirs]
        splits = [n for n in apks if not posixpath.basename(n).startswith(("universal", "standalone"))]
        return splits or apks

    def is_base(self, name: str) -> bool:
        base = posixpath.basename(name)
        return base in self.base_names or base.startswith("base-master") or base == "universal.apk"


LAYOUTS: tuple[BundleLayout, ...] = (
    # APKPure: manifest.json lists split_apks; APKs at the root, base named after the package.
    BundleLayout("xapk", ("manifest.json",), ("",), ("base.apk",)),
    # bundletool: toc.pb with splits/, standalones/ or universal.apk.
    BundleLayout("apks", ("toc.pb",), ("", "splits", "standalones"), ("base-master.apk",)),
    # SAI (Split APKs Installer): flat APKs with meta.sai_v1.json or meta.sai_v2.json.
    BundleLayout("apks", ("meta.sai_v1.json", "meta.sai_v2.json"), ("",), ("base.apk",)),
    # APKMirror: info.json plus APKs at the root (unencrypted only).
    BundleLayout("apkm", ("info.json",), ("",), ("base.apk",)),
)

SPLIT_APKS = BundleLayout("apks", (), ("", "splits"), ("base.apk", "base-master.apk"))
"""A zip of split APKs without any metadata file (pulled from a phone with adb and zipped); the
base is the piece whose manifest has no split name, whatever its file is called."""
