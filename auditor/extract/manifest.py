"""Manifest facts of one APK piece, read as the Android platform reads them.

The binary XML is parsed by our own reader (auditor/extract/axml.py, libandroidfw's rules) and
walked the way the package parser walks it (PackageParser / ParsingPackageUtils, Android 10-14):
- only `<uses-permission*>` and `<uses-sdk>` directly under `<manifest>`, the first
  `<application>`, its `<receiver>`/`<service>` children, their `<intent-filter>` children and
  those filters' `<action>` children count; everything else is skipped as the device skips it;
- android: attributes are found by resource id through the resource map (TypedArray), never by
  namespace string; `package` and `split` by name with no namespace, an `<action>`'s name by the
  android namespace string, as the platform does;
- string values come from the typed data, as TypedArray reads them.
Where a by-name reading (what androguard and most tools do) sees something else, or the file uses
a layout no build tool writes, the difference is kept as an anomaly (reported as `anti_analysis`).
The resource table is read only for a label or versionName that is a reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import field

from auditor.containers import ApkPiece
from auditor.errors import CorruptArchive, LimitExceeded
from auditor.extract.arsc import resolve_string
from auditor.extract.axml import (
    ANDROID_NS,
    END_TAG,
    START_TAG,
    TEXT,
    TYPE_FIRST_INT,
    TYPE_LAST_INT,
    TYPE_NULL,
    TYPE_REFERENCE,
    TYPE_STRING,
    Attribute,
    AxmlError,
    AxmlLimit,
    Document,
    Node,
    coerce_to_string,
    retrieve,
)
from auditor.model import Component, PermissionUse
from auditor.records import record
from auditor.ruleset.ruleset import RuleSet

LABEL, NAME, PERMISSION, HAS_CODE = 0x01010001, 0x01010003, 0x01010006, 0x0101000C
MIN_SDK, VERSION_CODE, VERSION_NAME = 0x0101020C, 0x0101021B, 0x0101021C
TARGET_SDK, MAX_SDK, VERSION_CODE_MAJOR = 0x01010270, 0x01010271, 0x01010576
"""android.R.attr ids the package parser asks for (frameworks/base/core/res/res/values/public.xml)."""
PERMISSION_TAGS = ("uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m")
COMPONENT_TAGS = ("receiver", "service")
ACTIVITY_TAGS = ("activity", "activity-alias")
LAUNCHER_ACTION, LAUNCHER_CATEGORY = "android.intent.action.MAIN", "android.intent.category.LAUNCHER"
_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|[0-9]+)")
_SURROGATE = re.compile("[\ud800-\udfff]")


@record
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
    application_class: str | None = None
    component_classes: tuple[str, ...] = ()
    """Classes of every activity, service, receiver and provider the manifest declares."""


def class_name(package: str, name: str) -> str:
    """The class an android:name means: '.Main' and 'Main' are relative to the package."""
    if name.startswith("."):
        return package + name
    return name if "." in name else f"{package}.{name}"


def quiet_androguard() -> None:
    """androguard logs every parse step at DEBUG through loguru; that is noise and costs time."""
    from loguru import logger

    logger.disable("androguard")


class ResourceStrings:
    """Resolves string references of one piece, reading resources.arsc at most once.

    Used for the label and for versionName, which may also be a string resource. Our targeted
    reader (auditor/extract/arsc.py) answers in microseconds; androguard's full ARSCParser, which
    costs seconds on large tables (and 0.3 s to import), is only the fallback for what it cannot read.
    """

    def __init__(self, piece: ApkPiece) -> None:
        self.piece = piece
        self._table: bytes | None = None

    def resolve(self, resource_id: int) -> str:
        """The string resource `resource_id` names in the default configuration, else '@7F0B001F'."""
        shown = f"@{'android:' if resource_id >> 24 == 1 else ''}{resource_id:08X}"
        if not self.piece.archive.has("resources.arsc"):
            return shown
        if self._table is None:
            self._table = self.piece.archive.read("resources.arsc", keep=True)  # the lending search reads it again
        resolved = resolve_string(self._table, resource_id)
        return resolved if resolved is not None else _resolve_with_androguard(self._table, resource_id, shown)


def _resolve_with_androguard(table: bytes, resource_id: int, shown: str) -> str:
    quiet_androguard()
    from androguard.core.axml import ARSCParser, ARSCResTableConfig

    try:
        configs = ARSCParser(table).get_resolved_res_configs(resource_id, ARSCResTableConfig.default_config())
        return str(configs[0][1]) if configs else shown
    except MemoryError:
        raise  # a resource running out is not an unreadable table (and must not be cached as one)
    except Exception:
        return shown


class _Parser:
    """XmlBlock.Parser over a Document: namespace nodes skipped, depth counted as Java counts it."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.depth = 0
        self.ended = False
        self._events = doc.events()
        self._dec_next = False

    def next(self) -> Node | None:
        """The next start tag, end tag or text; None at the end of the document (or its corruption)."""
        for node in self._events:
            if node.code not in (START_TAG, END_TAG, TEXT):
                continue
            if self._dec_next:
                self.depth -= 1
                self._dec_next = False
            if node.code == START_TAG:
                self.depth += 1
            elif node.code == END_TAG:
                self._dec_next = True
            return node
        self.ended = True
        return None

    def children(self) -> Iterator[Node]:
        """Start tags of the current element's children; the caller consumes each child's subtree
        (with `skip` or `children`) before asking for the next, as the package parser does."""
        outer = self.depth
        while (node := self.next()) is not None:
            if node.code == END_TAG and self.depth <= outer:
                return
            if node.code == START_TAG:
                yield node

    def skip(self) -> None:
        """XmlUtils.skipCurrentTag()."""
        for _child in self.children():
            pass

    def rest(self) -> Iterator[Node]:
        """The nodes the package parser never reaches (it stops at the end of <manifest>)."""
        return self._events


