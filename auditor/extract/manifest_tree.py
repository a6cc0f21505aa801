"""Manifests that are not binary XML: an App Bundle module's (protobuf), an .aar's (plain text), or none.

Both come as an element tree (manifest_proto.py builds one from the protobuf XmlNode; expat parses
the text, refusing entity-expansion bombs), read here by attribute name, which is how bundletool
and the Android Gradle plugin write them. A bare .dex or a jar has no manifest: an empty one.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from auditor.containers import ApkPiece
from auditor.errors import CorruptArchive
from auditor.extract.manifest import PERMISSION_TAGS, PieceManifest, class_name
from auditor.extract.manifest_proto import proto_manifest_root
from auditor.model import Component, PermissionUse
from auditor.ruleset.ruleset import RuleSet

ANDROID = "{http://schemas.android.com/apk/res/android}"
CODE_TAGS = ("activity", "service", "receiver", "provider")


def _attr(element: Any, name: str) -> str | None:
    if element is None:
        return None
    value = element.get(ANDROID + name)
    return None if value is None else str(value)


def _int(value: str | None) -> int | None:
    try:
        return int(value, 0) if value is not None and len(value) <= 24 else None
    except ValueError:
        return None


def _root(piece: ApkPiece) -> Any:
    if piece.manifest == "none":
        return ET.Element("manifest")
    raw = piece.archive.read("AndroidManifest.xml")
    if piece.manifest == "proto":
        return proto_manifest_root(raw, piece.name)
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise CorruptArchive(f"{piece.name}: AndroidManifest.xml is not well-formed XML ({exc})") from exc
    if root.tag != "manifest":
        raise CorruptArchive(f"{piece.name}: AndroidManifest.xml has no <manifest> root")
    return root


def _components(root: Any, split: str | None, rules: RuleSet) -> tuple[Component, ...]:
    """Receivers and services whose intent actions or permission the API catalog names."""
    actions = {e.match: e for e in rules.apis if e.kind == "intent_action"}
    guarded = {e.match: e for e in rules.apis if e.kind == "component_permission"}
    out = []
    for tag in ("receiver", "service"):
        for element in root.iter(tag):
            name = _attr(element, "name") or "?"
            for action in element.iter("action"):
                entry = actions.get(_attr(action, "name") or "")
                if entry is not None:
                    out.append(Component(entry.role, name, entry.match, split))
            entry = guarded.get(_attr(element, "permission") or "")
            if entry is not None:
                out.append(Component(entry.role, name, entry.match, split))
    return tuple(dict.fromkeys(out))


def read_tree_manifest(piece: ApkPiece, rules: RuleSet) -> PieceManifest:
    root = _root(piece)
    package = root.get("package") or ""
    split = root.get("split")
    uses_sdk = root.find("uses-sdk")
    application = root.find("application")
    permissions = tuple(PermissionUse(name, _int(_attr(e, "maxSdkVersion")), False, split, tag)
                        for tag in PERMISSION_TAGS for e in root.iter(tag) if (name := _attr(e, "name")))
    app_name = _attr(application, "name")
    classes = [n for tag in CODE_TAGS for e in root.iter(tag) if (n := _attr(e, "name"))]
    return PieceManifest(
        piece=piece.name, package=package, split=split,
        label=_attr(application, "label"), version_name=_attr(root, "versionName"), version_code=_int(_attr(root, "versionCode")),
        min_sdk=_int(_attr(uses_sdk, "minSdkVersion")), target_sdk=_int(_attr(uses_sdk, "targetSdkVersion")),
        has_uses_sdk=uses_sdk is not None,
        has_code=_attr(application, "hasCode") not in ("false", "0"),
        permissions=permissions,
        components=_components(root, split, rules),
        application_class=class_name(package, app_name) if app_name else None,
        component_classes=tuple(dict.fromkeys(class_name(package, n) for n in classes)),
    )
