"""The protobuf manifest of an Android App Bundle (.aab), turned into an element tree.

bundletool stores each module's manifest as an aapt2 `XmlNode` message (Resources.proto). The
protobuf library decodes it from a descriptor built here for the five messages a manifest uses;
the compiled attribute value (`Item`, field 6) is kept as raw bytes, because the attribute's
source text (field 3) already says what a manifest reader needs ("21", "@string/app_name",
"android.permission.READ_CONTACTS"). The tree has the same shape as the binary-XML one, so the
same code reads permissions, components and SDK levels from both.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from typing import Any

from auditor.errors import CorruptArchive

PROTO_SOURCE = "https://android.googlesource.com/platform/frameworks/base/+/refs/heads/main/tools/aapt2/Resources.proto"
MAX_DEPTH = 64
"""Nesting of a real manifest is under 10; a deeper tree is hostile and is cut."""

# (message, [(field name, number, type, label, message type)]); types and labels per descriptor.proto
_STRING, _UINT32, _MESSAGE, _BYTES = 9, 13, 11, 12
_OPTIONAL, _REPEATED = 1, 3
MESSAGES: tuple[tuple[str, tuple[tuple[str, int, int, int, str], ...]], ...] = (
    ("SourcePosition", (("line_number", 1, _UINT32, _OPTIONAL, ""), ("column_number", 2, _UINT32, _OPTIONAL, ""))),
    ("XmlNamespace", (("prefix", 1, _STRING, _OPTIONAL, ""), ("uri", 2, _STRING, _OPTIONAL, ""),
                      ("source", 3, _MESSAGE, _OPTIONAL, ".aapt.pb.SourcePosition"))),
    ("XmlAttribute", (("namespace_uri", 1, _STRING, _OPTIONAL, ""), ("name", 2, _STRING, _OPTIONAL, ""),
                      ("value", 3, _STRING, _OPTIONAL, ""), ("source", 4, _MESSAGE, _OPTIONAL, ".aapt.pb.SourcePosition"),
                      ("resource_id", 5, _UINT32, _OPTIONAL, ""), ("compiled_item", 6, _BYTES, _OPTIONAL, ""))),
    ("XmlElement", (("namespace_declaration", 1, _MESSAGE, _REPEATED, ".aapt.pb.XmlNamespace"),
                    ("namespace_uri", 2, _STRING, _OPTIONAL, ""), ("name", 3, _STRING, _OPTIONAL, ""),
                    ("attribute", 4, _MESSAGE, _REPEATED, ".aapt.pb.XmlAttribute"),
                    ("child", 5, _MESSAGE, _REPEATED, ".aapt.pb.XmlNode"))),
    ("XmlNode", (("element", 1, _MESSAGE, _OPTIONAL, ".aapt.pb.XmlElement"), ("text", 2, _STRING, _OPTIONAL, ""),
                 ("source", 3, _MESSAGE, _OPTIONAL, ".aapt.pb.SourcePosition"))),
)
"""The subset of aapt2's Resources.proto (package aapt.pb) that an XML file uses; field numbers from PROTO_SOURCE."""


@cache
def _xml_node_class() -> Any:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    file = descriptor_pb2.FileDescriptorProto(name="auditor/aapt2_xml.proto", package="aapt.pb", syntax="proto3")
    for name, fields in MESSAGES:
        message = file.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            field = message.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = type_name
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("aapt.pb.XmlNode"))


def proto_manifest_root(data: bytes, piece: str) -> Any:
    """The manifest element tree of a protobuf XmlNode; CorruptArchive when it is not one."""
    from google.protobuf.message import DecodeError

    node = _xml_node_class()()
    try:
        node.ParseFromString(data)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise CorruptArchive(f"{piece}: AndroidManifest.xml is not a protobuf XmlNode ({type(exc).__name__})") from exc
    if not node.HasField("element") or node.element.name != "manifest":
        raise CorruptArchive(f"{piece}: AndroidManifest.xml is not a protobuf manifest")
    return _element(node.element, 0)


def _element(message: Any, depth: int) -> ET.Element:
    attributes = {(f"{{{a.namespace_uri}}}{a.name}" if a.namespace_uri else a.name): a.value for a in message.attribute}
    element = ET.Element(message.name, attributes)
    if depth < MAX_DEPTH:
        for child in message.child:
            if child.HasField("element"):
                element.append(_element(child.element, depth + 1))
    return element