def _clean(text: str | None) -> str | None:
    """Java strings may hold lone surrogates; reports cannot encode them, so they become U+FFFD."""
    if text is None or not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _int(value: str | None) -> int | None:
    """An integer written as a string, or None when malformed or beyond 64 bits (the platform's widest)."""
    if value is None or len(value) > 24 or not _INT.fullmatch(value.strip()):
        return None
    number = int(value.strip(), 0) if not re.match(r"[-+]?0[0-9]", value.strip()) else int(value.strip(), 10)
    return number if -(1 << 63) <= number < (1 << 64) else None


def _signed(attr: Attribute) -> int:
    return attr.data - (1 << 32) if attr.data & 0x80000000 else attr.data


def _number(doc: Document, attr: Attribute | None) -> int | None:
    """An integer attribute: the typed data of an integer type; a string is parsed leniently (the
    platform reads a string minSdkVersion as a codename and refuses a string versionCode)."""
    if attr is None:
        return None
    if TYPE_FIRST_INT <= attr.type <= TYPE_LAST_INT:
        return _signed(attr)
    return _int(doc.typed_string(attr)) if attr.type == TYPE_STRING else None


def _text(doc: Document, attr: Attribute | None, strings: ResourceStrings | None) -> str | None:
    """TypedArray.getNonConfigurationString(): a literal string, a resolved string resource
    (`strings` None: shown as '@7F0B001F'), or the value coerced to text."""
    if attr is None or attr.type == TYPE_NULL:
        return None
    if attr.type == TYPE_STRING:
        return doc.typed_string(attr)
    if attr.type == TYPE_REFERENCE and attr.data:
        shown = f"@{'android:' if attr.data >> 24 == 1 else ''}{attr.data:08X}"
        return strings.resolve(attr.data) if strings is not None else shown
    return coerce_to_string(attr.type, attr.data)


def _boolean(doc: Document, attr: Attribute | None, default: bool) -> bool:
    """TypedArray.getBoolean(): integer data != 0; a string is true only if '1', 'true' or 'TRUE'."""
    if attr is None or attr.type == TYPE_NULL or attr.type == TYPE_REFERENCE:
        return default
    if TYPE_FIRST_INT <= attr.type <= TYPE_LAST_INT:
        return attr.data != 0
    return _text(doc, attr, None) in ("1", "true", "TRUE")


@record(frozen=False)
class _Reading:
    """What the package parser collects while it walks the manifest."""

    permissions: list[PermissionUse]
    components: list[Component]
    uses_sdk: dict[int, Attribute] | None = None
    application: dict[int, Attribute] | None = None
    launcher: dict[int, Attribute] | None = None
    classes: list[str] = field(default_factory=list)
    """Names of the activities, services, receivers and providers (for the unlisted-packer check)."""


