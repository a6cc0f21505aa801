"""Manifest facts of one APK piece, read with androguard's AXML and ARSC parsers.

androguard's APK class would re-open the zip with its own reader, which is what tampered files
break; here the bytes come from our own tolerant zip reader and androguard only parses the binary
XML and resource table. The resource table is parsed only when the label is a reference, because
it is the expensive part of large APKs (framework-res.apk is 45 MB of resources).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from auditor.containers import ApkPiece
from auditor.errors import CorruptArchive
from auditor.extract.arsc import resolve_string
from auditor.model import Component, PermissionUse
from auditor.ruleset.ruleset import RuleSet

ANDROID_NS = "{http://schemas.android.com/apk/res/android}"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class PieceManifest:
    """One piece's manifest, before pieces are merged into one app."""

    piece: str
    package: str
    split: str | None
    label: str | None
    version_name: str | None
    version_code: int | None
    min_sdk: int | None
    target_sdk: int | None
    has_uses_sdk: bool
    has_code: bool
    permissions: tuple[PermissionUse, ...]
    components: tuple[Component, ...]
    anomalies: tuple[str, ...] = ()


def _attr(element: Any, name: str) -> str | None:
    value = element.get(ANDROID_NS + name)
    if value is None:
        value = element.get(name)
    return None if value is None else str(value)


def _int(value: str | None) -> int | None:
    """An integer attribute, or None when absent, malformed or beyond 64 bits (the platform's widest)."""
    if value is None or len(value) > 24:
        return None
    try:
        number = int(value, 0)
    except ValueError:
        return None
    return number if -(1 << 63) <= number < (1 << 64) else None


def quiet_androguard() -> None:
    """androguard logs every parse step at DEBUG through loguru; that is noise and costs time."""
    from loguru import logger

    logger.disable("androguard")


@contextmanager
def _lenient_strings() -> Iterator[None]:
    """Read unterminated UTF-16 pool strings as empty, as Android's ResStringPool does.

    The platform logs "string is not null-terminated" and treats that one string as missing; the
    rest of the manifest still installs. androguard raises instead (Geinimi trips it), so the
    parse is retried with this behaviour. Workers are single-threaded, so the swap is safe.
    """
    from androguard.core.axml import StringBlock

    strict = StringBlock._decode16

    def lenient(self: Any, offset: int) -> str:
        try:
            return str(strict(self, offset))
        except MemoryError:
            raise  # a resource running out is not a bad string (and must not be cached as one)
        except Exception:
            return ""

    StringBlock._decode16 = lenient
    try:
        yield
    finally:
        StringBlock._decode16 = strict


def _printer_root(raw: bytes) -> Any:
    from androguard.core.axml import AXMLPrinter

    printer = AXMLPrinter(raw)
    return printer.get_xml_obj() if printer.is_valid() else None


def _parse_xml(raw: bytes, piece: str) -> tuple[Any, tuple[str, ...]]:
    """The manifest's element tree, and the anomalies met while reading it."""
    from androguard.core.axml import ResParserError

    quiet_androguard()
    anomalies: tuple[str, ...] = ()
    where = f"{piece}: " if piece else ""  # a plain APK's piece has no name
    try:
        try:
            root = _printer_root(raw)
        except ResParserError:
            with _lenient_strings():
                root = _printer_root(raw)
            anomalies = ("manifest string pool has unterminated strings (read as empty, as Android does)",)
    except MemoryError:
        raise  # not a corrupt manifest: the pipeline reports the memory limit and nothing is cached
    except Exception as exc:  # androguard raises many types on malformed AXML
        raise CorruptArchive(f"{where}AndroidManifest.xml is not valid binary XML ({type(exc).__name__})") from exc
    if root is None or root.tag != "manifest":
        raise CorruptArchive(f"{where}AndroidManifest.xml is not valid binary XML")
    return root, anomalies