class _ManifestWalk:
    """The package parser's walk over <manifest>'s children (Android 10 PackageParser)."""

    def __init__(self, doc: Document, split: str | None, rules: RuleSet) -> None:
        self.doc, self.split = doc, split
        self.parser = _Parser(doc)
        self.actions = {e.match: e for e in rules.apis if e.kind == "intent_action"}
        self.guarded = {e.match: e for e in rules.apis if e.kind == "component_permission"}
        self.reading = _Reading([], [])

    def styled(self, node: Node, *ids: int) -> dict[int, Attribute]:
        return retrieve(self.doc.attributes(node), ids)

    def manifest(self) -> None:
        for child in self.parser.children():
            tag = self.doc.name(child)
            if tag in PERMISSION_TAGS:
                self.permission(child, str(tag))
            elif tag == "uses-sdk":  # each one is applied in turn: the last wins
                self.reading.uses_sdk = self.styled(child, MIN_SDK, TARGET_SDK)
            elif tag == "application" and self.reading.application is None:
                self.reading.application = self.styled(child, LABEL, HAS_CODE, NAME)
                self.application()
                continue
            self.parser.skip()

    def permission(self, node: Node, tag: str) -> None:
        found = self.styled(node, NAME, MAX_SDK)
        self.doc.index_of(node, ANDROID_NS, "name")  # the by-name reading, while the attributes are at hand
        name = _clean(self.doc.typed_string(found[NAME])) if NAME in found else None
        if name:
            max_sdk = found.get(MAX_SDK)
            limit = _signed(max_sdk) if max_sdk and TYPE_FIRST_INT <= max_sdk.type <= TYPE_LAST_INT else None
            self.reading.permissions.append(PermissionUse(name, limit, False, self.split, tag))

    def application(self) -> None:
        for child in self.parser.children():
            tag = self.doc.name(child)
            if tag in COMPONENT_TAGS:
                self.component(child)
            elif tag in ACTIVITY_TAGS:
                self.activity(child, str(tag))
            elif tag == "provider":
                self.note_class(child)
                self.parser.skip()
            else:
                self.parser.skip()

    def note_class(self, node: Node) -> None:
        name = _clean(_text(self.doc, self.styled(node, NAME).get(NAME), None))
        if name:
            self.reading.classes.append(name)

    def activity(self, node: Node, tag: str) -> None:
        """Keep the first launcher activity's label: the launcher shows it when the app has none
        (Obad labels only its launcher activity "System")."""
        if tag == "activity":  # an alias names its target, not a class of its own
            self.note_class(node)
        found = self.styled(node, LABEL)
        names: set[str | None] = set()
        for _filter in self.filters():
            for item in self.parser.children():
                if self.doc.name(item) in ("action", "category"):
                    names.add(self.item_name(item))
                self.parser.skip()
        if self.reading.launcher is None and {LAUNCHER_ACTION, LAUNCHER_CATEGORY} <= names:
            self.reading.launcher = found

    def filters(self) -> Iterator[Node]:
        """The current component's <intent-filter> children (anything else is skipped)."""
        for child in self.parser.children():
            if self.doc.name(child) == "intent-filter":
                yield child
            else:
                self.parser.skip()

    def component(self, node: Node) -> None:
        found = self.styled(node, NAME, PERMISSION)
        name = _clean(_text(self.doc, found.get(NAME), None)) or "?"
        if name != "?":
            self.reading.classes.append(name)
        out = self.reading.components
        for _filter in self.filters():
            for item in self.parser.children():
                if self.doc.name(item) == "action":
                    action = self.item_name(item)
                    entry = self.actions.get(action or "")
                    if entry is not None:
                        out.append(Component(entry.role, name, entry.match, self.split))
                self.parser.skip()
        entry = self.guarded.get(_text(self.doc, found.get(PERMISSION), None) or "")
        if entry is not None:
            out.append(Component(entry.role, name, entry.match, self.split))

    def item_name(self, node: Node) -> str | None:
        """PackageParser.parseIntent(): an <action>'s or <category>'s
        getAttributeValue(ANDROID_RESOURCES, "name"), looked up by strings."""
        attr = self.doc.index_of(node, ANDROID_NS, "name")
        value = self.doc.value(attr) if attr is not None else None
        if value is None:
            self.doc.trick("an intent filter item without a readable android:name (the platform refuses to install the app)")
        return value


def _where(piece: str) -> str:
    return f"{piece}: " if piece else ""  # a plain APK's piece has no name


def _open(raw: bytes, piece: str) -> Document:
    try:
        return Document(raw)
    except AxmlLimit as exc:
        raise LimitExceeded(f"{_where(piece)}AndroidManifest.xml: {exc}") from exc
    except AxmlError as exc:
        raise CorruptArchive(f"{_where(piece)}AndroidManifest.xml is not valid binary XML ({exc})") from exc


def _root(doc: Document, parser: _Parser, piece: str) -> Node:
    """parsePackageSplitNames(): the first start tag, which must be <manifest>."""
    while (node := parser.next()) is not None and node.code != START_TAG:
        pass
    if node is None or doc.name(node) != "manifest":
        raise CorruptArchive(f"{_where(piece)}AndroidManifest.xml is not valid binary XML (no <manifest> element)")
    return node


def _by_name(doc: Document, node: Node, name: str) -> str | None:
    attr = doc.index_of(node, None, name)
    return doc.value(attr) if attr is not None else None


def read_piece_manifest(piece: ApkPiece, rules: RuleSet) -> PieceManifest:
    """Parse the manifest of one APK piece as the platform does (an App Bundle module's protobuf
    manifest, an .aar's text one, or none, by auditor/extract/manifest_tree.py)."""
    if piece.manifest != "binary":
        from auditor.extract.manifest_tree import read_tree_manifest

        return read_tree_manifest(piece, rules)
    try:
        return _read(piece, rules)
    except AxmlLimit as exc:
        raise LimitExceeded(f"{_where(piece.name)}AndroidManifest.xml: {exc}") from exc


def _read(piece: ApkPiece, rules: RuleSet) -> PieceManifest:
    doc = _open(piece.archive.read("AndroidManifest.xml"), piece.name)
    walk = _ManifestWalk(doc, None, rules)
    root = _root(doc, walk.parser, piece.name)
    split = _clean(_by_name(doc, root, "split"))
    walk.split = split
    package = _clean(_by_name(doc, root, "package")) or ""
    top = walk.styled(root, VERSION_CODE, VERSION_NAME, VERSION_CODE_MAJOR)
    walk.manifest()
    reading = walk.reading
    strings = ResourceStrings(piece) if split is None else None
    application = reading.application or {}
    _note_differences(doc, walk, piece.name)
    return PieceManifest(
        piece=piece.name,
        package=package,
        split=split,
        label=_clean(_text(doc, application.get(LABEL), strings) or _text(doc, (reading.launcher or {}).get(LABEL), strings)),
        version_name=_clean(_text(doc, top.get(VERSION_NAME), strings)),
        version_code=_version_code(doc, top),
        min_sdk=_number(doc, (reading.uses_sdk or {}).get(MIN_SDK)),
        target_sdk=_number(doc, (reading.uses_sdk or {}).get(TARGET_SDK)),
        has_uses_sdk=reading.uses_sdk is not None,
        has_code=_boolean(doc, application.get(HAS_CODE), True),
        permissions=tuple(reading.permissions),
        components=tuple(dict.fromkeys(reading.components)),
        anomalies=tuple(_clean(t) or "" for t in doc.tricks),
        application_class=class_name(package, app) if (app := _clean(_text(doc, application.get(NAME), None))) else None,
        component_classes=tuple(dict.fromkeys(class_name(package, n) for n in reading.classes)),
    )


def _version_code(doc: Document, top: dict[int, Attribute]) -> int | None:
    """PackageInfo.getLongVersionCode(): versionCodeMajor in the high 32 bits."""
    code = _number(doc, top.get(VERSION_CODE))
    major = _number(doc, top.get(VERSION_CODE_MAJOR))
    if code is None or not major or not TYPE_FIRST_INT <= top[VERSION_CODE].type <= TYPE_LAST_INT:
        return code
    return ((major & 0xFFFFFFFF) << 32) | (code & 0xFFFFFFFF)


def _note_differences(doc: Document, walk: _ManifestWalk, piece: str) -> None:
    """Compare the platform's reading with a by-name reading of the whole file (what androguard
    and most tools do) and note what differs: that difference is the trick."""
    if walk.parser.ended and doc.corrupt:
        doc.trick(f"{doc.corrupt} (the platform refuses to install the app)")
    after = sum(1 for node in walk.parser.rest() if node.code == START_TAG)
    naive = _by_name_permissions(doc)
    platform = {p.name for p in walk.reading.permissions}
    if naive - platform:
        doc.trick(f"permissions a by-name reading sees but the platform ignores: {_few(naive - platform)}")
    if platform - naive:
        doc.trick(f"permissions the platform requests but a by-name reading misses: {_few(platform - naive)}")
    if after:
        doc.trick(f"{after} elements after the end of <manifest> (the platform never reads them)")
    unreadable = doc.unreadable_strings()
    if unreadable:
        doc.trick(f"{unreadable} strings of the manifest's pool cannot be read (the platform reads only those it needs)")


def _few(names: set[str]) -> str:
    shown = sorted(names)[:3]
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(repr(n)[1:-1] for n in shown) + more


def _by_name_permissions(doc: Document) -> set[str]:
    """uses-permission names found anywhere by namespace and name strings, from the raw value."""
    found = set()
    for node in doc.events():
        if node.code == START_TAG and doc.name(node) in PERMISSION_TAGS:
            attr = doc.index_of(node, ANDROID_NS, "name")
            value = doc.value(attr) if attr is not None else None
            if value:
                found.add(value)
    return found