class ResourceStrings:
    """Resolves string references of one piece, reading resources.arsc at most once.

    Used for the label and for versionName, which may also be a string resource. Our targeted
    reader (auditor/extract/arsc.py) answers in microseconds; androguard's full ARSCParser, which
    costs seconds on large tables, is only the fallback for what it cannot read.
    """

    def __init__(self, piece: ApkPiece) -> None:
        self.piece = piece
        self._table: bytes | None = None

    def resolve(self, value: str | None) -> str | None:
        """Turn '@7F0B001F' (or '@android:01040082') into the string it names, in the default configuration."""
        if not value or not value.startswith("@") or not self.piece.archive.has("resources.arsc"):
            return value
        try:
            resource_id = int(value[1:].rsplit(":", 1)[-1], 16)
        except ValueError:
            return value
        if self._table is None:
            self._table = self.piece.archive.read("resources.arsc")
        resolved = resolve_string(self._table, resource_id)
        return resolved if resolved is not None else _resolve_with_androguard(self._table, resource_id, value)


def _resolve_with_androguard(table: bytes, resource_id: int, label: str) -> str:
    from androguard.core.axml import ARSCParser, ARSCResTableConfig

    try:
        configs = ARSCParser(table).get_resolved_res_configs(resource_id, ARSCResTableConfig.default_config())
        return str(configs[0][1]) if configs else label
    except MemoryError:
        raise
    except Exception:
        return label


def _permissions(root: Any, split: str | None) -> tuple[PermissionUse, ...]:
    found = []
    for tag in ("uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m"):
        for element in root.iter(tag):
            name = _attr(element, "name")
            if name:
                found.append(PermissionUse(name, _int(_attr(element, "maxSdkVersion")), False, split, tag))
    return tuple(found)


def _components(root: Any, split: str | None, rules: RuleSet) -> tuple[Component, ...]:
    """Receivers and services whose intent actions the API catalog names (SMS, notifications)."""
    actions = {e.match: e for e in rules.apis if e.kind == "intent_action"}
    permissions = {e.match: e for e in rules.apis if e.kind == "component_permission"}
    out = []
    for tag in ("receiver", "service"):
        for element in root.iter(tag):
            name = _attr(element, "name") or "?"
            for action in element.iter("action"):
                entry = actions.get(_attr(action, "name") or "")
                if entry is not None:
                    out.append(Component(entry.role, name, entry.match, split))
            entry = permissions.get(_attr(element, "permission") or "")
            if entry is not None:
                out.append(Component(entry.role, name, entry.match, split))
    return tuple(dict.fromkeys(out))


def app_label(application: Any) -> str | None:
    """The application's label, else its launcher activity's, as androguard's get_app_name reads it.

    Some apps (Obad) label only the launcher activity; the launcher shows that name, so a report
    that left the label empty would hide the one name a user knows the app by.
    """
    if application is None:
        return None
    label = _attr(application, "label")
    if label:
        return label
    for activity in (*application.iter("activity"), *application.iter("activity-alias")):
        categories = {_attr(c, "name") for c in activity.iter("category")}
        actions = {_attr(a, "name") for a in activity.iter("action")}
        if "android.intent.action.MAIN" in actions and "android.intent.category.LAUNCHER" in categories:
            return _attr(activity, "label") or None
    return None


def read_piece_manifest(piece: ApkPiece, rules: RuleSet) -> PieceManifest:
    """Parse the manifest of one APK piece."""
    root, anomalies = _parse_xml(piece.archive.read("AndroidManifest.xml"), piece.name)
    split = root.get("split")
    uses_sdk = root.find("uses-sdk")
    application = root.find("application")
    label = app_label(application)
    strings = ResourceStrings(piece)
    return PieceManifest(
        piece=piece.name,
        package=root.get("package") or "",
        split=split,
        label=strings.resolve(label) if split is None else label,
        version_name=strings.resolve(_attr(root, "versionName")) if split is None else _attr(root, "versionName"),
        version_code=_int(_attr(root, "versionCode")),
        min_sdk=_int(_attr(uses_sdk, "minSdkVersion")) if uses_sdk is not None else None,
        target_sdk=_int(_attr(uses_sdk, "targetSdkVersion")) if uses_sdk is not None else None,
        has_uses_sdk=uses_sdk is not None,
        has_code=application is None or _attr(application, "hasCode") not in ("false", "0"),
        permissions=_permissions(root, split),
        components=_components(root, split, rules),
        anomalies=anomalies,
    )
